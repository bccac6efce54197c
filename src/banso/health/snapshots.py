"""Daily health snapshots: one Parquet file per day under ``BANSO_HOME/health``.

``health/date=YYYY-MM-DD/scores.parquet`` holds, per account: the scorecard, the overall score
and band (after any override), the computed score, each group's score and each measure's raw
value, score and effective weight. A day is written to a temporary file and renamed over the
old one, so a day is always either wholly the old or wholly the new snapshot.

Rows are sorted by account in row groups of ``ROW_GROUP_ROWS``: reading one account's row, DuckDB
skips every row group whose min/max ``account_id`` statistics exclude it, so the account page
reads a few thousand rows of a day, not all 100,000.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from banso.config import get_settings

ROW_GROUP_ROWS = 10_000
"""Rows per Parquet row group (accounts are sorted, so each group covers an id range)."""


def snapshot_dir(root: Path | None = None) -> Path:
    return root or get_settings().home / "health"


def write_day(day: date, table: pa.Table, root: Path | None = None) -> Path:
    directory = snapshot_dir(root) / f"date={day.isoformat()}"
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / "scores.parquet"
    tmp = directory / ".scores.parquet.tmp"
    pq.write_table(
        table.sort_by("account_id"), tmp, compression="zstd", row_group_size=ROW_GROUP_ROWS
    )
    tmp.replace(final)
    return final


def scored_days(root: Path | None = None) -> list[date]:
    base = snapshot_dir(root)
    if not base.exists():
        return []
    return sorted(
        date.fromisoformat(p.parent.name.removeprefix("date="))
        for p in base.glob("date=*/scores.parquet")
    )


def read(
    root: Path | None = None,
    account_id: int | None = None,
    start: date | None = None,
    end: date | None = None,
    columns: str = "*",
    only_days: Iterable[date] | None = None,
) -> pa.Table:
    """Snapshots (all columns of every scorecard, by name) filtered by account and day range,
    or of the scored days among ``only_days``."""
    wanted = set(only_days) if only_days is not None else None
    days = [
        d
        for d in scored_days(root)
        if (start is None or d >= start)
        and (end is None or d <= end)
        and (wanted is None or d in wanted)
    ]
    if not days:
        return pa.table({})
    files = [str(snapshot_dir(root) / f"date={d.isoformat()}" / "scores.parquet") for d in days]
    where = f"WHERE account_id = {int(account_id)}" if account_id is not None else ""
    with _duckdb() as con:
        return con.sql(
            f"SELECT {columns} FROM read_parquet($files, union_by_name = true) {where} "
            "ORDER BY day, account_id",
            params={"files": files},
        ).to_arrow_table()


def read_account_day(account_id: int, day: date, root: Path | None = None) -> dict[str, Any] | None:
    """One account's row of one scored day (every column of that day), or None when the day
    was not scored or the account was not scored on it."""
    path = snapshot_dir(root) / f"date={day.isoformat()}" / "scores.parquet"
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    row = _account_row(str(path), stat.st_ino, stat.st_mtime_ns, int(account_id))
    return dict(row) if row is not None else None


@lru_cache(maxsize=1024)
def _account_row(path: str, inode: int, mtime_ns: int, account_id: int) -> dict[str, Any] | None:
    """Cached by the file's identity: a rescored day is a new file (renamed over the old one),
    so it has another inode and time and is read afresh. The 360 page asks for the same rows
    twice (current health, then what changed since 28 days before)."""
    # the id is written into the SQL, not bound, so that DuckDB prunes row groups with it
    with _duckdb() as con:
        rows = con.sql(
            "SELECT * FROM read_parquet($file, hive_partitioning = false) "
            f"WHERE account_id = {account_id}",
            params={"file": path},
        ).to_arrow_table()
    return rows.to_pylist()[0] if rows.num_rows else None


@cache
def _connection() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def _duckdb() -> duckdb.DuckDBPyConnection:
    """A cursor on one in-memory DuckDB per process: opening a connection costs more than a
    pruned point read, and each cursor may be used by its own thread."""
    return _connection().cursor()
