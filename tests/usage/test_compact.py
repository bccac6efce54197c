"""Compaction rewrites each day's small files into one without changing a single event: the same
rows before and after, fewer files, an append made meanwhile kept, nothing doubled at any point,
and a second run that finds nothing to do."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from banso.usage import compact, store
from banso.usage.store import EVENT_SCHEMA, ROW_GROUP_ROWS, append_events, event_files

D1 = datetime(2026, 5, 1, tzinfo=UTC)


def _batch(start: int, n: int, day: datetime = D1, accounts: int = 50) -> pa.Table:
    return pa.table(
        {
            "event_id": [f"e{i}" for i in range(start, start + n)],
            "account_id": [(i * 7919) % accounts for i in range(start, start + n)],
            "user_id": [f"u{i % 13}" for i in range(start, start + n)],
            "event": ["login" if i % 4 == 0 else "report.view" for i in range(start, start + n)],
            "ts": [day + timedelta(seconds=i % 80_000) for i in range(start, start + n)],
            "properties": [None if i % 3 else f'{{"i": {i}}}' for i in range(start, start + n)],
        },
        schema=EVENT_SCHEMA,
    )


def _fingerprint() -> tuple[int, int, int]:
    """(rows, distinct ids, an order-free hash of every column of every row) of what readers
    see through the store's listing."""
    files = [str(f) for f in event_files()]
    con = duckdb.connect()
    try:
        return con.execute(
            "SELECT count(*), count(DISTINCT event_id), "
            "sum(hash(event_id, account_id, user_id, event, ts, properties)::HUGEINT) "
            "FROM read_parquet($files)",
            {"files": files},
        ).fetchone()  # type: ignore[return-value]
    finally:
        con.close()


def _on_disk() -> list[Path]:
    return sorted(store.store_dir().glob("date=*/part-*.parquet"))


def _api_batches(batches: int, size: int, days: int = 2, first: int = 0) -> None:
    """Many small appends, as the events API makes them, over ``days`` days (ids from
    ``first`` on)."""
    for b in range(batches):
        assert append_events(_batch(first + b * size, size, D1 + timedelta(days=b % days))) == size


def test_a_day_of_small_files_becomes_one_file_with_the_same_events() -> None:
    _api_batches(12, 40)
    before = _fingerprint()
    assert before[:2] == (480, 480)
    assert len(event_files()) == 12

    done = compact.compact(grace=0)

    assert (done.days, done.files_before, done.rows, done.deleted) == (2, 12, 480, 12)
    assert _fingerprint() == before
    assert [f.parent.name for f in event_files()] == ["date=2026-05-01", "date=2026-05-02"]
    assert _on_disk() == event_files()  # the replaced files are gone from disk too
    assert store.days() == ["2026-05-01", "2026-05-02"]


def test_a_second_run_does_nothing() -> None:
    _api_batches(6, 30)
    compact.compact(grace=0)
    files, before = event_files(), _fingerprint()
    stamps = [f.stat().st_mtime_ns for f in files]

    done = compact.compact(grace=0)

    assert (done.days, done.files_before, done.rows, done.deleted) == (0, 0, 0, 0)
    assert event_files() == files
    assert [f.stat().st_mtime_ns for f in files] == stamps
    assert _fingerprint() == before
    assert compact.mergeable_files() == 0


def test_replaced_files_stay_on_disk_for_readers_until_the_grace_is_over() -> None:
    _api_batches(4, 25, days=1)
    listed_before = event_files()
    before = _fingerprint()

    done = compact.compact()  # the default grace: a reader may have just listed the old files

    assert (done.days, done.deleted) == (1, 0)
    assert len(_on_disk()) == 5 and len(event_files()) == 1
    assert _fingerprint() == before  # the listing leaves the replaced files out: no doubles
    # a reader that listed just before the switch still reads what it listed
    assert pq.read_table(listed_before).num_rows == 100
    # the next run after the grace deletes them
    old = (datetime.now(UTC) - timedelta(seconds=compact.REPLACED_GRACE_SECONDS + 5)).timestamp()
    [merged] = event_files()
    os.utime(merged, (old, old))
    assert compact.compact().deleted == 4
    assert _on_disk() == [merged]
    assert _fingerprint() == before


def test_an_append_during_the_rewrite_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    _api_batches(5, 20, days=1)
    rewrite = compact._rewrite

    def append_meanwhile(files: list[Path], target: Path) -> int:
        # the events API appends to the same day while the day's files are being rewritten
        assert append_events(_batch(10_000, 7)) == 7
        return rewrite(files, target)

    monkeypatch.setattr(compact, "_rewrite", append_meanwhile)
    done = compact.compact(grace=0)

    assert (done.days, done.files_before, done.rows) == (1, 5, 100)
    rows, ids, _hash = _fingerprint()
    assert (rows, ids) == (107, 107)
    assert len(event_files()) == 2  # the merged file and the append made meanwhile
    monkeypatch.setattr(compact, "_rewrite", rewrite)
    assert compact.compact(grace=0).days == 1
    assert len(event_files()) == 1 and _fingerprint()[:2] == (107, 107)


