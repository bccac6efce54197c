"""Segments as rules: membership history, evaluated days, touch overrides; triage ratings and
the touch model's source, reason and day on accounts

Revision ID: 0019_segments
Revises: 0018_account_ownership
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_segments"
down_revision = "0018_account_ownership"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("touch_source", sa.String(16), nullable=True))
        batch.add_column(sa.Column("touch_reason", sa.String(300), nullable=True))
        batch.add_column(sa.Column("touch_since", sa.Date(), nullable=True))
        batch.add_column(sa.Column("it_literacy", sa.SmallInteger(), nullable=True))
        batch.add_column(sa.Column("motivation", sa.SmallInteger(), nullable=True))
    op.create_table(
        "segment_memberships",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("segment", sa.String(100), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
    )
    op.create_index(
        "ix_segment_memberships_account_start", "segment_memberships", ["account_id", "start_date"]
    )
    op.create_index(
        "ix_segment_memberships_segment_end", "segment_memberships", ["segment", "end_date"]
    )
    op.create_table(
        "segment_evaluations",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("accounts", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "touch_overrides",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("touch_model", sa.String(16), nullable=False),
        sa.Column("tier", sa.String(32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("set_by", sa.String(320), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_touch_overrides_account_id", "touch_overrides", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_touch_overrides_account_id", "touch_overrides")
    op.drop_table("touch_overrides")
    op.drop_table("segment_evaluations")
    op.drop_index("ix_segment_memberships_segment_end", "segment_memberships")
    op.drop_index("ix_segment_memberships_account_start", "segment_memberships")
    op.drop_table("segment_memberships")
    # plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch copy of ``accounts`` would drop
    # the table that every other table's foreign key points at
    for column in ("motivation", "it_literacy", "touch_since", "touch_reason", "touch_source"):
        op.drop_column("accounts", column)
