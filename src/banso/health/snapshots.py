"""Daily health snapshots: one Parquet file per day under ``BANSO_HOME/health``.

``health/date=YYYY-MM-DD/scores.parquet`` holds, per account: the scorecard, the overall score
and band (after any override), the computed score, each group's score and each measure's raw
value, score and effective weight. A day is written to a temporary file and renamed over the
old one, so a day is always either wholly the old or wholly the new snapshot.

Rows are sorted by account in row groups of ``ROW_GROUP_ROWS``: reading one account's row, DuckDB
skips every row group whose min/max ``account_id`` statistics exclude it, so the account page
reads a few thousand rows of a day, not all 100,000.

A day's file that cannot be read (corrupt, truncated, unreadable) never stops a reader: it is
moved to ``BANSO_HOME/quarantine/health/date=YYYY-MM-DD/``, left out of the answer and reported
(:func:`take_quarantined`); the day counts as not scored, so the next ``banso run`` that needs it
scores it again. Folders of days outside the accepted window (``dates.accepted_day``, e.g. a
1900-01-01 written before the window existed) are ignored.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from banso.config import get_settings
from banso.dates import accepted_day

log = logging.getLogger(__name__)

ROW_GROUP_ROWS = 10_000
"""Rows per Parquet row group (accounts are sorted, so each group covers an id range)."""


def snapshot_dir(root: Path | None = None) -> Path:
    return root or get_settings().home / "health"


INPUTS_KEY = b"banso.inputs"
"""Snapshot metadata: the fingerprint of the inputs the day was scored from
(``health.service.inputs_fingerprint``)."""


def write_day(
    day: date, table: pa.Table, root: Path | None = None, inputs: str | None = None
) -> Path:
    """Write (replace) the snapshot of ``day``; ``inputs``: the fingerprint of what it was
    scored from, kept in the file so a run can tell the day needs no rescoring."""
    directory = snapshot_dir(root) / f"date={day.isoformat()}"
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / "scores.parquet"
    tmp = directory / ".scores.parquet.tmp"
    if inputs is not None:
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), INPUTS_KEY: inputs.encode()}
        )
    pq.write_table(
        table.sort_by("account_id"), tmp, compression="zstd", row_group_size=ROW_GROUP_ROWS
    )
    tmp.replace(final)
    return final


def inputs_of(day: date, root: Path | None = None) -> str | None:
    """The inputs fingerprint ``day`` was scored from (None: not scored, scored before
    fingerprints were kept, or unreadable)."""
    path = snapshot_dir(root) / f"date={day.isoformat()}" / "scores.parquet"
    try:
        metadata = pq.read_schema(path).metadata or {}
    except (OSError, pa.ArrowException):
        return None
    value = metadata.get(INPUTS_KEY)
    return value.decode() if value is not None else None


def day_table(day: date, root: Path | None = None) -> pa.Table | None:
    """The whole snapshot of ``day`` as written (None: not scored, or unreadable, which then
    is quarantined)."""
    path = snapshot_dir(root) / f"date={day.isoformat()}" / "scores.parquet"
    if not path.exists():
        return None
    try:
        return pq.ParquetFile(path).read()
    except (OSError, pa.ArrowException):
        _readable_or_quarantined(path, root)
        return None


def scored_days(root: Path | None = None) -> list[date]:
    """Days with a snapshot file, oldest first; folders not named for a day in the accepted
    window are ignored."""
    base = snapshot_dir(root)
    if not base.exists():
        return []
    days = []
    for p in base.glob("date=*/scores.parquet"):
        try:
            day = date.fromisoformat(p.parent.name.removeprefix("date="))
        except ValueError:
            continue
        if accepted_day(day):
            days.append(day)
    return sorted(days)


def read(
    root: Path | None = None,
    account_id: int | None = None,
    start: date | None = None,
    end: date | None = None,
    columns: str = "*",
    only_days: Iterable[date] | None = None,
    *,
    common_columns: bool = False,
) -> pa.Table:
    """Snapshots (all columns of every scorecard, by name) filtered by account and day range,
    or of the scored days among ``only_days``. ``common_columns``: ``columns`` are ones every
    day's file has (``day``, ``score``, ``band``...), so the files' schemas need not be merged,
    which makes reading many days of one account several times faster."""
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
    union = "false" if common_columns else "true"
    query = (
        f"SELECT {columns} FROM read_parquet($files, union_by_name = {union}) {where} "
        "ORDER BY day, account_id"
    )
    try:
        with _duckdb() as con:
            return con.sql(query, params={"files": files}).to_arrow_table()
    except duckdb.Error:
        readable = [f for f in files if _readable_or_quarantined(Path(f), root)]
        if len(readable) == len(files):
            raise  # no file is to blame: a real error in the query
    if not readable:
        return pa.table({})
    with _duckdb() as con:
        return con.sql(query, params={"files": readable}).to_arrow_table()


def read_account_day(account_id: int, day: date, root: Path | None = None) -> dict[str, Any] | None:
    """One account's row of one scored day (every column of that day), or None when the day
    was not scored or the account was not scored on it."""
    path = snapshot_dir(root) / f"date={day.isoformat()}" / "scores.parquet"
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    try:
        row = _account_row(str(path), stat.st_ino, stat.st_mtime_ns, int(account_id))
    except duckdb.Error:
        if _readable_or_quarantined(path, root):
            raise
        return None
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


@dataclass(frozen=True)
class Quarantined:
    """A day's snapshot file that could not be read, and where it was moved."""

    day: date
    path: Path
    destination: Path | None
    """None when it could not be moved either (it is then skipped on every read)."""
    reason: str


_quarantined: list[Quarantined] = []
_quarantine_lock = threading.Lock()


def take_quarantined() -> list[Quarantined]:
    """The snapshot files quarantined by this process since the last call (for the CLI to
    report them)."""
    with _quarantine_lock:
        taken = list(_quarantined)
        _quarantined.clear()
    return taken


def incomplete_days(root: Path | None = None) -> list[date]:
    """Days whose snapshot was quarantined and that have not been scored again: their scores
    are missing from history, trends and playbook look-backs until they are."""
    base = quarantine_dir(root)
    if not base.exists():
        return []
    have = set(scored_days(root))
    days = set()
    for folder in base.glob("date=*"):
        try:
            day = date.fromisoformat(folder.name.removeprefix("date="))
        except ValueError:
            continue
        if day not in have and any(folder.iterdir()):
            days.add(day)
    return sorted(days)


def quarantine_dir(root: Path | None = None) -> Path:
    """``BANSO_HOME/quarantine/health``: unreadable snapshot files, kept for inspection."""
    return snapshot_dir(root).parent / "quarantine" / "health"


def _readable_or_quarantined(path: Path, root: Path | None) -> bool:
    """Whether the Parquet file ``path`` reads whole; if not, it is quarantined."""
    try:
        pq.read_table(path)
        return True
    except (OSError, pa.ArrowException) as exc:
        _quarantine(
            path, root, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        )
        return False


def _quarantine(path: Path, root: Path | None, reason: str) -> None:
    day = date.fromisoformat(path.parent.name.removeprefix("date="))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = quarantine_dir(root) / path.parent.name / f"{path.stem}-{stamp}{path.suffix}"
    destination: Path | None = target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        path.replace(target)
    except FileNotFoundError:
        return  # already moved (by another reader) or rescored
    except OSError as exc:
        destination = None
        reason = f"{reason}; not moved: {exc}"
    log.warning("health snapshot %s unreadable (%s); moved to %s", path, reason, destination)
    with _quarantine_lock:
        _quarantined.append(Quarantined(day, path, destination, reason))
