"""Compaction of the event store: many API-sized appends, then ``compact`` timed.

Usage (from the repository root)::

    .venv/bin/python benchmarks/compact_bench.py [--batches 300] [--batch 5000] [--days 7]

Makes a fresh store under a temporary ``BANSO_HOME`` (``--batches`` appends of ``--batch``
events over ``--days`` UTC days, as the events API writes them: one file per append and day),
then times a DuckDB count over the listing before, ``usage.compact.compact(grace=0)``, and the
same count after, and checks rows, distinct ids and an order-free hash of every row are equal.
The temporary folder is removed at the end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=300)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--days", type=int, default=7)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="banso-compact-"))
    os.environ["BANSO_HOME"] = str(home)

    import duckdb
    import pyarrow as pa

    from banso.usage import compact, store

    start = datetime(2026, 11, 20, tzinfo=UTC)
    began = time.perf_counter()
    for b in range(args.batches):
        n = args.batch
        ids = range(b * n, (b + 1) * n)
        store.append_events(
            pa.table(
                {
                    "event_id": [f"e{i}" for i in ids],
                    "account_id": [(i * 7919) % 10_000 for i in ids],
                    "user_id": [f"u{i % 17}" for i in ids],
                    "event": ["login" if i % 5 == 0 else "report.view" for i in ids],
                    "ts": [start + timedelta(days=i % args.days, seconds=i % 86_000) for i in ids],
                    "properties": [None] * n,
                },
                schema=store.EVENT_SCHEMA,
            )
        )
    print(f"appended {args.batches} x {args.batch} in {time.perf_counter() - began:.1f} s")

    def count() -> tuple[tuple[int, int, int], float]:
        t = time.perf_counter()
        files = [str(f) for f in store.event_files()]
        row = (
            duckdb.connect()
            .execute(
                "SELECT count(*), count(DISTINCT event_id), "
                "sum(hash(event_id, account_id, user_id, event, ts, properties)::HUGEINT) "
                "FROM read_parquet($f)",
                {"f": files},
            )
            .fetchone()
        )
        return row, time.perf_counter() - t  # type: ignore[return-value]

    files_before = len(store.event_files())
    before, read_before = count()
    t = time.perf_counter()
    done = compact.compact(grace=0)
    seconds = time.perf_counter() - t
    after, read_after = count()
    print(f"files {files_before} -> {len(store.event_files())}; rows {before[0]:,}")
    print(f"compact: {seconds:.2f} s ({done.days} days, {done.deleted} files deleted)")
    print(f"full read: {read_before:.2f} s before, {read_after:.2f} s after")
    print("same events:", before == after)
    t = time.perf_counter()
    again = compact.compact(grace=0)
    print(f"second run: {time.perf_counter() - t:.2f} s, {again.days} days")
    shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
