"""Campaigns to a segment, their runs, and the messages each run queued with their opens and
clicks

Revision ID: 0023_campaigns
Revises: 0022_programs
"""

import sqlalchemy as sa
from alembic import op

revision = "0023_campaigns"
down_revision = "0022_programs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("segment", sa.String(100), nullable=False),
        sa.Column("touch_model", sa.String(16), nullable=True),
        sa.Column("tier", sa.String(32), nullable=True),
        sa.Column("lifecycle_stage", sa.String(32), nullable=True),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("schedule", sa.String(16), nullable=False),
        sa.Column("next_send_on", sa.Date(), nullable=True),
        sa.Column("subject_en", sa.String(300), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=False),
        sa.Column("subject_ja", sa.String(300), nullable=False),
        sa.Column("body_ja", sa.Text(), nullable=False),
        sa.Column("tracking", sa.Boolean(), nullable=False),
        sa.Column("survey", sa.String(50), nullable=True),
        sa.Column("created_by", sa.String(320), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "campaign_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("run_on", sa.Date(), nullable=False),
        sa.Column("queued", sa.Integer(), nullable=False),
        sa.Column("excluded_suppressed", sa.Integer(), nullable=False),
        sa.Column("excluded_no_email", sa.Integer(), nullable=False),
        sa.Column("excluded_quiet", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("campaign_id", "run_on"),
    )
    op.create_index("ix_campaign_runs_campaign_id", "campaign_runs", ["campaign_id"])
    op.create_table(
        "campaign_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("campaign_runs.id"), nullable=False),
        sa.Column("contact_id", sa.Integer(), sa.ForeignKey("contacts.id"), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("outbox_key", sa.String(400), nullable=False),
        sa.Column("sent_on", sa.Date(), nullable=False),
        sa.Column("opens", sa.Integer(), nullable=False),
        sa.Column("clicks", sa.Integer(), nullable=False),
        sa.Column("first_opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_clicked_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("run_id", "contact_id"),
    )
    op.create_index("ix_campaign_messages_run_id", "campaign_messages", ["run_id"])
    op.create_index(
        "ix_campaign_messages_contact_sent", "campaign_messages", ["contact_id", "sent_on"]
    )


def downgrade() -> None:
    op.drop_table("campaign_messages")
    op.drop_table("campaign_runs")
    op.drop_table("campaigns")
