"""level is data: regions of communes, and commune / region calibration margins

Revision ID: 0019_level
Revises: 0018_desk
Create Date: 2026-12-03 12:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0019_level"
down_revision = "0018_desk"
branch_labels = None
depends_on = None

OLD = ("sex_age", "area", "district")
NEW = (*OLD, "commune", "region")


def upgrade():
    op.create_table(
        "unit_regions",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(length=50), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_unit_regions_unit_id_units"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("unit_id", name=op.f("pk_unit_regions")),
    )
    with op.batch_alter_table("unit_regions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unit_regions_region"), ["region"], unique=False)
    _margin_values(NEW)


def _margin_values(values: tuple[str, ...]) -> None:
    """Swap the CHECK constraint that lists the margin variables."""
    listed = ", ".join(f"'{v}'" for v in values)
    name = op.f("ck_population_margins_margin_variable")
    if op.get_bind().dialect.name == "sqlite":
        # Batch mode rebuilds the table from its reflection, which carries no CHECK
        # constraint: both of the table's are given here.
        checks = (
            sa.CheckConstraint(
                "population >= 0", name=op.f("ck_population_margins_population_nonnegative")
            ),
            sa.CheckConstraint(f"variable IN ({listed})", name=name),
        )
        with op.batch_alter_table("population_margins", recreate="always", table_args=checks):
            pass
        return
    op.drop_constraint(name, "population_margins", type_="check")
    op.create_check_constraint(name, "population_margins", f"variable IN ({listed})")


def downgrade():
    op.execute("DELETE FROM population_margins WHERE variable IN ('commune', 'region')")
    _margin_values(OLD)
    with op.batch_alter_table("unit_regions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unit_regions_region"))
    op.drop_table("unit_regions")
