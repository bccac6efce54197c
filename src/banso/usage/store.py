"""Append-only Parquet event store, partitioned by UTC day under ``BANSO_HOME/events``.

This module is the only code that knows the layout: ``events/date=YYYY-MM-DD/part-<batch>.parquet``
(every file exactly ``EVENT_SCHEMA``), the index of event ids beside it
(``event_index/ids/<batch>.parquet``) and the quarantine of unreadable files
(``quarantine/events/date=…/``). Everyone else lists, appends and reads through it:

- ``event_files`` lists the readable files (of some UTC days); a file whose footer cannot be read
  is moved to the quarantine, reported with its path and skipped (``quarantined`` lists them, so
  readers can say which days' figures are incomplete).
- ``append_events`` / ``Append`` write new events: event times must lie in the configured window
  (``EventRejected`` names the row and field), an ``event_id`` already stored on any day is not
  stored again, and all the days of one append are published together or not at all.
- ``duckdb_source`` gives SQL over the events of some days with the ids of merged accounts mapped
  to the kept account (``merged_accounts``), as ``usage.service.events_table`` does for Ibis.

When ``events.yaml`` names an external source (``usage.sources``), ``duckdb_source`` reads it
instead, ``has_events`` is true, and every append is refused (``ExternalEventsOwned``).

Publishing: an append writes its day files and its id index into ``events/.publish-<batch>/``,
then a ``COMMITTED`` marker, then renames each file into place. Whoever takes the store's lock
next finishes a committed publish a dead process left behind, and deletes an uncommitted one.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import threading
import time as time_module
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from banso.config import get_settings
from banso.errors import BansoError
from banso.i18n import _
from banso.usage import sources

log = logging.getLogger(__name__)

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

ROW_GROUP_ROWS = 16_384
"""Rows per Parquet row group. Files are sorted by account, so a row group's min/max account
statistics let a reader of one account's events (the account 360's usage chart) skip all but
one or two row groups of each day file instead of scanning the whole day."""

_PUBLISH_PREFIX = ".publish-"
_SCRATCH_PREFIX = ".staging-"
_COMMITTED = "COMMITTED"
_IDS_FILE = "ids.parquet"


class EventRejected(BansoError):
    """An event outside what the store takes; ``index`` is its 0-based row in the batch."""

    def __init__(self, index: int, field: str, reason: str) -> None:
        super().__init__(_("Event {index}: {field}: {reason}", index=index, field=field,
                           reason=reason))  # fmt: skip
        self.index, self.field, self.reason = index, field, reason


class StoreBusy(BansoError):
    """Another writer held the store's lock for longer than the caller would wait: try later."""

    def __init__(self, waited: float) -> None:
        super().__init__(_("The event store is busy; send again shortly."))
        self.waited = waited


@dataclass(frozen=True)
class QuarantinedFile:
    """An event file that could not be read, moved out of the store."""

    day: date
    """The UTC day it held events of: that day's figures are incomplete."""
    original: Path
    path: Path
    """Where it lies now, under ``BANSO_HOME/quarantine/events``."""
    reason: str

    def message(self) -> str:
        return _(
            "Usage for {day} is incomplete: the event file {original} could not be read "
            "({reason}) and was moved to {path}.",
            day=self.day, original=str(self.original), reason=self.reason, path=str(self.path),
        )  # fmt: skip


# ---------------------------------------------------------------- layout and listing


def store_dir(root: Path | None = None) -> Path:
    return root or get_settings().event_store_dir


def event_files(
    root: Path | None = None, first: date | None = None, last: date | None = None
) -> list[Path]:
    """The readable committed files of the store (of the UTC days ``first``..``last`` when
    given), in day order. Unreadable files are quarantined and left out."""
    base = store_dir(root)
    if not base.exists():
        return []
    _recover_if_needed(base)
    if first is not None and last is not None and (last - first).days < 400:
        files: list[Path] = []
        day = first
        while day <= last:
            files.extend(sorted((base / _day_folder(day)).glob("part-*.parquet")))
            day += timedelta(days=1)
    else:
        files = sorted(base.glob("date=*/part-*.parquet"))
        if first is not None:
            files = [f for f in files if day_of(f) >= first]
        if last is not None:
            files = [f for f in files if day_of(f) <= last]
    return _readable(files, base)


