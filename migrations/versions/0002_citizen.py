"""citizen channel: receipt codes (one rating per desk transaction)

Revision ID: 0002_citizen
Revises: 0001
Create Date: 2026-11-23 11:37:52.568340

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0002_citizen"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "receipt_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_point_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("response_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"], ["responses.id"], name=op.f("fk_receipt_codes_response_id_responses")
        ),
        sa.ForeignKeyConstraint(
            ["service_point_id"],
            ["service_points.id"],
            name=op.f("fk_receipt_codes_service_point_id_service_points"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipt_codes")),
        sa.UniqueConstraint("code", name=op.f("uq_receipt_codes_code")),
    )
    with op.batch_alter_table("receipt_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_receipt_codes_service_point_id"), ["service_point_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("receipt_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_receipt_codes_service_point_id"))
    op.drop_table("receipt_codes")
