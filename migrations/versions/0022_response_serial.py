"""responses by serial: which household responded is read on every report, by joining the
campaign's forms to their responses on the serial; without an index the join read every
response of the campaign (the desk ratings included)

Revision ID: 0022_response_serial
Revises: 0021_no_snapshots
Create Date: 2026-12-03 18:30:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0022_response_serial"
down_revision = "0021_no_snapshots"
branch_labels = None
depends_on = None


def upgrade():
    # A plain CREATE INDEX on both databases: a batch (table copy) on SQLite would drop the
    # tally triggers on responses.
    op.create_index(
        "ix_responses_serial",
        "responses",
        ["serial"],
        sqlite_where=sa.text("serial IS NOT NULL"),
        postgresql_where=sa.text("serial IS NOT NULL"),
    )


def downgrade():
    op.drop_index("ix_responses_serial", table_name="responses")
