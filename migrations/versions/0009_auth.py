"""auth: a session epoch per user; responses held out of the estimates

A signed session cookie stayed valid after logout, a password reset or deactivation, since
nothing on the server remembered that it had ended. Every session now names the user's
epoch, and raising the epoch ends them all.

Revision ID: 0009_auth
Revises: 0008_report_snapshots
Create Date: 2026-12-03 09:30:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0009_auth"
down_revision = "0008_report_snapshots"
branch_labels = None
depends_on = None


HELD_FLAGS = ("burst", "burst_client")


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_epoch", sa.Integer(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("held", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    responses = sa.table(
        "responses", sa.column("id", sa.Integer), sa.column("flags", sa.JSON), sa.column("held")
    )
    conn = op.get_bind()
    # Flags are a JSON list (text in SQLite, json in PostgreSQL): read them in Python.
    held = [
        row.id
        for row in conn.execute(sa.select(responses.c.id, responses.c.flags))
        if row.flags and any(flag in HELD_FLAGS for flag in row.flags)
    ]
    for start in range(0, len(held), 1000):
        conn.execute(
            responses.update()
            .where(responses.c.id.in_(held[start : start + 1000]))
            .values(held=True)
        )


def downgrade():
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.drop_column("held")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_epoch")
