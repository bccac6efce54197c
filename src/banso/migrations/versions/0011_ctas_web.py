"""CTAs acted on in the web app and the API: snoozing, and titles stored in both languages

Revision ID: 0011_ctas
Revises: 0010_sessions_tokens_audit
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_ctas"
down_revision = "0010_sessions_tokens_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("ctas", sa.Column("title_texts", sa.Text(), nullable=True))
    op.add_column("ctas", sa.Column("snoozed_until", sa.Date(), nullable=True))
    op.add_column("cta_tasks", sa.Column("title_texts", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cta_tasks") as batch:
        batch.drop_column("title_texts")
    with op.batch_alter_table("ctas") as batch:
        batch.drop_column("snoozed_until")
        batch.drop_column("title_texts")
