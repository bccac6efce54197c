"""Feedback and feature requests with their asks; advocacy items

Revision ID: 0021_feedback_advocacy
Revises: 0020_surveys_sent
"""

import sqlalchemy as sa
from alembic import op

revision = "0021_feedback_advocacy"
down_revision = "0020_surveys_sent"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("product_area", sa.String(100), nullable=True),
        sa.Column(
            "merged_into_id", sa.Integer(), sa.ForeignKey("feedback_requests.id"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_feedback_requests_title", "feedback_requests", ["title"])
    op.create_index("ix_feedback_requests_status", "feedback_requests", ["status"])
    op.create_index("ix_feedback_requests_merged_into_id", "feedback_requests", ["merged_into_id"])
    op.create_table(
        "feedback_asks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "request_id", sa.Integer(), sa.ForeignKey("feedback_requests.id"), nullable=False
        ),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("contact_id", sa.Integer(), sa.ForeignKey("contacts.id"), nullable=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id"), nullable=True),
        sa.Column(
            "survey_response_id",
            sa.Integer(),
            sa.ForeignKey("survey_responses.id"),
            nullable=True,
        ),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(320), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("request_id", "ticket_id", name="uq_feedback_asks_request_ticket"),
        sa.UniqueConstraint(
            "request_id", "survey_response_id", name="uq_feedback_asks_request_survey"
        ),
    )
    op.create_index("ix_feedback_asks_request_id", "feedback_asks", ["request_id"])
    op.create_index("ix_feedback_asks_account_id", "feedback_asks", ["account_id"])
    op.create_table(
        "advocacy_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("contact_id", sa.Integer(), sa.ForeignKey("contacts.id"), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("proposed_on", sa.Date(), nullable=False),
        sa.Column("asked_on", sa.Date(), nullable=True),
        sa.Column("agreed_on", sa.Date(), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_advocacy_items_account_id", "advocacy_items", ["account_id"])
    op.create_index("ix_advocacy_items_status", "advocacy_items", ["status"])


def downgrade() -> None:
    op.drop_index("ix_advocacy_items_status", "advocacy_items")
    op.drop_index("ix_advocacy_items_account_id", "advocacy_items")
    op.drop_table("advocacy_items")
    op.drop_index("ix_feedback_asks_account_id", "feedback_asks")
    op.drop_index("ix_feedback_asks_request_id", "feedback_asks")
    op.drop_table("feedback_asks")
    op.drop_index("ix_feedback_requests_merged_into_id", "feedback_requests")
    op.drop_index("ix_feedback_requests_status", "feedback_requests")
    op.drop_index("ix_feedback_requests_title", "feedback_requests")
    op.drop_table("feedback_requests")
