"""auth: a session epoch per user

A signed session cookie stayed valid after logout, a password reset or deactivation, since
nothing on the server remembered that it had ended. Every session now names the user's
epoch, and raising the epoch ends them all.

Revision ID: 0010_auth
Revises: 0009_official
Create Date: 2026-12-03 09:30:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0010_auth"
down_revision = "0009_official"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_epoch", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_epoch")
