"""units after 1 July 2025: kind and validity dates of a unit, the old → new crosswalk

Vietnam's two-tier local government (issue 13 §1): province → commune-level unit (xã,
phường, đặc khu) → village. Districts stay as historical units. Each unit gets its kind and
the dates it was valid; ``unit_crosswalk`` maps an old unit to the new ones with the share
of its population each received.

Revision ID: 0017_units
Revises: 0016_officials
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_units"
down_revision = "0016_officials"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("valid_from", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("valid_to", sa.Date(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_units_validity_order"),
            "valid_to IS NULL OR valid_from IS NULL OR valid_to >= valid_from",
        )
    op.create_table(
        "unit_crosswalk",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("old_unit_id", sa.Integer(), nullable=False),
        sa.Column("new_unit_id", sa.Integer(), nullable=False),
        sa.Column("share", sa.Double(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "share > 0 AND share <= 1", name=op.f("ck_unit_crosswalk_share_in_range")
        ),
        sa.CheckConstraint(
            "population IS NULL OR population >= 0",
            name=op.f("ck_unit_crosswalk_population_nonnegative"),
        ),
        sa.CheckConstraint("old_unit_id <> new_unit_id", name=op.f("ck_unit_crosswalk_not_itself")),
        sa.ForeignKeyConstraint(
            ["old_unit_id"], ["units.id"], name=op.f("fk_unit_crosswalk_old_unit_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["new_unit_id"], ["units.id"], name=op.f("fk_unit_crosswalk_new_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_crosswalk")),
        sa.UniqueConstraint(
            "old_unit_id", "new_unit_id", name=op.f("uq_unit_crosswalk_old_unit_id_new_unit_id")
        ),
    )
    with op.batch_alter_table("unit_crosswalk", schema=None) as batch_op:
        batch_op.create_index("ix_unit_crosswalk_old_unit_id", ["old_unit_id"], unique=False)
        batch_op.create_index("ix_unit_crosswalk_new_unit_id", ["new_unit_id"], unique=False)


def downgrade():
    with op.batch_alter_table("unit_crosswalk", schema=None) as batch_op:
        batch_op.drop_index("ix_unit_crosswalk_new_unit_id")
        batch_op.drop_index("ix_unit_crosswalk_old_unit_id")
    op.drop_table("unit_crosswalk")
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_units_validity_order"), type_="check")
        batch_op.drop_column("valid_to")
        batch_op.drop_column("valid_from")
        batch_op.drop_column("kind")
