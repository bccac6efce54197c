"""Append-only Parquet event store, partitioned by UTC day under ``BANSO_HOME/events``.

Layout: ``events/date=YYYY-MM-DD/part-<batch>.parquet``. Every file has exactly
``EVENT_SCHEMA``. Files are written to a temporary name and renamed, so a reader never
sees half a file and a crashed writer leaves nothing behind that counts.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from banso.config import get_settings

EVENT_SCHEMA = pa.schema(
    [
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("account_id", pa.int64(), nullable=False),
        pa.field("user_id", pa.string()),
        pa.field("event", pa.string(), nullable=False),
        pa.field("ts", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("properties", pa.string()),
    ]
)
"""``account_id`` is Banso's account id (after identity resolution); ``properties`` is JSON."""


def store_dir(root: Path | None = None) -> Path:
    return root or get_settings().event_store_dir


def append_events(table: pa.Table, root: Path | None = None) -> int:
    """Append ``table`` (``EVENT_SCHEMA``) to the store, one file per UTC day; returns rows."""
    if table.num_rows == 0:
        return 0
    table = table.select(EVENT_SCHEMA.names).cast(EVENT_SCHEMA)
    days = pc.strftime(table["ts"], format="%Y-%m-%d")
    table = table.append_column("_day", days)
    batch = uuid.uuid4().hex
    base = store_dir(root)
    for day in pc.unique(days).to_pylist():
        part = table.filter(pc.equal(table["_day"], day)).drop_columns(["_day"])
        write_partition(part, day, batch, base)
    return table.num_rows


ROW_GROUP_ROWS = 16_384
"""Rows per Parquet row group. Files are sorted by account, so a row group's min/max account
statistics let a reader of one account's events (the account 360's usage chart) skip all but
one or two row groups of each day file instead of scanning the whole day."""


def write_partition(part: pa.Table, day: str, batch: str, root: Path | None = None) -> Path:
    """Write one day's rows as a new file, sorted by account and time, atomically (temp name,
    then rename)."""
    directory = store_dir(root) / f"date={day}"
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / f"part-{batch}.parquet"
    tmp = directory / f".part-{batch}.parquet.tmp"
    part = part.sort_by([("account_id", "ascending"), ("ts", "ascending")])
    pq.write_table(part, tmp, compression="zstd", row_group_size=ROW_GROUP_ROWS)
    tmp.replace(final)
    return final


def event_files(root: Path | None = None) -> list[Path]:
    """Every committed Parquet file of the store, in day order."""
    base = store_dir(root)
    if not base.exists():
        return []
    return sorted(base.glob("date=*/part-*.parquet"))


def event_glob(root: Path | None = None) -> str:
    """A glob for engines that read Parquet directly (DuckDB, Spark)."""
    return str(store_dir(root) / "date=*" / "part-*.parquet")


def days(root: Path | None = None) -> Iterable[str]:
    base = store_dir(root)
    return (
        sorted(p.name.removeprefix("date=") for p in base.glob("date=*")) if base.exists() else []
    )
