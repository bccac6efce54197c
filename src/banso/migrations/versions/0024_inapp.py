"""In-app sites and messages; API tokens may name the identity source of the product's ids

Revision ID: 0024_inapp
Revises: 0023_campaigns
"""

import sqlalchemy as sa
from alembic import op

revision = "0024_inapp"
down_revision = "0023_campaigns"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("source", sa.String(100), nullable=True))
    op.create_table(
        "inapp_sites",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("site_key", sa.String(64), nullable=False, unique=True),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("allowed_origins", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "inapp_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("inapp_sites.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title_ja", sa.String(200), nullable=False),
        sa.Column("title_en", sa.String(200), nullable=False),
        sa.Column("body_ja", sa.Text(), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=False),
        sa.Column("segments", sa.Text(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(320), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_inapp_messages_site_id", "inapp_messages", ["site_id"])


def downgrade() -> None:
    op.drop_index("ix_inapp_messages_site_id", table_name="inapp_messages")
    op.drop_table("inapp_messages")
    op.drop_table("inapp_sites")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("source")
