"""auth: responses held out of the estimates

Burst-flagged responses were stored and counted like any other. They are now held out of
every estimate until an analyst releases them; responses already flagged as bursts start
held, as they would be if they came in today.

Revision ID: 0012_auth_held
Revises: 0011_sae
Create Date: 2026-12-03 10:25:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0012_auth_held"
down_revision = "0011_sae"
branch_labels = None
depends_on = None

HELD_FLAGS = ("burst", "burst_client")
HELD_CHANNELS = ("qr", "kiosk")  # desk ratings; invitations answer once by construction


def upgrade():
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("held", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    responses = sa.table(
        "responses",
        sa.column("id", sa.Integer),
        sa.column("channel", sa.String),
        sa.column("flags", sa.JSON),
        sa.column("held"),
    )
    conn = op.get_bind()
    # Flags are a JSON list (text in SQLite, json in PostgreSQL): read them in Python.
    rows = conn.execute(
        sa.select(responses.c.id, responses.c.flags).where(
            responses.c.channel.in_(HELD_CHANNELS)
        )
    )
    held = [
        row.id for row in rows if row.flags and any(flag in HELD_FLAGS for flag in row.flags)
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
