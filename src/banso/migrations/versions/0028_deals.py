"""CRM pipeline deals (HubSpot deals, Salesforce Opportunity, or a file of them)

Revision ID: 0028_deals
Revises: 0027_connectors
"""

import sqlalchemy as sa
from alembic import op

revision = "0028_deals"
down_revision = "0027_connectors"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deals",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("external_id", sa.String(300), nullable=False),
        sa.Column("name", sa.String(300), nullable=True),
        sa.Column("stage", sa.String(100), nullable=True),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("close_date", sa.Date(), nullable=True),
        sa.Column("deal_type", sa.String(100), nullable=True),
        sa.Column("owner", sa.String(320), nullable=True),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("team_members.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("source", "external_id"),
    )
    op.create_index("ix_deals_status", "deals", ["status"])
    op.create_index("ix_deals_account_id_close_date", "deals", ["account_id", "close_date"])


def downgrade() -> None:
    op.drop_table("deals")
