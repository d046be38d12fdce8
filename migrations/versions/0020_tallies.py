"""tallies: per-cell sums of the desk ratings, kept exact through a journal the database's
triggers write

Revision ID: 0020_tallies
Revises: 0019_level
Create Date: 2026-12-03 16:20:00

"""

import sqlalchemy as sa
from alembic import op

from surveyapp.models.tallies import TALLIED_CHANNELS, TRIGGER_NAMES, trigger_statements

# revision identifiers, used by Alembic.
revision = "0020_tallies"
down_revision = "0019_level"
branch_labels = None
depends_on = None

FUNCTIONS = (
    "tally_new_responses",
    "tally_new_answers",
    "tally_changed_response",
    "tally_changed_answer",
)


def upgrade():
    op.create_table(
        "tally_cells",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("layout", sa.String(length=16), nullable=False),
        sa.Column("questionnaire_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("service_point_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("products", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_tally_cells_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tally_cells")),
        sa.UniqueConstraint(
            "campaign_id",
            "layout",
            "questionnaire_id",
            "channel",
            "service_point_id",
            "unit_id",
            name=op.f("uq_tally_cells_key"),
        ),
    )
    op.create_table(
        "tally_members",
        sa.Column("response_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("cell_id", sa.Integer(), nullable=False),
        sa.Column("flags", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cell_id"],
            ["tally_cells.id"],
            name=op.f("fk_tally_members_cell_id_tally_cells"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("response_id", name=op.f("pk_tally_members")),
    )
    with op.batch_alter_table("tally_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tally_members_cell_id"), ["cell_id"], unique=False)
    op.create_table(
        "tally_journal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tally_journal")),
    )
    with op.batch_alter_table("tally_journal", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tally_journal_response_id"), ["response_id"], unique=False
        )
    # Held-out bursts, counted by every report without reading the campaign's other rows.
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_responses_held",
            ["campaign_id"],
            unique=False,
            sqlite_where=sa.text("held = 1"),
            postgresql_where=sa.text("held"),
        )
    # The triggers as models.tallies defines them; the responses already stored are
    # journalled, so the first report folds them.
    for statement in trigger_statements(op.get_bind().dialect.name):
        op.execute(statement)
    channels = ", ".join(f"'{c}'" for c in TALLIED_CHANNELS)
    op.execute(
        f"INSERT INTO tally_journal (response_id) SELECT id FROM responses"
        f" WHERE channel IN ({channels})"
    )


def downgrade():
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.drop_index("ix_responses_held")
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name in TRIGGER_NAMES:
        table = "answers" if "answer" in name else "responses"
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if postgresql else ""))
    if postgresql:
        for name in FUNCTIONS:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    with op.batch_alter_table("tally_journal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tally_journal_response_id"))
    op.drop_table("tally_journal")
    with op.batch_alter_table("tally_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tally_members_cell_id"))
    op.drop_table("tally_members")
    op.drop_table("tally_cells")
