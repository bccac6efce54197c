"""Compaction of the event store: the many small files of a UTC day rewritten into one.

Every append (an API batch, an import, a late import into an old day) adds one file per day it
touches, so a day that received thousands of API batches has thousands of small files, and every
reader pays for opening each one. ``compact`` rewrites each day that has more than one file into
a single file, sorted by account and time in the store's row groups (``store._write_file``), so
one account's events still lie in one or two row groups.

Readers never see a partial state and a crash loses or doubles nothing:

1. the day's files are read and the new file written in a scratch folder (``store.scratch_dir``),
   outside the store's lock: the files are immutable and the store is append-only, so an append
   meanwhile only adds files this rewrite does not replace;
2. under the store's lock (``store._store_lock``, the one appends hold), if no other compaction
   replaced the same files meanwhile, the new file is renamed into the day folder. It names the
   files it replaces in its metadata (``store.REPLACES_KEY``) and every listing
   (``store.event_files``) leaves those out from that moment: the switch is one rename;
3. the replaced files are deleted once the new one is ``grace`` seconds old (a reader that
   listed the day just before the switch may still be reading them), by this run or the next.

The event id index is not rewritten: its entries are ``(hash, day)`` and compaction keeps every
event on its day, so the entries of the replaced batches stay right. The new file's batch gets
an empty index file, which tells the index its rows are indexed already (batches the index
lacks, such as the demo's directly written files, are indexed before anything is merged).
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from banso.usage import sources, store

COMPACTED_BATCH_PREFIX = "merged-"
"""A compacted file is ``part-merged-<id>.parquet`` (not ``compact-``: that names the id
index's own merged files)."""

REPLACED_GRACE_SECONDS = 600
"""How long replaced files stay on disk after the switch, for readers that listed them."""

SMALL_FILES_BEFORE_RUN_COMPACTS = 200
"""``banso run`` compacts the store first when more files than this could be merged away."""


@dataclass
class Compaction:
    """What one ``compact`` did."""

    days: int = 0
    """Days rewritten into one file."""
    files_before: int = 0
    """Files of those days before (readable, not already replaced)."""
    rows: int = 0
    """Events rewritten (the same events, in fewer files)."""
    deleted: int = 0
    """Replaced files deleted from disk (this run's once the grace is over, earlier runs')."""
    skipped: int = 0
    """Days left alone because another compaction replaced their files first."""


def mergeable_files(root: Path | None = None) -> int:
    """How many files compaction would merge away: the files of days with more than one, less
    one per such day. 0 for an external source (``events.yaml``: not Banso's files)."""
    if sources.external_source() is not None:
        return 0
    per_day = _files_by_day(root)
    return sum(len(files) - 1 for files in per_day.values() if len(files) > 1)


def compact(
    root: Path | None = None,
    *,
    first: date | None = None,
    last: date | None = None,
    grace: float = REPLACED_GRACE_SECONDS,
    report: Callable[[str, int, int | None], None] | None = None,
) -> Compaction:
    """Rewrite every UTC day (of ``first``..``last`` when given) that has more than one file
    into one file; returns what was done. ``report("days", done, total)`` follows the days
    rewritten (``ProgressDisplay.reporter``). Refused (``ExternalEventsOwned``) when
    ``events.yaml`` names an external source. Running it again right after does nothing."""
    store.refuse_writes()
    base = store.store_dir(root)
    done = Compaction()
    if not base.exists():
        return done
    done.deleted += _delete_replaced(base, grace)
    _index_unindexed(base)
    days = {day: files for day, files in _files_by_day(root, first, last).items() if len(files) > 1}
    if report is not None:
        report("days", 0, len(days))
    for i, (day, files) in enumerate(sorted(days.items()), 1):
        rows = compact_day(base, day, files)
        if rows is None:
            done.skipped += 1
        else:
            done.days += 1
            done.files_before += len(files)
            done.rows += rows
        if report is not None:
            report("days", i, len(days))
    done.deleted += _delete_replaced(base, grace)
    return done


def compact_day(base: Path, day: date, files: list[Path]) -> int | None:
    """Replace ``files`` (all of one day folder) with one file of their rows; returns the rows,
    or None when another compaction replaced some of them first (nothing is changed then)."""
    scratch = store.scratch_dir(base)
    try:
        batch = f"{COMPACTED_BATCH_PREFIX}{uuid.uuid4().hex}"
        name = f"part-{batch}.parquet"
        staged = scratch / name
        try:
            rows = _rewrite(files, staged)
        except FileNotFoundError:
            return None  # another compaction replaced and deleted them meanwhile
        with store._store_lock(base):
            live = set(store._day_files(base, day))
            if not set(files) <= live:
                return None
            # an empty index file: the rows are indexed under the batches they came from
            index = store.index_dir(base)
            index.mkdir(parents=True, exist_ok=True)
            empty = pa.table({"h": pa.array([], pa.uint64()), "day": pa.array([], pa.date32())})
            tmp = index / f".{batch}.parquet.tmp"
            pq.write_table(empty, tmp)
            tmp.replace(index / f"{batch}.parquet")
            folder = files[0].parent
            staged.replace(folder / name)  # the switch: readers now see the new file only
            store._fsync_dir(folder)
        return rows
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _index_unindexed(base: Path) -> None:
    """Index every batch the id index lacks (files the demo wrote directly; an append indexes
    them too) before compacting: a compacted file's own index entry is empty, so rows of a
    batch never indexed would never be."""
    with store._store_lock(base):
        con = store._duckdb_cursor()
        try:
            store._index_files(base, con)
        finally:
            con.close()


def _rewrite(files: list[Path], target: Path) -> int:
    """Write the rows of ``files`` as one file at ``target`` that names them as replaced."""
    table = pq.read_table(files, schema=store.EVENT_SCHEMA)
    replaces = " ".join(f.name for f in files).encode()
    store._write_file(table, target, {store.REPLACES_KEY: replaces})
    written = pq.read_metadata(target).num_rows
    if written != table.num_rows:  # never switch to a file that does not hold every row
        raise OSError(f"{target}: {written} rows written of {table.num_rows}")
    return table.num_rows


def _files_by_day(
    root: Path | None, first: date | None = None, last: date | None = None
) -> dict[date, list[Path]]:
    per_day: dict[date, list[Path]] = {}
    for f in store.event_files(root, first, last):
        per_day.setdefault(store.day_of(f), []).append(f)
    return per_day


def _delete_replaced(base: Path, grace: float) -> int:
    """Delete the files that compacted files at least ``grace`` seconds old replace, oldest
    compacted file first: a compacted file replaced by a later one is deleted only after the
    files it replaced, so a crash in between never brings those back beside the later one."""
    deleted = 0
    now = time.time()
    found = []
    for compacted in base.glob(f"date=*/part-{COMPACTED_BATCH_PREFIX}*.parquet"):
        try:
            found.append((compacted.stat().st_mtime_ns, compacted))
        except FileNotFoundError:
            continue
    for mtime_ns, compacted in sorted(found):
        try:
            if now - mtime_ns / 1e9 < grace or not compacted.exists():
                continue
            names = store.replaced_names(compacted)
        except (OSError, pa.ArrowException):
            continue  # unreadable: the listing quarantines it, and its replaced files count again
        for name in names:
            old = compacted.parent / name
            if old.exists():
                old.unlink()
                deleted += 1
    return deleted
