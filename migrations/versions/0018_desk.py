"""desk questionnaire: conditional questions, form style, a questionnaire per channel, and the
link between a desk rating and the full survey answered after it

Revision ID: 0018_desk
Revises: 0017_units
Create Date: 2026-12-03 12:45:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0018_desk"
down_revision = "0017_units"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("questionnaires", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("style", sa.String(length=20), server_default="full", nullable=False)
        )
        batch_op.add_column(sa.Column("headline", sa.String(length=20), nullable=True))

    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("show_if", sa.JSON(), nullable=True))

    with op.batch_alter_table("campaign_channels", schema=None) as batch_op:
        batch_op.add_column(sa.Column("questionnaire_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_campaign_channels_questionnaire_id_questionnaires"),
            "questionnaires",
            ["questionnaire_id"],
            ["id"],
        )

    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("link_id", sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_responses_link_id_questionnaire_id"), ["link_id", "questionnaire_id"]
        )


def downgrade():
    with op.batch_alter_table("responses", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_responses_link_id_questionnaire_id"), type_="unique")
        batch_op.drop_column("link_id")

    with op.batch_alter_table("campaign_channels", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_campaign_channels_questionnaire_id_questionnaires"),
            type_="foreignkey",
        )
        batch_op.drop_column("questionnaire_id")

    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.drop_column("show_if")

    with op.batch_alter_table("questionnaires", schema=None) as batch_op:
        batch_op.drop_column("headline")
        batch_op.drop_column("style")
