"""Which as-of days of which accounts new event files change: what a late import makes stale.

The usage features of as-of day D read the 56 local days ``D-55..D`` (``metrics``), and the last
active day looks back 365 days. So an event of account A on local day E changes A's features
exactly on the as-of days from E to E+55, and after that only ``days_since_last_activity``, up
to the day before A's next active day after E (E+364 at most). ``stale_days`` gives those ranges
for the rows of some files (the files an import or the events API added since the snapshots
were scored); nothing else of any account changes.

A compacted file (``usage.compact``) holds rows the listing already held: it is new content only
for the files it replaces that had not been seen.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa

from banso.usage import store
from banso.usage.metrics import LAST_ACTIVITY_LOOKBACK_DAYS, UsageWindow

WINDOW_DAYS = 56
"""The local days a day's windowed features read: the as-of day and the 55 before it."""


def key(path: Path) -> str:
    """A store file's name in a ledger of seen files: ``date=YYYY-MM-DD/part-<batch>.parquet``."""
    return f"{path.parent.name}/{path.name}"


def new_files(seen: set[str], listing: list[Path]) -> list[Path]:
    """The files of ``listing`` (``store.event_files``) whose rows are new since the ledger
    ``seen``: those not in it, less the compacted files that only replace files in it."""
    fresh = []
    for f in listing:
        if key(f) in seen:
            continue
        replaces = store.replaced_names(f)
        if replaces and all(f"{f.parent.name}/{name}" in seen for name in replaces):
            continue  # the same rows, merged into one file
        fresh.append(f)
    return fresh


def only_added(seen: set[str], listing: list[Path]) -> bool:
    """Whether every file of the ledger ``seen`` is still in ``listing`` or merged into a
    compacted file of it: no rows went away (a quarantined file's did)."""
    now = {key(f) for f in listing}
    gone = seen - now
    if not gone:
        return True
    merged = {f"{f.parent.name}/{n}" for f in listing for n in store.replaced_names(f)}
    return gone <= merged


def stale_days(
    files: Iterable[Path],
    timezone: str,
    until: date,
    merges: dict[int, int],
    root: Path | None = None,
) -> dict[date, set[int]]:
    """``{as-of day: accounts}`` whose usage features the rows of ``files`` change, for as-of
    days up to ``until`` (ids of merged accounts mapped to the kept account)."""
    paths = [str(f) for f in files]
    if not paths:
        return {}
    offset = UsageWindow(until, timezone).utc_offset_seconds
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register("merges", _merges_table(merges))
        day = f"((epoch_us(ts) + {offset * 1_000_000}::BIGINT) // 86400000000)::BIGINT"
        con.execute(
            "CREATE TEMP TABLE touched AS "
            f"SELECT DISTINCT coalesce(m.kept_id, e.account_id) AS account_id, {day} AS day "
            "FROM read_parquet($files) e LEFT JOIN merges m ON m.merged_id = e.account_id",
            {"files": paths},
        )
        first, accounts = con.execute(
            "SELECT min(day), list(DISTINCT account_id) FROM touched"
        ).fetchone()  # type: ignore[misc]
        epoch = date(1970, 1, 1)
        last = (until - epoch).days
        if first is None or first > last:
            return {}  # no touched day on or before ``until``
        # every active day of the touched accounts after the first touched day (new rows
        # included), to find each touched day's next active day
        later = store.event_files(
            root, epoch + timedelta(days=first - 1), until + timedelta(days=1)
        )
        if not later:
            return {}  # the new files were set aside meanwhile
        con.execute(
            "CREATE TEMP TABLE active AS "
            f"SELECT DISTINCT coalesce(m.kept_id, e.account_id) AS account_id, {day} AS day "
            "FROM read_parquet($files) e LEFT JOIN merges m ON m.merged_id = e.account_id "
            "WHERE coalesce(m.kept_id, e.account_id) IN (SELECT unnest($accounts))",
            {"files": [str(f) for f in later], "accounts": accounts},
        )
        rows = con.execute(
            f"""
            SELECT t.account_id, t.day,
                   least({last}, t.day + {LAST_ACTIVITY_LOOKBACK_DAYS - 1},
                         greatest(t.day + {WINDOW_DAYS - 1},
                                  coalesce((SELECT min(a.day) FROM active a
                                            WHERE a.account_id = t.account_id
                                              AND a.day > t.day) - 1, {last}))) AS until_day
            FROM touched t WHERE t.day <= {last}
            """
        ).fetchall()
    finally:
        con.close()
    stale: dict[date, set[int]] = {}
    for account, start, end in rows:
        for n in range(start, end + 1):
            stale.setdefault(epoch + timedelta(days=n), set()).add(account)
    return stale


def _merges_table(merges: dict[int, int]) -> pa.Table:
    return pa.table(
        {
            "merged_id": pa.array(list(merges), pa.int64()),
            "kept_id": pa.array(list(merges.values()), pa.int64()),
        }
    )
