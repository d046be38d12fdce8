"""submit speed: drop ix_answers_question_value (written on every answer, read by no query)

Every citizen submission inserts ~40 answer rows; this index is ordered by question first, so
those rows land on ~40 different leaf pages and each commit rewrites them all (in SQLite's
WAL every dirty page is written whole). EXPLAIN of the dashboard's response_frame and
cell_frame and of the export, on SQLite and PostgreSQL with the demo data, never uses it:
they reach answers from responses(campaign_id, status) through the UNIQUE
(response_id, question_id) index, and "question_id IN (the 33 items)" keeps ~85 % of the rows,
so a question-first index is not selective for them. No query filters answers on value.

Revision ID: 0005_submit_speed
Revises: 0004_margins
Create Date: 2026-11-23 13:20:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = "0005_submit_speed"
down_revision = "0004_margins"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("answers", schema=None) as batch_op:
        batch_op.drop_index("ix_answers_question_value")


def downgrade():
    with op.batch_alter_table("answers", schema=None) as batch_op:
        batch_op.create_index("ix_answers_question_value", ["question_id", "value"], unique=False)
