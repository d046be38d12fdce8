"""comment states: the folded search text of each comment and its moderation

The comments page (issue 14 §2) searches comments accent-insensitively with a plain LIKE on
a folded copy written the first time the page reads a comment, and admins hide abusive ones.

Revision ID: 0013_comments
Revises: 0012_auth_held
Create Date: 2026-12-03 10:50:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0013_comments"
down_revision = "0012_auth_held"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "comment_states",
        sa.Column("answer_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("folded", sa.String(length=2000), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("hidden_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("hidden_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["answer_id"],
            ["answers.id"],
            name=op.f("fk_comment_states_answer_id_answers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["responses.id"],
            name=op.f("fk_comment_states_response_id_responses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["hidden_by_id"], ["users.id"], name=op.f("fk_comment_states_hidden_by_id_users")
        ),
        sa.PrimaryKeyConstraint("answer_id", name=op.f("pk_comment_states")),
    )
    with op.batch_alter_table("comment_states", schema=None) as batch_op:
        batch_op.create_index("ix_comment_states_response_id", ["response_id"], unique=False)


def downgrade():
    with op.batch_alter_table("comment_states", schema=None) as batch_op:
        batch_op.drop_index("ix_comment_states_response_id")
    op.drop_table("comment_states")
