"""Success plans (objectives and their review history), the sales handoff, and the note a CTA
carries (the handoff's content on the handoff CTA)

Revision ID: 0016_success_plans
Revises: 0015_qualitative_scores
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_success_plans"
down_revision = "0015_qualitative_scores"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "success_objectives",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("measure", sa.String(100), nullable=True),
        sa.Column("kpi_name", sa.String(200), nullable=True),
        sa.Column("kpi_value", sa.Float(), nullable=True),
        sa.Column("kpi_value_on", sa.Date(), nullable=True),
        sa.Column("baseline", sa.Float(), nullable=False),
        sa.Column("target", sa.Float(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey("team_members.id"), nullable=True),
        sa.Column("contact_id", sa.Integer(), sa.ForeignKey("contacts.id"), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_success_objectives_account_id", "success_objectives", ["account_id"])
    op.create_index("ix_success_objectives_due_date", "success_objectives", ["due_date"])
    op.create_index("ix_success_objectives_owner_id", "success_objectives", ["owner_id"])
    op.create_index("ix_success_objectives_status", "success_objectives", ["status"])
    op.create_table(
        "success_objective_entries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "objective_id",
            sa.Integer(),
            sa.ForeignKey("success_objectives.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(320), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("changes", sa.Text(), nullable=True),
    )
    op.create_index(
        "ix_success_objective_entries_objective_id",
        "success_objective_entries",
        ["objective_id"],
    )
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=False, unique=True
        ),
        sa.Column("deal_notes", sa.Text(), nullable=True),
        sa.Column("stakeholders", sa.Text(), nullable=True),
        sa.Column("promised_outcome", sa.Text(), nullable=True),
        sa.Column("sales_owner", sa.String(320), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.add_column("ctas", sa.Column("note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ctas") as batch:
        batch.drop_column("note")
    op.drop_table("handoffs")
    op.drop_table("success_objective_entries")
    op.drop_table("success_objectives")
