"""Programmes of the cafeteria: their sessions and who enrolled in and attended them

Revision ID: 0022_programs
Revises: 0021_feedback_advocacy
"""

import sqlalchemy as sa
from alembic import op

revision = "0022_programs"
down_revision = "0021_feedback_advocacy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "program_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("program", sa.String(64), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("program", "starts_at"),
    )
    op.create_index("ix_program_sessions_program", "program_sessions", ["program"])
    op.create_table(
        "program_enrolments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("program_sessions.id"), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("contact_id", sa.Integer(), sa.ForeignKey("contacts.id"), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("recorded_by", sa.String(320), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("session_id", "account_id", "contact_id"),
    )
    op.create_index("ix_program_enrolments_session_id", "program_enrolments", ["session_id"])
    op.create_index(
        "ix_program_enrolments_account_status", "program_enrolments", ["account_id", "status"]
    )


def downgrade() -> None:
    op.drop_table("program_enrolments")
    op.drop_table("program_sessions")
