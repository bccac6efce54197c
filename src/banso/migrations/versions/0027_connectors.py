"""Connectors: connections, their incremental cursors, the sync log and write-back state

Revision ID: 0027_connectors
Revises: 0025_churn_scores
"""

import sqlalchemy as sa
from alembic import op

revision = "0027_connectors"
down_revision = "0025_churn_scores"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "connections",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("base_url", sa.String(500), nullable=False),
        sa.Column("secret_env", sa.String(200), nullable=True),
        sa.Column("secret_file", sa.String(1000), nullable=True),
        sa.Column("mapping", sa.Text(), nullable=True),
        sa.Column("write_back", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "connector_cursors",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("connection_id", sa.Integer(),
                  sa.ForeignKey("connections.id", ondelete="CASCADE"), nullable=False),
        sa.Column("object", sa.String(50), nullable=False),
        sa.Column("cursor", sa.String(500), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("connection_id", "object"),
    )  # fmt: skip
    op.create_table(
        "connector_syncs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("connection_id", sa.Integer(),
                  sa.ForeignKey("connections.id", ondelete="CASCADE"), nullable=False),
        sa.Column("object", sa.String(50), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("records_in", sa.Integer(), nullable=False),
        sa.Column("inserted", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("cursor_before", sa.String(500), nullable=True),
        sa.Column("cursor_after", sa.String(500), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
    )  # fmt: skip
    op.create_index("ix_connector_syncs_connection_id", "connector_syncs", ["connection_id"])
    op.create_table(
        "connector_writebacks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("connection_id", sa.Integer(),
                  sa.ForeignKey("connections.id", ondelete="CASCADE"), nullable=False),
        sa.Column("external_id", sa.String(300), nullable=False),
        sa.Column("values_json", sa.Text(), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("connection_id", "external_id"),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("connector_writebacks")
    op.drop_index("ix_connector_syncs_connection_id", table_name="connector_syncs")
    op.drop_table("connector_syncs")
    op.drop_table("connector_cursors")
    op.drop_table("connections")
