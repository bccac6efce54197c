"""health_current (newest score and band per account); timeline indexes by account and time

Revision ID: 0005_health_current
Revises: 0004_playbooks
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_health_current"
down_revision = "0004_playbooks"
branch_labels = None
depends_on = None

TIMELINES = (
    ("activities", "occurred_at"),
    ("tickets", "opened_at"),
    ("survey_responses", "answered_at"),
)
"""Tables on the account page's timeline and the time they are ordered by."""


def upgrade() -> None:
    op.create_table(
        "health_current",
        sa.Column("account_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("scorecard", sa.String(length=100), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("band", sa.String(length=16), nullable=True),
        sa.Column("overridden", sa.Boolean(), nullable=False),
        sa.Column("trend_7d", sa.String(length=8), nullable=True),
        sa.Column("trend_28d", sa.String(length=8), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_health_current_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_health_current")),
    )
    with op.batch_alter_table("health_current", schema=None) as batch_op:
        batch_op.create_index("ix_health_current_band_score", ["band", "score"], unique=False)
        batch_op.create_index("ix_health_current_score", ["score"], unique=False)
    for table, at in TIMELINES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(f"ix_{table}_account_id_{at}", ["account_id", at], unique=False)
            # the composite index starts with account_id, so it serves every lookup this one did
            batch_op.drop_index(batch_op.f(f"ix_{table}_account_id"))


def downgrade() -> None:
    for table, at in TIMELINES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f(f"ix_{table}_account_id"), ["account_id"], unique=False
            )
            batch_op.drop_index(f"ix_{table}_account_id_{at}")
    with op.batch_alter_table("health_current", schema=None) as batch_op:
        batch_op.drop_index("ix_health_current_score")
        batch_op.drop_index("ix_health_current_band_score")
    op.drop_table("health_current")
