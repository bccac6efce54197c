"""subscription date indexes: the data's month bounds and the renewals due soon by index

Revision ID: 0009_subscription_date_indexes
Revises: 0008_account_search_key
"""

from alembic import op

revision = "0009_subscription_date_indexes"
down_revision = "0008_account_search_key"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_subscriptions_start_date"), "subscriptions", ["start_date"])
    op.create_index(op.f("ix_subscriptions_end_date"), "subscriptions", ["end_date"])


def downgrade() -> None:
    op.drop_index(op.f("ix_subscriptions_end_date"), table_name="subscriptions")
    op.drop_index(op.f("ix_subscriptions_start_date"), table_name="subscriptions")