def test_a_compaction_that_lost_the_race_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    _api_batches(3, 10, days=1)
    before = _fingerprint()
    rewrite = compact._rewrite

    def another_compaction_first(files: list[Path], target: Path) -> int:
        monkeypatch.setattr(compact, "_rewrite", rewrite)
        compact.compact(grace=0)  # a second process compacts the same day meanwhile
        return rewrite(files, target)

    monkeypatch.setattr(compact, "_rewrite", another_compaction_first)
    done = compact.compact(grace=0)

    assert (done.days, done.skipped) == (0, 1)
    assert len(event_files()) == 1 and len(_on_disk()) == 1
    assert _fingerprint() == before


def test_a_crash_before_the_switch_leaves_the_store_as_it_was(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _api_batches(3, 10, days=1)
    files, before = event_files(), _fingerprint()

    def crash(*_args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(store, "_fsync_dir", crash)  # after the file was renamed in
    with pytest.raises(KeyboardInterrupt):
        compact.compact(grace=0)
    # the switch happened (one rename): readers see the merged file and nothing twice
    assert len(event_files()) == 1 and _fingerprint() == before
    monkeypatch.undo()

    # a crash while rewriting: the new file never reached the day folder
    _api_batches(2, 10, days=1, first=100)
    before = _fingerprint()
    monkeypatch.setattr(compact, "_rewrite", lambda *_a: crash())
    with pytest.raises(KeyboardInterrupt):
        compact.compact(grace=0)
    assert len(event_files()) == 3 and _fingerprint() == before == (50, 50, before[2])
    assert not any(p.name.startswith(".staging-") for p in store.store_dir().iterdir())
    monkeypatch.undo()
    assert compact.compact(grace=0).files_before == 3
    assert _fingerprint() == before
    assert not set(files) & set(_on_disk())


def test_ids_stay_unique_after_compaction() -> None:
    _api_batches(4, 10)
    compact.compact(grace=0)
    # the same ids again, on their own day and on another: the id index still finds them
    again = pa.concat_tables([_batch(0, 10), _batch(10, 10, D1 + timedelta(days=3))])
    assert append_events(again) == 0
    assert append_events(_batch(40, 5, D1 + timedelta(days=1))) == 5
    assert _fingerprint()[:2] == (45, 45)


def test_files_written_without_the_index_are_indexed_before_they_are_merged() -> None:
    # the demo's generator writes day files directly, unindexed
    store.write_partition(_batch(0, 10), "2026-05-01", "demo1")
    store.write_partition(_batch(10, 10), "2026-05-01", "demo2")
    assert compact.compact(grace=0).days == 1
    # an API batch (no same-day read) repeating those ids on another day: all found
    assert append_events(_batch(0, 20, D1 + timedelta(days=2))) == 0
    assert _fingerprint()[:2] == (20, 20)


def test_one_accounts_events_still_lie_in_one_or_two_row_groups() -> None:
    for b in range(4):  # four appends of a day, each holding every account
        append_events(_batch(b * ROW_GROUP_ROWS, ROW_GROUP_ROWS, accounts=1000))
    compact.compact(grace=0)
    [path] = event_files()
    metadata = pq.ParquetFile(path).metadata
    assert metadata.num_rows == 4 * ROW_GROUP_ROWS and metadata.num_row_groups == 4
    column = pq.read_schema(path).get_field_index("account_id")
    bounds = [
        (metadata.row_group(g).column(column).statistics.min,
         metadata.row_group(g).column(column).statistics.max)
        for g in range(metadata.num_row_groups)
    ]  # fmt: skip
    for account in (0, 1, 500, 999):
        holding = [g for g, (low, high) in enumerate(bounds) if low <= account <= high]
        assert 1 <= len(holding) <= 2, (account, holding)


def test_the_command_says_what_it_did() -> None:
    from banso.cli import app

    _api_batches(5, 5)  # three files on the first day, two on the second
    result = CliRunner().invoke(app, ["events", "compact"])
    assert result.exit_code == 0, result.output
    assert "Event store: 5 files of 2 days compacted into one per day (25 events)." in (
        result.stdout
    )
    result = CliRunner().invoke(app, ["events", "compact"])
    assert "nothing to compact" in result.output


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_features_are_the_same_after_compaction_on_duckdb_and_spark() -> None:
    from banso.usage.service import compute_features

    as_of = (D1 + timedelta(days=1)).date()
    _api_batches(6, 30)
    before = compute_features(as_of, engine="duckdb").to_pylist()
    compact.compact()  # the replaced files stay on disk: the listing, not a glob, is read
    assert len(_on_disk()) == 8 and len(event_files()) == 2
    assert compute_features(as_of, engine="duckdb").to_pylist() == before
    spark = compute_features(as_of, engine="spark")
    assert spark.sort_by("account_id").to_pylist() == before
