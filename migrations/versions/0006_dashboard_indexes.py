"""dashboard indexes: responses by campaign, status and channel

Every dashboard query selects one campaign's final responses of one sample (paper and web, or
QR and kiosk). With (campaign_id, status) alone, the QR sample's queries read every final
response of the campaign and drop nine in ten by channel; with the channel in the index they
read only their own rows. The old index is a prefix of the new one, so it goes.

Revision ID: 0006_dashboard_indexes
Revises: 0005_submit_speed
Create Date: 2026-11-23 13:40:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = "0006_dashboard_indexes"
down_revision = "0005_submit_speed"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_responses_campaign_status_channel",
            ["campaign_id", "status", "channel"],
            unique=False,
        )
        batch_op.drop_index("ix_responses_campaign_status")


def downgrade():
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_responses_campaign_status", ["campaign_id", "status"], unique=False
        )
        batch_op.drop_index("ix_responses_campaign_status_channel")
