"""One account's usage per company-local day, for the account 360's usage chart.

Reads only the UTC day folders of the event store that can hold the window (a Tokyo day spans
two UTC days), and counts the events of accounts merged into the account as its own, as
``service.events_table`` does for the usage features.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb

from banso import dates
from banso.config import get_settings
from banso.usage import sources
from banso.usage.metrics import LOGIN_EVENT
from banso.usage.store import (
    event_files,
    merged_accounts,
    quarantine_unreadable,
    quarantined,
    resolve_merges,
)

DEFAULT_DAYS = 90
RECENT_DAYS = 28
"""The figures shown as text beside the chart cover the last 28 days, like the usage features."""


@dataclass(frozen=True)
class DailyUsage:
    day: date
    """Company-local day."""
    active_users: int
    """Distinct users with at least one event that day (events without a user are not counted)."""
    events: int
    logins: int


@dataclass(frozen=True)
class AccountUsage:
    account_id: int
    days: list[DailyUsage]
    """Every day of the window, oldest first; days without events have zeros."""
    active_users_28d: int
    """Distinct users over the last 28 days of the window (not the sum of daily figures)."""
    events_28d: int
    logins_28d: int
    last_active_day: date | None
    """The latest day of the window with an event, None when there is none."""
    incomplete: tuple[str, ...] = ()
    """Why figures are missing: one message per event file of the window's UTC days that could
    not be read and was quarantined."""

    @property
    def has_usage(self) -> bool:
        return self.last_active_day is not None


def account_daily_usage(
    account_id: int,
    days: int = DEFAULT_DAYS,
    *,
    today: date | None = None,
    merges: dict[int, int] | None = None,
    root: Path | None = None,
) -> AccountUsage:
    """Active users, events and logins of ``account_id`` (and the accounts merged into it) on
    each of the ``days`` company-local days ending ``today`` (company today by default)."""
    tz = get_settings().tz
    last = today or dates.today()
    first = last - timedelta(days=days - 1)
    recent_from = max(first, last - timedelta(days=RECENT_DAYS - 1))
    start, end = _utc_bounds(first, last, tz)
    ids = account_ids_of(account_id, merged_accounts() if merges is None else merges)
    external = sources.external_source()
    if external is not None:
        # the company's files, read in place (no quarantine: they are not Banso's)
        counted = _count(external, ids, start, end, tz.key, recent_from) if ids else {}
        return _usage(account_id, first, days, counted, ())
    files = window_files(start, end, root)
    try:
        counted = _count(files, ids, start, end, tz.key, recent_from) if files and ids else {}
    except duckdb.Error:
        if not quarantine_unreadable([Path(f) for f in files], root):
            raise
        files = window_files(start, end, root)
        counted = _count(files, ids, start, end, tz.key, recent_from) if files and ids else {}
    gone = quarantined(root, start.date(), (end - timedelta(microseconds=1)).date())
    return _usage(account_id, first, days, counted, tuple(q.message() for q in gone))


def _usage(
    account_id: int,
    first: date,
    days: int,
    counted: dict[date | None, tuple[int, int, int]],
    incomplete: tuple[str, ...],
) -> AccountUsage:
    recent = counted.pop(None, (0, 0, 0))
    series = [
        DailyUsage(day, *counted.get(day, (0, 0, 0)))
        for day in (first + timedelta(days=i) for i in range(days))
    ]
    active = [d.day for d in series if d.events]
    return AccountUsage(account_id, series, *recent, active[-1] if active else None, incomplete)


def account_ids_of(account_id: int, merges: dict[int, int]) -> list[int]:
    """The account's own id and the ids of every account merged into it (through chains)."""
    resolved = resolve_merges(merges)
    own = [] if account_id in resolved else [account_id]
    return own + sorted(m for m, kept in resolved.items() if kept == account_id)


def window_files(start: datetime, end: datetime, root: Path | None = None) -> list[str]:
    """The store's files of the UTC days from ``start`` up to ``end`` (exclusive)."""
    last = (end - timedelta(microseconds=1)).date()
    return [str(f) for f in event_files(root, start.date(), last)]


def _utc_bounds(first: date, last: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants of local midnight starting ``first`` and local midnight after ``last``."""
    start = datetime.combine(first, time(), tz)
    end = datetime.combine(last + timedelta(days=1), time(), tz)
    return start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))


_DAILY_SQL = """
WITH e AS (
    SELECT CAST(timezone($tz, ts) AS DATE) AS day, user_id, event
    FROM {source}
    WHERE account_id IN ({ids}) AND ts >= $start AND ts < $end
)
SELECT
    day,
    day >= $recent_from AS recent,
    GROUPING(day) AS whole_window,
    count(DISTINCT user_id),
    count(*),
    count(*) FILTER (WHERE event = $login)
FROM e
GROUP BY GROUPING SETS ((day), (recent))
"""
"""Hand SQL on DuckDB rather than Ibis: one pass over a few files, per day and per the recent
window at once (grouping sets). Every value is a bound parameter; ``{ids}`` becomes one
placeholder per account id, because DuckDB pushes an ``IN`` list of parameters down into the
Parquet scan, where ``= ANY($list)`` becomes a join over every row of the window."""


def _count(
    files: list[str] | sources.ExternalEvents,
    ids: list[int],
    start: datetime,
    end: datetime,
    tz: str,
    recent_from: date,
) -> dict[date | None, tuple[int, int, int]]:
    """``{day: (active users, events, logins)}``; key None holds the recent window's figures."""
    placeholders = {f"id{i}": account for i, account in enumerate(ids)}
    con = _cursor()
    try:
        con.execute("SET TimeZone = 'UTC'")
        if isinstance(files, sources.ExternalEvents):
            source, listed = sources.source_sql(con, files, start, end), {}
        else:
            source, listed = "read_parquet($files)", {"files": files}
        sql = _DAILY_SQL.format(ids=", ".join(f"${name}" for name in placeholders), source=source)
        rows = con.execute(
            sql,
            {
                **listed,
                "tz": tz,
                "start": start,
                "end": end,
                "recent_from": recent_from,
                "login": LOGIN_EVENT,
                **placeholders,
            },
        ).fetchall()
    finally:
        con.close()
    counted: dict[date | None, tuple[int, int, int]] = {}
    for day, recent, whole_window, users, events, logins in rows:
        if not whole_window:
            counted[day] = (users, events, logins)
        elif recent:
            counted[None] = (users, events, logins)
    return counted


_lock = threading.Lock()


@cache
def _database() -> duckdb.DuckDBPyConnection:
    """One in-memory DuckDB per process that keeps the Parquet footers it has read: store files
    are never rewritten, and a request then skips re-reading the footers of 90-odd files."""
    con = duckdb.connect()
    con.execute("SET parquet_metadata_cache = true")
    return con


def _cursor() -> duckdb.DuckDBPyConnection:
    """A connection of its own for this call (DuckDB connections are not shared by threads)."""
    with _lock:
        return _database().cursor()
