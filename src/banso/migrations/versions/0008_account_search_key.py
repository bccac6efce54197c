"""accounts: search_key (name, normalised name, kana and domain folded), indexed with the name

The index on (normalized_name, search_key) replaces the one on normalized_name: it serves the
same lookups and name order, and lets the list's search scan the index rather than the rows.

Revision ID: 0008_account_search_key
Revises: 0007_account_filter_indexes
"""

import sqlalchemy as sa
from alembic import op

from banso.accounts.search import search_key

revision = "0008_account_search_key"
down_revision = "0007_account_filter_indexes"
branch_labels = None
depends_on = None

BATCH = 10_000


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search_key", sa.Text(), nullable=True))
    conn = op.get_bind()
    accounts = sa.table(
        "accounts",
        sa.column("id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("normalized_name", sa.String),
        sa.column("kana", sa.String),
        sa.column("domain", sa.String),
        sa.column("search_key", sa.Text),
    )
    rows = conn.execute(
        sa.select(accounts.c.id, accounts.c.name, accounts.c.normalized_name, accounts.c.kana,
                  accounts.c.domain)
    ).all()  # fmt: skip
    keys = [{"b_id": r.id, "key": search_key(r.name, r.normalized_name, r.kana, r.domain)}
            for r in rows]  # fmt: skip
    statement = (
        accounts.update()
        .where(accounts.c.id == sa.bindparam("b_id"))
        .values(search_key=sa.bindparam("key"))
    )
    for start in range(0, len(keys), BATCH):
        conn.execute(statement, keys[start : start + BATCH])
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index("ix_accounts_normalized_name")
        batch_op.create_index(
            "ix_accounts_name_search", ["normalized_name", "search_key"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index("ix_accounts_name_search")
        batch_op.create_index("ix_accounts_normalized_name", ["normalized_name"], unique=False)
        batch_op.drop_column("search_key")
