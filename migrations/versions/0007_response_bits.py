"""response bits: each response's answers folded into bit masks for the dashboard

A cold dashboard report read every answer row of the campaign (~40 per response) to fold them
into per-response masks: 8 s at 100,000 responses on SQLite, minutes at a million on
PostgreSQL. Answers never change once stored, so the masks are now kept in ``response_bits``
(filled by the first report that needs them) and a report reads one row per response and
block. The table starts empty: the first report after the upgrade fills it.

Revision ID: 0007_response_bits
Revises: 0006_dashboard_indexes
Create Date: 2026-11-23 16:40:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0007_response_bits"
down_revision = "0006_dashboard_indexes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "response_bits",
        sa.Column("response_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("layout", sa.String(length=16), nullable=False),
        sa.Column("block", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("bits", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name=op.f("fk_response_bits_response_id_responses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("response_id", "layout", "block", name=op.f("pk_response_bits")),
        sqlite_with_rowid=False,
    )


def downgrade():
    op.drop_table("response_bits")
