"""Churn scores: the kept churn model's probability per account and day, with its reasons

Revision ID: 0025_churn_scores
Revises: 0024_inapp
"""

import sqlalchemy as sa
from alembic import op

revision = "0025_churn_scores"
down_revision = "0024_inapp"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "churn_scores",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("horizon_days", sa.Integer(), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("model_version", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_churn_scores_account_day", "churn_scores", ["account_id", "day"])
    op.create_index("ix_churn_scores_day", "churn_scores", ["day"])


def downgrade() -> None:
    op.drop_index("ix_churn_scores_day", table_name="churn_scores")
    op.drop_index("ix_churn_scores_account_day", table_name="churn_scores")
    op.drop_table("churn_scores")
