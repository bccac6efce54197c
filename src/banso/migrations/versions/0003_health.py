"""health: CSM pulse and score overrides

Revision ID: 0003_health
Revises: 0002_web_users
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_health"
down_revision = "0002_web_users"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "csm_pulses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("rated_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_csm_pulses_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["team_members.id"], name=op.f("fk_csm_pulses_member_id_team_members")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_csm_pulses")),
    )
    op.create_index(op.f("ix_csm_pulses_account_id"), "csm_pulses", ["account_id"])
    op.create_table(
        "health_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("set_by", sa.String(length=320), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_health_overrides_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_overrides")),
    )
    op.create_index(op.f("ix_health_overrides_account_id"), "health_overrides", ["account_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_health_overrides_account_id"), table_name="health_overrides")
    op.drop_table("health_overrides")
    op.drop_index(op.f("ix_csm_pulses_account_id"), table_name="csm_pulses")
    op.drop_table("csm_pulses")
