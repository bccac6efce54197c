"""Churn reasons: why an account churned or contracted in a month, recorded by a person

Revision ID: 0013_churn_reasons
Revises: 0012_renewal_forecasts
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_churn_reasons"
down_revision = "0012_renewal_forecasts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "churn_reasons",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("accounts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(320), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cta_id", sa.Integer(), nullable=True),
    )
    op.create_index("ix_churn_reasons_month", "churn_reasons", ["month"])
    op.create_index("ix_churn_reasons_account_month", "churn_reasons", ["account_id", "month"])


def downgrade() -> None:
    op.drop_index("ix_churn_reasons_account_month", table_name="churn_reasons")
    op.drop_index("ix_churn_reasons_month", table_name="churn_reasons")
    op.drop_table("churn_reasons")
