"""A kept summary of the event store: each account's latest event time per whole UTC month.

The last active day looks back 365 days, but only accounts without events in the last 56 need
the older months, and reading ten months of ``(account_id, ts)`` cost a quarter of the usage
features. A month's summary holds one row per account, ``(account_id, last_ts)``, computed from
every file of the month; its file name is a fingerprint of those files (names, sizes,
modification times), so a month whose files changed (a late import, a new batch) is summarised
again the next time it is read. The store is append-only, so a summary never needs more than
its own month's files. Summaries hold the account ids as stored: merges are mapped when read.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import ibis
import ibis.expr.types as ir

from banso.usage.metrics import last_activity
from banso.usage.store import event_files, store_dir

INDEX_DIR = "event_index"
STALE_SUMMARY_SECONDS = 600


def index_dir(root: Path | None = None) -> Path:
    """Beside the event store: ``BANSO_HOME/event_index/last_activity``."""
    return store_dir(root).parent / INDEX_DIR / "last_activity"


def month_files(month: date, root: Path | None = None) -> list[Path]:
    """The store's files of the UTC days of ``month`` (its first day)."""
    return event_files(root, month, _next_month(month) - timedelta(days=1))


def fingerprint(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for f in files:
        stat = f.stat()
        digest.update(f"{f.parent.name}/{f.name}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:32]


def month_summary(month: date, root: Path | None = None) -> Path | None:
    """The summary file of ``month`` for the files it has now, written first if missing or
    stale; None for a month without events."""
    files = month_files(month, root)
    if not files:
        return None
    directory = index_dir(root) / f"month={month:%Y-%m}"
    final = directory / f"{fingerprint(files)}.parquet"
    if not final.exists():
        _write_summary(files, directory, final)
    # stale summaries go once no reader can still be using them (another process may have
    # listed one a moment ago)
    for old in directory.glob("*.parquet"):
        if old != final and time.time() - old.stat().st_mtime > STALE_SUMMARY_SECONDS:
            old.unlink(missing_ok=True)
    return final


def _write_summary(files: list[Path], directory: Path, final: Path) -> None:
    """``(account_id, last_ts)`` of ``files``, written under a temporary name then renamed."""
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".{uuid.uuid4().hex}.tmp"
    con = duckdb.connect()
    try:
        con.execute(
            "COPY (SELECT account_id, max(ts) AS last_ts FROM read_parquet($files) "
            "GROUP BY account_id ORDER BY account_id) TO '"
            + str(tmp).replace("'", "''")
            + "' (FORMAT parquet, COMPRESSION zstd)",
            {"files": [str(f) for f in files]},
        )
    finally:
        con.close()
    tmp.replace(final)


def whole_months(start: datetime, end: datetime) -> list[date]:
    """The UTC months that lie wholly in ``[start, end)``."""
    first = start.astimezone(UTC)
    month = date(first.year, first.month, 1)
    if datetime(month.year, month.month, 1, tzinfo=UTC) < first:
        month = _next_month(month)
    out = []
    while datetime.combine(_next_month(month), datetime.min.time(), UTC) <= end:
        out.append(month)
        month = _next_month(month)
    return out


def last_activity_source(
    con: ibis.BaseBackend,
    events_between: Callable[[date, date], ir.Table],
    map_merges: Callable[[ir.Table], ir.Table],
    root: Path | None = None,
) -> Callable[[datetime, datetime], ir.Table]:
    """``(start, end) -> (account_id, last_ts)`` for ``usage_features``: whole UTC months from
    their summaries, the days before and after them from the events themselves."""

    def between(start: datetime, end: datetime) -> ir.Table:
        months = whole_months(start, end)
        if not months:
            return last_activity(events_between(start.date(), end.date()), start, end)
        parts: list[ir.Table] = []
        first = datetime.combine(months[0], datetime.min.time(), UTC)
        after = datetime.combine(_next_month(months[-1]), datetime.min.time(), UTC)
        if start < first:
            parts.append(last_activity(events_between(start.date(), first.date()), start, first))
        if after < end:
            parts.append(last_activity(events_between(after.date(), end.date()), after, end))
        summaries = [str(p) for m in months if (p := month_summary(m, root)) is not None]
        if summaries:
            name = f"last_activity_{months[0]:%Y%m}_{months[-1]:%Y%m}"
            kept = con.read_parquet(summaries, table_name=name)
            # the folder name would otherwise come back as a hive-partition column
            parts.append(map_merges(kept.select("account_id", "last_ts")))
        if not parts:
            return last_activity(events_between(start.date(), end.date()), start, end)
        # one schema for all parts (the summaries' columns are nullable, the events' are not)
        parts = [p.cast({"account_id": "int64", "last_ts": "timestamp('UTC', 6)"}) for p in parts]
        union = ibis.union(*parts) if len(parts) > 1 else parts[0]
        return union.group_by("account_id").aggregate(last_ts=union.last_ts.max())

    return between


def _next_month(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1)