def refuse_writes() -> None:
    """Raise ``sources.ExternalEventsOwned`` when ``events.yaml`` names an external source:
    its owner's pipeline writes those events, Banso only reads them."""
    sources.refuse_writes()


def has_events(root: Path | None = None) -> bool:
    """Whether there are events to read: an external source (``events.yaml``) is configured, or
    the store holds readable files."""
    return sources.external_source() is not None or bool(event_files(root))


def event_glob(root: Path | None = None) -> str:
    """A glob of the store's files for engines that read Parquet by pattern (Spark); list
    ``event_files`` first, so unreadable files have been set aside."""
    return str(store_dir(root) / "date=*" / "part-*.parquet")


def days(root: Path | None = None) -> list[str]:
    """The UTC days (``YYYY-MM-DD``) the store holds files for, in order."""
    base = store_dir(root)
    return sorted({f.parent.name.removeprefix("date=") for f in event_files(base)})


def day_of(path: Path) -> date:
    """The UTC day a file of the store holds events of."""
    return date.fromisoformat(path.parent.name.removeprefix("date="))


def _day_files(base: Path, day: date) -> list[Path]:
    """The readable files of one day, without looking for publishes to recover (which an
    append, holding the lock, must not do to its own)."""
    return _readable(sorted((base / _day_folder(day)).glob("part-*.parquet")), base)


def _day_folder(day: date | str) -> str:
    return f"date={day if isinstance(day, str) else day.isoformat()}"


# ---------------------------------------------------------------- the time window


