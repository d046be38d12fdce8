"""no report snapshots: reports are computed from tallied cells on every request, so the
stored copies (and the background refreshes that wrote them) are gone

Revision ID: 0021_no_snapshots
Revises: 0020_tallies
Create Date: 2026-12-03 15:50:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0021_no_snapshots"
down_revision = "0020_tallies"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_table("report_snapshots")


def downgrade():
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
