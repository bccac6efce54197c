"""Expansion opportunities (upsell, cross-sell, seats), opened by a playbook or by hand

Revision ID: 0014_opportunities
Revises: 0013_churn_reasons
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_opportunities"
down_revision = "0013_churn_reasons"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "opportunities",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("expected_mrr", sa.BigInteger(), nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("close_date", sa.Date(), nullable=True),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("team_members.id"), nullable=True),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_opportunities_account_id", "opportunities", ["account_id"])
    op.create_index("ix_opportunities_stage", "opportunities", ["stage"])
    op.create_index("ix_opportunities_close_date", "opportunities", ["close_date"])
    op.create_index("ix_opportunities_owner_id", "opportunities", ["owner_id"])
    op.create_index(
        "uq_opportunities_open_source",
        "opportunities",
        ["account_id", "source", "kind"],
        unique=True,
        sqlite_where=sa.text("closed_at IS NULL AND source <> 'manual'"),
        postgresql_where=sa.text("closed_at IS NULL AND source <> 'manual'"),
    )


def downgrade() -> None:
    op.drop_table("opportunities")
