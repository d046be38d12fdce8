"""officials' survey: scales (0–10, points, yes/no), respondent types, the frame of officials
by agency

Revision ID: 0016_officials
Revises: 0015_bulletin
Create Date: 2026-12-03 13:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0016_officials"
down_revision = "0015_bulletin"
branch_labels = None
depends_on = None

OLD_TYPES = ("likert5", "single", "multi", "yes_no", "text")
NEW_TYPES = (*OLD_TYPES, "scale10")
OLD_RULES = ("mean", "item_weighted", "designated")
NEW_RULES = (*OLD_RULES, "points")


def _enum(values, name):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True)


def _swap_enum(table, column, name, old, new):
    """Replace the CHECK constraint of a portable enum column (VARCHAR + named CHECK)."""
    length = max(len(v) for v in new)
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f(f"ck_{table}_{name}"), table, type_="check")
        op.alter_column(table, column, type_=sa.String(length), existing_nullable=False)
        values = ", ".join(f"'{v}'" for v in new)
        op.create_check_constraint(op.f(f"ck_{table}_{name}"), table, f"{column} IN ({values})")
        return
    with op.batch_alter_table(table, recreate="always") as batch_op:
        batch_op.alter_column(
            column, type_=_enum(new, name), existing_type=_enum(old, name), existing_nullable=False
        )


def upgrade():
    _swap_enum("questions", "type", "question_type", OLD_TYPES, NEW_TYPES)
    _swap_enum("index_nodes", "rule", "aggregation_rule", OLD_RULES, NEW_RULES)
    with op.batch_alter_table("questionnaires") as batch_op:
        batch_op.add_column(sa.Column("respondent", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("scoring", sa.JSON(), nullable=True))
    with op.batch_alter_table("questions") as batch_op:
        batch_op.add_column(sa.Column("max_points", sa.Double(), nullable=True))
    with op.batch_alter_table("index_nodes") as batch_op:
        batch_op.add_column(sa.Column("max_points", sa.Double(), nullable=True))
    with op.batch_alter_table("responses") as batch_op:
        batch_op.add_column(sa.Column("respondent_type", sa.String(length=20), nullable=True))

    op.create_table(
        "official_agencies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=True),
        sa.Column("contact_email", sa.String(length=254), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_official_agencies_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_official_agencies")),
        sa.UniqueConstraint(
            "campaign_id", "code", name=op.f("uq_official_agencies_campaign_id_code")
        ),
    )
    with op.batch_alter_table("official_agencies") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_official_agencies_campaign_id"), ["campaign_id"], unique=False
        )
    op.create_table(
        "official_invitees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("staff_code", sa.String(length=30), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("position", sa.String(length=200), nullable=True),
        sa.Column("invitation_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["official_agencies.id"],
            name=op.f("fk_official_invitees_agency_id_official_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["invitations.id"],
            name=op.f("fk_official_invitees_invitation_id_invitations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_official_invitees")),
        sa.UniqueConstraint(
            "agency_id", "staff_code", name=op.f("uq_official_invitees_agency_id_staff_code")
        ),
        sa.UniqueConstraint("invitation_id", name=op.f("uq_official_invitees_invitation_id")),
    )
    with op.batch_alter_table("official_invitees") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_official_invitees_agency_id"), ["agency_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("official_invitees") as batch_op:
        batch_op.drop_index(batch_op.f("ix_official_invitees_agency_id"))
    op.drop_table("official_invitees")
    with op.batch_alter_table("official_agencies") as batch_op:
        batch_op.drop_index(batch_op.f("ix_official_agencies_campaign_id"))
    op.drop_table("official_agencies")
    with op.batch_alter_table("responses") as batch_op:
        batch_op.drop_column("respondent_type")
    with op.batch_alter_table("index_nodes") as batch_op:
        batch_op.drop_column("max_points")
    with op.batch_alter_table("questions") as batch_op:
        batch_op.drop_column("max_points")
    with op.batch_alter_table("questionnaires") as batch_op:
        batch_op.drop_column("scoring")
        batch_op.drop_column("respondent")
    _swap_enum("index_nodes", "rule", "aggregation_rule", NEW_RULES, OLD_RULES)
    _swap_enum("questions", "type", "question_type", NEW_TYPES, OLD_TYPES)
