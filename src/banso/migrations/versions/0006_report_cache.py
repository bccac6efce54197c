"""data versions and the report cache: revenue reports kept until their data changes

Revision ID: 0006_report_cache
Revises: 0005_health_current
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_report_cache"
down_revision = "0005_health_current"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_versions",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_data_versions")),
    )
    op.create_table(
        "report_cache",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_report_cache")),
    )


def downgrade() -> None:
    op.drop_table("report_cache")
    op.drop_table("data_versions")
