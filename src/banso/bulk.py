"""Bulk writes for imports: a million rows in seconds, inside the caller's transaction.

SQLAlchemy's per-row parameter processing costs more than SQLite's own insert, so on SQLite rows
go to the driver's ``executemany`` directly, with dates and timestamps written in the text
format SQLAlchemy itself uses for SQLite (``YYYY-MM-DD`` and ``YYYY-MM-DD HH:MM:SS.ffffff`` UTC).
PostgreSQL goes through SQLAlchemy's batched ``insertmanyvalues``, which is already fast there.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Date, DateTime, Table, func, insert, select, update
from sqlalchemy.orm import Session

REBUILD_INDEXES_FROM = 100_000
"""Rows from which a SQLite insert builds the table's secondary indexes afterwards."""


def bulk_insert(
    session: Session, table: Table, rows: list[dict[str, Any]], *, returning_ids: bool = False
) -> list[int]:
    """Insert ``rows`` (dicts with the same keys) into ``table``; their new ids if asked."""
    if not rows:
        return []
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        if returning_ids:
            statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
            ids: list[int] = []
            for start in range(0, len(rows), 50_000):
                ids.extend(conn.execute(statement, rows[start : start + 50_000]).scalars())
            return ids
        conn.execute(insert(table), rows)
        return []
    columns = list(rows[0])
    ids = []
    if returning_ids:
        # The transaction holds SQLite's write lock from here on, so these ids stay ours.
        first = int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1
        ids = list(range(first, first + len(rows)))
    convert = _sqlite_converters(table, columns)
    names = (["id"] if returning_ids else []) + columns
    sql = (
        f'INSERT INTO "{table.name}" ({", ".join(f"{n}" for n in names)}) '
        f"VALUES ({', '.join('?' for _n in names)})"
    )
    data = _columns(rows, columns, convert)
    params = list(zip(ids, *data, strict=True) if returning_ids else zip(*data, strict=True))
    with _sqlite_indexes_built_after(conn, table.name, len(params)):
        conn.exec_driver_sql(sql, params)
    return ids


def bulk_update(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Update rows by ``id``: each dict holds ``id`` and the new column values."""
    if not rows:
        return
    conn = session.connection()
    columns = [c for c in rows[0] if c != "id"]
    if conn.dialect.name != "sqlite":
        from sqlalchemy import bindparam

        statement = (
            update(table)
            .where(table.c.id == bindparam("b_id"))
            .values({c: bindparam(f"v_{c}") for c in columns})
        )
        conn.execute(
            statement, [{"b_id": r["id"], **{f"v_{c}": r[c] for c in columns}} for r in rows]
        )
        return
    convert = _sqlite_converters(table, columns)
    sql = f'UPDATE "{table.name}" SET {", ".join(f"{c} = ?" for c in columns)} WHERE id = ?'
    data = _columns(rows, [*columns, "id"], [*convert, None])
    conn.exec_driver_sql(sql, list(zip(*data, strict=True)))


@contextmanager
def _sqlite_indexes_built_after(conn: Connection, table: str, count: int) -> Iterator[None]:
    """Build ``table``'s secondary indexes after a big insert instead of row by row.

    Inserting a million rows into indexes on unsorted columns (the subscriptions' start and end
    dates) touches index pages all over the file, more than SQLite's page cache holds: it made
    the 1,000,000-line import 1.5 times slower. Dropping those indexes and creating them again
    afterwards sorts each once. Only when the insert at least doubles the table, and only inside
    the caller's transaction, so a failed import rolls the indexes back with its rows. Unique
    indexes stay: they are constraints the insert must be checked against.
    """
    dbapi = conn.connection.dbapi_connection
    if count < REBUILD_INDEXES_FROM or not getattr(dbapi, "in_transaction", False):
        yield
        return
    existing = conn.exec_driver_sql(f'SELECT count(*) FROM "{table}"').scalar_one()
    if existing > count:
        yield
        return
    indexes = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
        " AND sql IS NOT NULL AND upper(sql) NOT LIKE 'CREATE UNIQUE%'",
        (table,),
    ).all()
    for name, _sql in indexes:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        for _name, sql in indexes:
            conn.exec_driver_sql(sql)


def _sqlite_converters(table: Table, columns: list[str]) -> list[Any]:
    out: list[Any] = []
    for name in columns:
        column_type = table.c[name].type
        if isinstance(column_type, DateTime):
            out.append(_sqlite_datetime)
        elif isinstance(column_type, Date):
            out.append(_sqlite_date)
        else:
            out.append(None)
    return out


def _columns(rows: list[dict[str, Any]], columns: list[str], convert: list[Any]) -> list[list[Any]]:
    """Column-wise values in the driver's types (converting a column at a time is faster)."""
    out = []
    for name, conv in zip(columns, convert, strict=True):
        values = [row[name] for row in rows]
        if conv is not None:
            values = [None if v is None else conv(v) for v in values]
        out.append(values)
    return out


@lru_cache(maxsize=65_536)
def _sqlite_date(value: date) -> str:
    return value.isoformat()


@lru_cache(maxsize=65_536)
def _sqlite_datetime(value: datetime) -> str:
    """Imports stamp every row with the same ``now``: converting it once matters at 10^6 rows."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")
