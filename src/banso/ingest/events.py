"""Usage events: CSV/Excel/Parquet -> the append-only Parquet event store, in Arrow end to end.

The file streams in batches: each batch is parsed and validated (times within the store's window
included), then staged on disk by UTC day (Arrow IPC files in a hidden staging directory of the
store). Only when the whole file is good are the staged days handed to one ``store.Append``,
which leaves out the event ids the store already holds on any day and publishes every day at
once or none, so re-importing a file adds nothing and a failure part-way writes nothing. Events
without an ``event_id`` get a deterministic one: a hash of account, user, event, timestamp and
properties.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.feather as feather
from sqlalchemy.orm import Session

from banso.ingest.batches import (
    ImportResult,
    ProblemSink,
    Progress,
    account_refs,
    parse_batch,
    record_batch,
)
from banso.ingest.readers import SourceFile
from banso.ingest.schemas import ImportKind
from banso.usage import store

_STAGED = ("event_id", "account_id", "user_id", "event", "ts", "properties")


def import_events(
    session: Session,
    source_file: SourceFile,
    fields: dict[str, str],
    source: str,
    dry_run: bool,
    progress: Progress | None = None,
) -> ImportResult:
    """Validate every event of the file, then append the new ones to the event store."""
    store.refuse_writes()  # before reading a row: events.yaml may name an external source
    sink = ProblemSink(source_file.path.name, fields)
    root = store.store_dir()
    staging = store.scratch_dir(root)
    staged: dict[str, list[Path]] = defaultdict(list)
    account_ids: set[str] = set()
    rows = 0
    try:
        for number, batch in enumerate(source_file.batches):
            table = parse_batch(batch.columns, batch.rows, ImportKind.EVENTS, fields, sink)
            rows += table.num_rows
            if progress:
                progress(batch.bytes_read, source_file.size)
            _check_times(table, sink)
            if sink.problems:
                continue  # keep reading to report every problem; nothing more is staged
            table = _with_event_ids(table.rename_columns({"timestamp": "ts"}))
            account_ids.update(pc.unique(table["account_id"]).to_pylist())
            _stage_by_day(table.select(list(_STAGED)), staging, number, staged)
        sink.raise_if_any()
        inserted = 0
        refs = account_refs(
            session, pa.array(sorted(account_ids), pa.string()), None, source, dry_run
        )
        inserted = _append_days(staged, refs.ids, root, publish=not dry_run)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    result = ImportResult(
        ImportKind.EVENTS.value, source_file.path.name, source, rows, inserted, 0,
        rows - inserted, refs.created, dry_run,
    )  # fmt: skip
    if not dry_run:
        record_batch(session, result)
    return result


def _with_event_ids(table: pa.Table) -> pa.Table:
    """Fill missing event ids with ``h:`` + md5 of the event's content (DuckDB, vectorised)."""
    if table["event_id"].null_count == 0:
        return table
    import duckdb

    con = duckdb.connect()
    try:
        con.register("events", table)
        derived = con.sql(
            "SELECT coalesce(event_id, 'h:' || md5(concat_ws(chr(31), account_id,"
            " coalesce(user_id, ''), event, epoch_us(ts)::VARCHAR, coalesce(properties, ''))))"
            " AS event_id FROM events"
        ).to_arrow_table()["event_id"]
    finally:
        con.close()
    return table.set_column(table.column_names.index("event_id"), "event_id", derived)


def _stage_by_day(
    table: pa.Table, staging: Path, number: int, staged: dict[str, list[Path]]
) -> None:
    """Split one batch by UTC day into IPC files ``staging/<day>/<batch>.arrow``."""
    days = pc.cast(table["ts"], pa.date32())
    order = pc.sort_indices(days)
    table = table.take(order)
    days = days.take(order)
    start = 0
    for item in pc.value_counts(days).to_pylist():  # days are sorted: counts come in day order
        day, count = item["values"], item["counts"]
        directory = staging / day.isoformat()
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{number:06d}.arrow"
        feather.write_feather(table.slice(start, count), path, compression="lz4")
        staged[day.isoformat()].append(path)
        start += count


def _check_times(table: pa.Table, sink: ProblemSink) -> None:
    """Every parsed time outside the store's window is a problem of its row."""
    bad = store.outside_window(table["timestamp"])
    if bad:
        reason = store.window_reason()
        for index in bad:
            sink.add(table["_row"][index].as_py(), "timestamp", reason)


def _append_days(
    staged: dict[str, list[Path]], ids: dict[str, int | None], root: Path, publish: bool
) -> int:
    """Hand every staged day to one append of the store (all published, or none); returns the
    events that were new. A dry run (``publish=False``) only counts them."""
    keys = pa.array(list(ids), pa.string())
    values = pa.array([ids[k] or 0 for k in ids], pa.int64())  # None: created by a real run
    with store.Append(root, publish=publish) as append:
        for day in sorted(staged):
            part = pa.concat_tables(feather.read_table(f) for f in staged[day])
            account = values.take(pc.index_in(part["account_id"], value_set=keys))
            part = part.set_column(1, pa.field("account_id", pa.int64(), nullable=False), account)
            append.add_day(day, part)
    return append.written  # final once the append has ended
