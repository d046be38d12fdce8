"""area covariates: administrative data per unit for the small-area model

The Fay–Herriot model of issue 13 §3 borrows strength across units through area-level
covariates. Besides the desk-rating share (computed from responses), the province imports
per unit its on-time processing rate, the share of dossiers filed online and the urban share.

Revision ID: 0011_sae
Revises: 0010_auth
Create Date: 2026-12-03 09:40:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0011_sae"
down_revision = "0010_auth"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "area_covariates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("on_time_rate", sa.Double(), nullable=True),
        sa.Column("online_share", sa.Double(), nullable=True),
        sa.Column("urban_share", sa.Double(), nullable=True),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "on_time_rate BETWEEN 0 AND 1", name=op.f("ck_area_covariates_on_time_rate_share")
        ),
        sa.CheckConstraint(
            "online_share BETWEEN 0 AND 1", name=op.f("ck_area_covariates_online_share_share")
        ),
        sa.CheckConstraint(
            "urban_share BETWEEN 0 AND 1", name=op.f("ck_area_covariates_urban_share_share")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_area_covariates_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_area_covariates_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_area_covariates")),
        sa.UniqueConstraint(
            "campaign_id", "unit_id", name=op.f("uq_area_covariates_campaign_id_unit_id")
        ),
    )
    with op.batch_alter_table("area_covariates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_area_covariates_campaign_id"), ["campaign_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("area_covariates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_area_covariates_campaign_id"))
    op.drop_table("area_covariates")
