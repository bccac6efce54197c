"""Account ownership history: who owned an account from when to when (backfilled from the
current owners, each owning its account since before Banso knew)

Revision ID: 0018_account_ownership
Revises: 0017_lifecycle_onboarding
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_account_ownership"
down_revision = "0017_lifecycle_onboarding"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_ownerships",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("member_id", sa.Integer(), sa.ForeignKey("team_members.id"), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_account_ownerships_account", "account_ownerships", ["account_id", "ended_on"]
    )
    op.create_index("ix_account_ownerships_member_id", "account_ownerships", ["member_id"])
    owned = op.get_bind().scalar(
        sa.text("SELECT COUNT(*) FROM accounts WHERE owner_id IS NOT NULL")
    )
    if not owned:  # a new database: no write, so the revenue data version stays where it is
        return
    op.execute(
        "INSERT INTO account_ownerships (account_id, member_id, started_on, ended_on, source,"
        " created_at) SELECT id, owner_id, NULL, NULL, 'backfill', CURRENT_TIMESTAMP"
        " FROM accounts WHERE owner_id IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_table("account_ownerships")
