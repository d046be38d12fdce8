"""report snapshots: computed reports shared by every app process

The report cache lived in each process: every gunicorn worker, and every restart, computed
the same reports again (seconds to minutes on a big campaign). The latest computation of each
report now lives in the database with the fingerprint of its inputs, so any process can serve
it, and, while fieldwork goes on, the dashboard can show the last one at once (saying so)
while a fresh one is computed.

Revision ID: 0008_report_snapshots
Revises: 0007_response_bits
Create Date: 2026-11-23 16:30:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0008_report_snapshots"
down_revision = "0007_response_bits"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "report_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_report_snapshots_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_snapshots")),
        sa.UniqueConstraint("campaign_id", "key", name=op.f("uq_report_snapshots_campaign_id_key")),
    )


def downgrade():
    op.drop_table("report_snapshots")
