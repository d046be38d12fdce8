"""commune alerts: an alert about a commune centre (all its desks pooled), its chart state, and
what a unit's recipient is told of

Revision ID: 0015_bulletin
Revises: 0014_alerts
Create Date: 2026-12-03 12:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0015_bulletin"
down_revision = "0014_alerts"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "unit_alert_states",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("statistic", sa.Double(), nullable=False),
        sa.Column("last_response_id", sa.Integer(), nullable=False),
        sa.Column("volume_day", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_unit_alert_states_unit_id_units"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("unit_id", name=op.f("pk_unit_alert_states")),
    )
    with op.batch_alter_table("desk_alerts", schema=None) as batch_op:
        batch_op.alter_column("service_point_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("unit_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_desk_alerts_unit_id"), ["unit_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_desk_alerts_unit_id_units"),
            "units",
            ["unit_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_check_constraint(
            op.f("ck_desk_alerts_desk_or_unit"), "(service_point_id IS NULL) <> (unit_id IS NULL)"
        )
    with op.batch_alter_table("alert_recipients", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("scope", sa.String(length=7), server_default="all", nullable=False)
        )
        batch_op.create_check_constraint(
            op.f("ck_alert_recipients_recipient_scope"), "scope IN ('all', 'desks', 'commune')"
        )


def downgrade():
    op.execute("DELETE FROM alert_notifications WHERE alert_id IN "
               "(SELECT id FROM desk_alerts WHERE unit_id IS NOT NULL)")
    op.execute("DELETE FROM desk_alerts WHERE unit_id IS NOT NULL")
    with op.batch_alter_table("alert_recipients", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_alert_recipients_recipient_scope"), type_="check")
        batch_op.drop_column("scope")
    with op.batch_alter_table("desk_alerts", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_desk_alerts_desk_or_unit"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_desk_alerts_unit_id_units"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_desk_alerts_unit_id"))
        batch_op.drop_column("unit_id")
        batch_op.alter_column("service_point_id", existing_type=sa.Integer(), nullable=False)
    op.drop_table("unit_alert_states")
