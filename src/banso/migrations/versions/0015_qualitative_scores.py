"""Qualitative scores a manager gives a CSM per period (the evaluation's fourth axis)

Revision ID: 0015_qualitative_scores
Revises: 0014_opportunities
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_qualitative_scores"
down_revision = "0014_opportunities"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "qualitative_scores",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_member_id", sa.Integer(), sa.ForeignKey("team_members.id"), nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("entered_by", sa.String(320), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("team_member_id", "period"),
    )
    op.create_index(
        "ix_qualitative_scores_team_member_id", "qualitative_scores", ["team_member_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_qualitative_scores_team_member_id", table_name="qualitative_scores")
    op.drop_table("qualitative_scores")
