"""The CSM's renewal forecasts, every change kept (who, when)

Revision ID: 0012_renewal_forecasts
Revises: 0011_ctas
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_renewal_forecasts"
down_revision = "0011_ctas"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "renewal_forecasts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("renewal_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("set_by", sa.String(320), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_renewal_forecasts_account_date", "renewal_forecasts", ["account_id", "renewal_date"]
    )


def downgrade() -> None:
    op.drop_index("ix_renewal_forecasts_account_date", table_name="renewal_forecasts")
    op.drop_table("renewal_forecasts")
