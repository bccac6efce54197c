"""Lifecycle stage history (one interval per stretch in a stage) and onboarding milestones

Revision ID: 0017_lifecycle_onboarding
Revises: 0016_success_plans
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_lifecycle_onboarding"
down_revision = "0016_success_plans"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lifecycle_intervals",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("source", sa.String(100), nullable=False),
    )
    op.create_index(
        "ix_lifecycle_intervals_account_started", "lifecycle_intervals",
        ["account_id", "started_on"],
    )  # fmt: skip
    op.create_index("ix_lifecycle_intervals_ended_on", "lifecycle_intervals", ["ended_on"])
    # accounts that already have a stage start their history the day this runs
    op.execute(
        "INSERT INTO lifecycle_intervals (account_id, stage, started_on, ended_on, source) "
        "SELECT id, lifecycle_stage, CURRENT_DATE, NULL, 'migration' FROM accounts "
        "WHERE lifecycle_stage IS NOT NULL"
    )
    op.create_table(
        "onboarding_milestones",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("programme", sa.String(64), nullable=False),
        sa.Column("milestone", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("owner_side", sa.String(16), nullable=False),
        sa.Column("rule", sa.String(16), nullable=False),
        sa.Column("magic_moment", sa.Boolean(), nullable=False),
        sa.Column("contract_start", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("completed_by", sa.String(320), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("account_id", "milestone"),
    )
    op.create_index("ix_onboarding_milestones_account_id", "onboarding_milestones", ["account_id"])
    op.create_index(
        "ix_onboarding_milestones_open_due", "onboarding_milestones", ["completed_on", "due_on"]
    )


def downgrade() -> None:
    op.drop_table("onboarding_milestones")
    op.drop_table("lifecycle_intervals")
