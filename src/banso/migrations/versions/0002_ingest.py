"""account merges: map merged account ids to the kept account for the event store

Revision ID: 0002_ingest
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_ingest"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_merges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("merged_account_id", sa.Integer(), nullable=False),
        sa.Column("kept_account_id", sa.Integer(), nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["kept_account_id"],
            ["accounts.id"],
            name=op.f("fk_account_merges_kept_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_merges")),
        sa.UniqueConstraint("merged_account_id", name=op.f("uq_account_merges_merged_account_id")),
    )
    op.create_index(
        op.f("ix_account_merges_kept_account_id"), "account_merges", ["kept_account_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_account_merges_kept_account_id"), table_name="account_merges")
    op.drop_table("account_merges")