def time_window(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The instants ``[earliest, latest)`` an event's time may lie in (settings
    ``BANSO_EVENT_EARLIEST``, ``BANSO_EVENT_FUTURE_DAYS``)."""
    settings = get_settings()
    earliest = datetime.combine(settings.event_earliest, time(), UTC)
    latest = (now or datetime.now(UTC)) + timedelta(days=settings.event_future_days)
    return earliest, latest


def outside_window(ts: pa.Array | pa.ChunkedArray, now: datetime | None = None) -> list[int]:
    """Positions of the times in ``ts`` (aware UTC) outside ``time_window``."""
    earliest, latest = time_window(now)
    ts = pc.cast(ts, pa.timestamp("us", tz="UTC"))
    bad = pc.or_(
        pc.less(ts, pa.scalar(earliest, pa.timestamp("us", tz="UTC"))),
        pc.greater_equal(ts, pa.scalar(latest, pa.timestamp("us", tz="UTC"))),
    )
    return pc.indices_nonzero(pc.fill_null(bad, False)).to_pylist()  # type: ignore[no-any-return]


def window_reason(now: datetime | None = None) -> str:
    earliest, latest = time_window(now)
    return _(
        "The time must lie between {earliest} and {latest} (UTC).",
        earliest=earliest.date().isoformat(), latest=latest.strftime("%Y-%m-%d %H:%M"),
    )  # fmt: skip


def check_times(table: pa.Table, offset: int = 0) -> None:
    """Raise ``EventRejected`` for the first event of ``table`` outside the time window."""
    bad = outside_window(table["ts"])
    if bad:
        raise EventRejected(offset + bad[0], "ts", window_reason())


# ---------------------------------------------------------------- appending


def append_events(table: pa.Table, root: Path | None = None, wait: float | None = None) -> int:
    """Append ``table`` (``EVENT_SCHEMA``) to the store, one file per UTC day, all days at once;
    returns the rows written (events whose id the store holds, or that repeat an earlier row of
    the table, are not written). With ``wait`` (seconds), raises ``StoreBusy`` instead of
    waiting longer for another writer (the API's back-pressure).

    The day's earlier files are not read ahead (``read_same_day=False``): a batch of new events
    (the API's usual case) would read a day that grows with every batch, and the id index finds
    repeats on any day, that one included, when the append ends."""
    if table.num_rows == 0:
        return 0
    table = table.select(EVENT_SCHEMA.names).cast(EVENT_SCHEMA)
    check_times(table)
    day_numbers = pc.cast(table["ts"], pa.date32())
    with Append(root, wait=wait, read_same_day=False) as append:
        for day in sorted(pc.unique(day_numbers).to_pylist()):
            append.add_day(day, table.filter(pc.equal(day_numbers, day)))
    return append.written


class Append:
    """One all-or-nothing append: ``with Append() as a: a.add_day(day, rows)...``, then
    ``a.written``. Holds the store's lock; on a clean exit every day's file is published, on an
    exception none is. ``publish=False`` only counts (a dry run). ``wait``: seconds to wait for
    the lock before raising ``StoreBusy`` (None: as long as it takes). ``read_same_day=False``
    skips the early drop below and leaves every repeat to the index.

    Each day is staged without the ids it repeats and without the ids its own day already holds
    in the store (a re-import's usual case, dropped before anything is written). On exit one
    pass over the staged ids finds the rest — ids stored on another day, ids staged on an
    earlier day of this append — through the id index, and takes them out of the staged days."""

    def __init__(
        self,
        root: Path | None = None,
        publish: bool = True,
        wait: float | None = None,
        read_same_day: bool = True,
    ) -> None:
        refuse_writes()  # the company's own pipeline writes an external source
        self.base = store_dir(root)
        self.read_same_day = read_same_day
        self.batch = uuid.uuid4().hex
        self.publish = publish
        self.staging = self.base / f"{_PUBLISH_PREFIX}{self.batch}"
        self.written = 0
        """Events new to the store; final once the ``with`` block has ended."""
        self._lock = _store_lock(self.base, wait)
        self._staged_ids: dict[date, pa.ChunkedArray] = {}
        """The staged ids by day, as written (kept rather than read back from the files)."""

    def __enter__(self) -> Append:
        self.base.mkdir(parents=True, exist_ok=True)
        self._lock.__enter__()
        try:
            _recover(self.base)
        except BaseException:
            self._lock.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            if kind is None and self.written:
                self._settle()
        finally:
            shutil.rmtree(self.staging, ignore_errors=True)
            self._lock.__exit__(None, None, None)

    def add_day(self, day: date | str, part: pa.Table) -> int:
        """Stage the events of UTC ``day``; returns how many were staged (events stored on
        another day are taken out when the append ends: see ``written``)."""
        day = date.fromisoformat(day) if isinstance(day, str) else day
        part = part.select(EVENT_SCHEMA.names).cast(EVENT_SCHEMA)
        check_times(part)
        if part.num_rows > 1 and pc.count_distinct(part["event_id"]).as_py() < part.num_rows:
            part = _first_of_each(part)
        same_day = _day_files(self.base, day) if self.read_same_day else []
        if same_day:
            held = pq.read_table(same_day, columns=["event_id"])["event_id"]
            part = part.filter(pc.invert(pc.is_in(part["event_id"], value_set=held)))
        if part.num_rows == 0:
            return 0
        if self.publish:
            _write_file(part, self._staged_file(day))
        self._staged_ids[day] = part["event_id"]
        self.written += part.num_rows
        return part.num_rows

    def _staged_file(self, day: date) -> Path:
        return self.staging / _day_folder(day) / f"part-{self.batch}.parquet"

    def _settle(self) -> None:
        """Take out the ids stored on another day or staged on an earlier day, then (unless a
        dry run) write the id index of what is left and publish."""
        con = _duckdb_cursor()
        try:
            index = _index_files(self.base, con)
            staged = pa.concat_tables(
                pa.table({"event_id": ids, "day": pa.array([d] * len(ids), pa.date32())})
                for d, ids in sorted(self._staged_ids.items())
            )
            con.register("staged", staged)
            hashes = con.sql(f"SELECT {_HASH} AS h FROM staged").to_arrow_table()["h"]
            suspects = set(_repeated(hashes))
            if index:
                con.register("new_ids", pa.table({"h": hashes}))
                suspects.update(r[0] for r in con.execute(
                    "SELECT DISTINCT h FROM read_parquet($index) "
                    "WHERE h IN (SELECT h FROM new_ids)",
                    {"index": [str(f) for f in index]},
                ).fetchall())  # fmt: skip
            if suspects:
                self._drop_repeats(con, index, sorted(suspects))
            if self.publish and self.written:
                ids = pa.table({"h": hashes, "day": staged["day"]})
                pq.write_table(ids, self.staging / _IDS_FILE)
                (self.staging / _COMMITTED).touch()
                _fsync_dir(self.staging)
                _finish(self.staging, self.base)
        finally:
            con.close()

    def _drop_repeats(
        self, con: duckdb.DuckDBPyConnection, index: list[Path], hashes: list[int]
    ) -> None:
        """Of the staged rows whose id hash is in ``hashes``: drop those whose id the store holds
        (confirmed against the real ids of the days the index points to) or that an earlier
        staged day holds. The index may keep the hashes of dropped rows: a match it leads to is
        always confirmed, so an extra entry costs a read, never an event."""
        con.register("suspect", pa.table({"h": pa.array(hashes, pa.uint64())}))
        rows = con.sql(
            f"SELECT event_id, day FROM staged WHERE {_HASH} IN (SELECT h FROM suspect) "
            "ORDER BY day"
        ).to_arrow_table()
        stored: set[str] = set()
        if index:
            days = [r[0] for r in con.execute(
                "SELECT DISTINCT day FROM read_parquet($index) WHERE h IN (SELECT h FROM suspect)",
                {"index": [str(f) for f in index]},
            ).fetchall()]  # fmt: skip
            files = [f for d in days for f in _day_files(self.base, d)]
            if files:
                ids = pq.read_table(files, columns=["event_id"])["event_id"]
                held = pc.is_in(ids, value_set=rows["event_id"])
                stored = set(ids.filter(held).to_pylist())
        drop: dict[date, list[str]] = {}
        seen: set[str] = set()
        for event_id, day in zip(
            rows["event_id"].to_pylist(), rows["day"].to_pylist(), strict=True
        ):
            if event_id in stored or event_id in seen:
                drop.setdefault(day, []).append(event_id)
            seen.add(event_id)
        for day, ids in drop.items():
            self.written -= len(ids)
            if not self.publish:
                continue
            path = self._staged_file(day)
            kept = pq.read_table(path)
            kept = kept.filter(pc.invert(pc.is_in(kept["event_id"], value_set=pa.array(ids))))
            if kept.num_rows:
                _write_file(kept, path)
            else:
                path.unlink()


_duckdb: tuple[int, duckdb.DuckDBPyConnection] | None = None
_duckdb_lock = threading.Lock()


def _duckdb_cursor() -> duckdb.DuckDBPyConnection:
    """A connection of its own to this process's in-memory DuckDB database (what it registers
    goes when it is closed). Opening a database costs tens of milliseconds, more than the rest
    of an API batch's id check; a cursor of an open one next to nothing."""
    global _duckdb
    with _duckdb_lock:
        if _duckdb is None or _duckdb[0] != os.getpid():  # a forked child opens its own
            _duckdb = (os.getpid(), duckdb.connect())
        return _duckdb[1].cursor()


SCRATCH_MAX_AGE = timedelta(days=1)


def scratch_dir(root: Path | None = None) -> Path:
    """A fresh folder beside the store's files for a writer's own temporary files (the
    importer's validated batches); the caller removes it. Ones left by a dead process are
    removed once a day old."""
    return store_dir(root) / f"{_SCRATCH_PREFIX}{uuid.uuid4().hex}"


def delete_store(root: Path | None = None) -> None:
    """Remove every event, the id index and the quarantined files (the demo's ``--replace``)."""
    base = store_dir(root)
    shutil.rmtree(base, ignore_errors=True)
    shutil.rmtree(index_dir(base), ignore_errors=True)
    shutil.rmtree(quarantine_dir(base), ignore_errors=True)


def write_partition(part: pa.Table, day: str, batch: str, root: Path | None = None) -> Path:
    """Write one day's rows as a new file of the store directly (the demo's generator, which
    writes a fresh store day by day); the id index picks the file up at the next append."""
    final = store_dir(root) / _day_folder(day) / f"part-{batch}.parquet"
    _write_file(part, final)
    return final


def _write_file(part: pa.Table, final: Path, metadata: dict[bytes, bytes] | None = None) -> None:
    """One day's rows, sorted by account and time, written to a temporary name then renamed
    (``metadata``: key-values kept in the file's schema)."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.tmp")
    part = part.sort_by([("account_id", "ascending"), ("ts", "ascending")])
    if metadata:
        part = part.replace_schema_metadata({**(part.schema.metadata or {}), **metadata})
    pq.write_table(part, tmp, compression="zstd", row_group_size=ROW_GROUP_ROWS)
    tmp.replace(final)


def _first_of_each(part: pa.Table) -> pa.Table:
    """Keep the first row of each event id (the same event sent twice is one event)."""
    indexed = part.append_column("_i", pa.array(range(part.num_rows), pa.int64()))
    firsts = indexed.group_by("event_id", use_threads=False).aggregate([("_i", "min")])
    keep = firsts["_i_min"]
    return part.take(keep.take(pc.sort_indices(keep)))


def _ids_of_files(files: list[Path]) -> pa.Table:
    """``(event_id, day)`` of every row of some files of the store (or of a staging folder)."""
    if not files:
        return pa.table({"event_id": pa.array([], pa.string()), "day": pa.array([], pa.date32())})
    return pa.concat_tables(
        pa.table({"event_id": ids, "day": pa.array([day_of(f)] * len(ids), pa.date32())})
        for f in files
        for ids in [pq.read_table(f, columns=["event_id"])["event_id"]]
    )


# ---------------------------------------------------------------- the id index


_HASH = "hash(event_id)"
"""DuckDB's 64-bit hash: an order of magnitude cheaper than MD5, but only stable within one
DuckDB version, so the index lives in a folder named after the version and is rebuilt from the
store when the version changes."""


def index_dir(root: Path | None = None) -> Path:
    """``BANSO_HOME/event_index/ids/duckdb-<version>``: ``(h, day)`` of every stored event, one
    file per published batch (``<batch>.parquet``)."""
    return store_dir(root).parent / "event_index" / "ids" / f"duckdb-{duckdb.__version__}"


def _index_files(base: Path, con: duckdb.DuckDBPyConnection) -> list[Path]:
    """The id index's files, after indexing any batch of the store it lacks (stores written
    before the index, the demo's ``write_partition``)."""
    ids = index_dir(base)
    for other in ids.parent.glob("duckdb-*") if ids.parent.exists() else []:
        if other != ids:
            shutil.rmtree(other, ignore_errors=True)  # hashes of another DuckDB version
    batches: dict[str, list[Path]] = {}
    for f in _readable(sorted(base.glob("date=*/part-*.parquet")), base):
        batches.setdefault(f.stem.removeprefix("part-"), []).append(f)
    files = sorted(ids.glob("*.parquet")) if ids.exists() else []
    indexed = set().union(*(_batches_of(f) for f in files))
    for batch in sorted(set(batches) - indexed):
        _index_batch(con, batches[batch], ids / f"{batch}.parquet")
    files = sorted(ids.glob("*.parquet")) if ids.exists() else []
    if len(files) > INDEX_FILES_BEFORE_COMPACTION:
        files = [_compact(files, ids)]
    return files


INDEX_FILES_BEFORE_COMPACTION = 64
"""Every append adds one index file (an API batch, an import); past this many they are merged
into one, so an append reads a few files, not thousands."""

_COMPACT_PREFIX = "compact-"
_BATCHES_KEY = b"banso.batches"


def _batches_of(index_file: Path) -> set[str]:
    """The store batches an index file covers: its own name, or for a merged file the list in
    its metadata."""
    if not index_file.stem.startswith(_COMPACT_PREFIX):
        return {index_file.stem}
    metadata = pq.read_schema(index_file).metadata or {}
    return set(metadata.get(_BATCHES_KEY, b"").decode().split())


def _compact(files: list[Path], ids: Path) -> Path:
    """Merge index files into one (renamed into place before the others are removed: a crash
    in between leaves rows twice, which only costs a read)."""
    covered = sorted(set().union(*(_batches_of(f) for f in files)))
    table = pq.read_table(files, schema=pa.schema([("h", pa.uint64()), ("day", pa.date32())]))
    table = table.replace_schema_metadata({_BATCHES_KEY: " ".join(covered).encode()})
    target = ids / f"{_COMPACT_PREFIX}{uuid.uuid4().hex}.parquet"
    tmp = target.with_name(f".{target.name}.tmp")
    pq.write_table(table, tmp)
    tmp.replace(target)
    for f in files:
        f.unlink()
    return target


def _index_batch(con: duckdb.DuckDBPyConnection, files: list[Path], target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    con.register("batch_ids", _ids_of_files(files))
    pq.write_table(con.sql(f"SELECT {_HASH} AS h, day FROM batch_ids").to_arrow_table(), tmp)
    con.unregister("batch_ids")
    tmp.replace(target)


def _repeated(hashes: pa.ChunkedArray) -> list[int]:
    """The hash values that occur more than once (a radix sort: far cheaper than grouping)."""
    values = np.sort(hashes.to_numpy())
    return np.unique(values[1:][values[1:] == values[:-1]]).tolist()  # type: ignore[no-any-return]


# ---------------------------------------------------------------- lock and recovery

_thread_lock = threading.RLock()
_held = threading.local()


@contextmanager
def _store_lock(base: Path, wait: float | None = None) -> Iterator[None]:
    """One writer at a time, across threads and processes (an advisory ``flock`` on
    ``events/.lock``); re-entrant within a thread. With ``wait`` (seconds), ``StoreBusy`` once
    the lock has not come free in that time."""
    deadline = None if wait is None else time_module.monotonic() + wait
    if not _thread_lock.acquire(timeout=-1 if wait is None else max(wait, 0.0)):
        raise StoreBusy(wait or 0.0)
    try:
        depth = getattr(_held, "depth", 0)
        if depth:
            _held.depth = depth + 1
            try:
                yield
            finally:
                _held.depth = depth
            return
        base.mkdir(parents=True, exist_ok=True)
        with open(base / ".lock", "a+b") as handle:
            _flock(handle, deadline, wait)
            _held.depth = 1
            try:
                yield
            finally:
                _held.depth = 0
                fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        _thread_lock.release()


def _flock(handle: Any, deadline: float | None, wait: float | None) -> None:
    """Take the exclusive ``flock``: blocking, or polling until ``deadline`` (flock has no
    timeout of its own)."""
    if deadline is None:
        fcntl.flock(handle, fcntl.LOCK_EX)
        return
    pause = 0.002
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time_module.monotonic() >= deadline:
                raise StoreBusy(wait or 0.0) from None
            time_module.sleep(pause)
            pause = min(pause * 2, 0.02)


def _recover_if_needed(base: Path) -> None:
    """Recover left-over publishes, unless a writer holds the lock (then they are its own,
    and a reader must not wait for a long import)."""
    if not any(p.name.startswith(_PUBLISH_PREFIX) for p in base.iterdir()):
        return
    if not _thread_lock.acquire(blocking=False):
        return
    try:
        if getattr(_held, "depth", 0):
            return  # this thread is the writer
        with open(base / ".lock", "a+b") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return
            try:
                _recover(base)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        _thread_lock.release()


def _recover(base: Path) -> None:
    """Finish the publishes a dead writer committed; delete those it had not (run under the
    lock, so no live writer owns them)."""
    for staging in sorted(base.glob(f"{_PUBLISH_PREFIX}*")):
        if (staging / _COMMITTED).exists():
            log.warning("finishing an interrupted publish of events: %s", staging)
            _finish(staging, base)
        else:
            shutil.rmtree(staging, ignore_errors=True)
    old = (datetime.now(UTC) - SCRATCH_MAX_AGE).timestamp()
    for scratch in base.glob(f"{_SCRATCH_PREFIX}*"):
        if scratch.stat().st_mtime < old:
            shutil.rmtree(scratch, ignore_errors=True)


def _finish(staging: Path, base: Path) -> None:
    """Rename a committed staging folder's files into the store, then its id index."""
    batch = staging.name.removeprefix(_PUBLISH_PREFIX)
    for f in sorted(staging.glob("date=*/part-*.parquet")):
        target = base / f.parent.name / f.name
        target.parent.mkdir(parents=True, exist_ok=True)
        f.replace(target)
    ids = staging / _IDS_FILE
    if ids.exists():
        index = index_dir(base)
        index.mkdir(parents=True, exist_ok=True)
        ids.replace(index / f"{batch}.parquet")
    shutil.rmtree(staging, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# ---------------------------------------------------------------- quarantine

_checked: dict[Path, tuple[tuple[int, int], tuple[str, ...]]] = {}
"""File -> ((size, mtime), the file names it replaces): a footer checked once per state."""
_checked_lock = threading.Lock()


def quarantine_dir(root: Path | None = None) -> Path:
    return store_dir(root).parent / "quarantine" / "events"


def quarantined(
    root: Path | None = None, first: date | None = None, last: date | None = None
) -> list[QuarantinedFile]:
    """The files set aside as unreadable (of the UTC days ``first``..``last``), in day order."""
    base = quarantine_dir(root)
    if not base.exists():
        return []
    found = []
    for path in sorted(base.glob("date=*/part-*.parquet")):
        day = day_of(path)
        if (first is None or day >= first) and (last is None or day <= last):
            note = path.with_name(path.name + ".reason")
            reason = note.read_text(encoding="utf-8") if note.exists() else ""
            original = store_dir(root) / path.parent.name / path.name
            found.append(QuarantinedFile(day, original, path, reason))
    return found


def quarantine_unreadable(files: list[Path], root: Path | None = None) -> list[QuarantinedFile]:
    """Read every row of ``files`` and quarantine those that fail (a damaged page the footer
    check cannot see); readers call this when an engine failed reading the store."""
    bad = []
    for f in files:
        if not f.exists():
            continue
        try:
            pq.read_table(f, schema=EVENT_SCHEMA)
        except (OSError, pa.ArrowException) as error:
            bad.append(_quarantine(f, store_dir(root), str(error)))
    return bad


def _readable(files: list[Path], base: Path) -> list[Path]:
    """``files`` whose Parquet footer reads and has the event columns, less the files a
    compacted file among them replaces (``usage.compact``); unreadable ones are quarantined. A
    file's check is kept while its size and modification time stay the same.

    Pass whole days: a compacted file only hides files of its own day folder."""
    good: list[Path] = []
    replaced: set[Path] = set()
    for f in files:
        try:
            stat = f.stat()
        except FileNotFoundError:
            continue  # quarantined meanwhile by another reader, or a replaced file deleted
        key = (stat.st_size, stat.st_mtime_ns)
        with _checked_lock:
            known = _checked.get(f)
        if known is None or known[0] != key:
            problem, names = _footer_problem(f)
            if problem is not None:
                _quarantine(f, base, problem)
                continue
            known = (key, names)
            with _checked_lock:
                _checked[f] = known
        replaced.update(f.parent / name for name in known[1])
        good.append(f)
    return [f for f in good if f not in replaced] if replaced else good


REPLACES_KEY = b"banso.replaces"
"""Metadata key of a compacted file: the names (space-separated) of the files of its day
folder that it holds the rows of, which readers then leave out (``usage.compact``)."""


def replaced_names(path: Path) -> tuple[str, ...]:
    """The files of its day folder a compacted file replaces (none for an ordinary file)."""
    metadata = pq.read_schema(path).metadata or {}
    return tuple(metadata.get(REPLACES_KEY, b"").decode().split())


def _footer_problem(path: Path) -> tuple[str | None, tuple[str, ...]]:
    """Why the file cannot be read (None: it can), and the files it replaces."""
    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowException) as error:
        return str(error), ()
    missing = [name for name in EVENT_SCHEMA.names if name not in schema.names]
    if missing:
        return _("columns missing: {names}", names=", ".join(missing)), ()
    metadata = schema.metadata or {}
    return None, tuple(metadata.get(REPLACES_KEY, b"").decode().split())


def _quarantine(path: Path, base: Path, reason: str) -> QuarantinedFile:
    """Move an unreadable file of the store to the quarantine, with its reason beside it."""
    target = quarantine_dir(base) / path.parent.name / path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.replace(target)
    except FileNotFoundError:
        pass  # another reader moved it first
    target.with_name(target.name + ".reason").write_text(reason, encoding="utf-8")
    log.warning("unreadable event file %s moved to %s: %s", path, target, reason)
    return QuarantinedFile(day_of(target), path, target, reason)


# ---------------------------------------------------------------- reading


def merged_accounts(engine: Any = None) -> dict[int, int]:
    """``{merged id: kept id}`` from the app database, resolved through chains (empty before
    ``banso init``)."""
    from sqlalchemy import inspect
    from sqlalchemy.orm import Session

    from banso.accounts.service import merged_account_map
    from banso.db import get_engine

    engine = engine or get_engine()
    if not inspect(engine).has_table("account_merges"):
        return {}
    with Session(engine) as session:
        return resolve_merges(merged_account_map(session))


def resolve_merges(merges: dict[int, int]) -> dict[int, int]:
    """Follow chains (A into B, then B into C) so every merged id maps to the surviving one."""
    resolved = {}
    for merged in merges:
        kept, seen = merges[merged], {merged}
        while kept in merges and kept not in seen:
            seen.add(kept)
            kept = merges[kept]
        resolved[merged] = kept
    return resolved


def duckdb_source(
    con: duckdb.DuckDBPyConnection,
    first: date,
    last: date,
    columns: str,
    where: str = "TRUE",
    *,
    merges: dict[int, int],
    root: Path | None = None,
) -> str:
    """A FROM-able SQL source over the events of the UTC days ``first``..``last``, the account
    ids of merged accounts mapped to the kept account (``merges``, resolved), as
    ``(SELECT {columns} … WHERE {where})``; no rows, but the same columns, when there are none."""
    external = sources.external_source()
    if external is not None:
        start = datetime.combine(first, time(), UTC)
        end = datetime.combine(last + timedelta(days=1), time(), UTC)
        events = sources.source_sql(con, external, start, end)
        return _merged_sql(con, events, columns, where, merges)
    files = event_files(root, first, last)
    if not files:
        return (
            f"(SELECT {columns} FROM (SELECT NULL::BIGINT AS account_id, "
            "NULL::VARCHAR AS user_id, NULL::VARCHAR AS event, NULL::TIMESTAMPTZ AS ts) "
            "WHERE FALSE)"
        )
    listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
    return _merged_sql(con, f"read_parquet([{listed}])", columns, where, merges)


def _merged_sql(
    con: duckdb.DuckDBPyConnection, events: str, columns: str, where: str, merges: dict[int, int]
) -> str:
    con.register(
        "event_merges",
        pa.table({"merged_id": pa.array(list(merges), pa.int64()),
                  "kept_id": pa.array(list(merges.values()), pa.int64())}),
    )  # fmt: skip
    mapped = (
        "(SELECT e.* REPLACE (coalesce(m.kept_id, e.account_id) AS account_id) "
        f"FROM {events} e LEFT JOIN event_merges m ON m.merged_id = e.account_id)"
    )
    return f"(SELECT {columns} FROM {mapped} WHERE {where})"
