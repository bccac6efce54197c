"""Surveys sent by Banso: invitations (the single-use answer links) and the survey and custom
answers of responses given on Banso's page

Revision ID: 0020_surveys_sent
Revises: 0019_segments
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_surveys_sent"
down_revision = "0019_segments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("survey_responses") as batch:
        batch.add_column(sa.Column("survey", sa.String(40), nullable=True))
        batch.add_column(sa.Column("answers", sa.Text(), nullable=True))
    op.create_table(
        "survey_invitations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("survey", sa.String(40), nullable=False),
        sa.Column("survey_type", sa.String(8), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("contact_id", sa.Integer(), sa.ForeignKey("contacts.id"), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("origin", sa.String(200), nullable=False),
        sa.Column("nonce", sa.String(64), nullable=False, unique=True),
        sa.Column("invited_on", sa.Date(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "response_id", sa.Integer(), sa.ForeignKey("survey_responses.id"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_survey_invitations_account_id", "survey_invitations", ["account_id"])
    op.create_index(
        "ix_survey_invitations_contact_invited", "survey_invitations", ["contact_id", "invited_on"]
    )
    op.create_index(
        "ix_survey_invitations_answered_invited",
        "survey_invitations",
        ["answered_at", "invited_on"],
    )


def downgrade() -> None:
    op.drop_table("survey_invitations")
    with op.batch_alter_table("survey_responses") as batch:
        batch.drop_column("answers")
        batch.drop_column("survey")
