"""The event store keeps one event per id across all days, takes only plausible times, publishes
an append whole or not at all, and sets unreadable files aside instead of failing readers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from banso import config
from banso.usage import store
from banso.usage.store import (
    EVENT_SCHEMA,
    Append,
    EventRejected,
    append_events,
    event_files,
    quarantined,
    write_partition,
)


def _table(*rows: tuple[str, int, datetime]) -> pa.Table:
    return pa.Table.from_pylist(
        [{"event_id": i, "account_id": a, "user_id": "u", "event": "login", "ts": ts,
          "properties": None} for i, a, ts in rows],
        schema=EVENT_SCHEMA,
    )  # fmt: skip


def _stored() -> list[tuple[str, str]]:
    return sorted(
        (row["event_id"], f.parent.name)
        for f in event_files()
        for row in pq.read_table(f).to_pylist()
    )


D1 = datetime(2026, 5, 1, 9, tzinfo=UTC)
D2 = datetime(2026, 5, 2, 9, tzinfo=UTC)


def test_an_event_id_sent_again_with_another_day_is_stored_once() -> None:
    assert append_events(_table(("e1", 1, D1), ("e2", 1, D1))) == 2
    # the same ids again, one of them a day later (a resend with a corrected clock)
    assert append_events(_table(("e1", 1, D2), ("e2", 1, D1), ("e3", 1, D2))) == 1
    # within one append too: the earlier day's is kept
    assert append_events(_table(("e4", 1, D2), ("e4", 1, D1))) == 1
    assert _stored() == [("e1", "date=2026-05-01"), ("e2", "date=2026-05-01"),
                         ("e3", "date=2026-05-02"), ("e4", "date=2026-05-01")]  # fmt: skip


def test_files_written_without_the_index_are_indexed_at_the_next_append() -> None:
    # the demo's generator writes day files directly
    write_partition(_table(("old", 1, D1)), "2026-05-01", "demo")
    assert append_events(_table(("old", 1, D2), ("new", 1, D2))) == 1
    assert _stored() == [("new", "date=2026-05-02"), ("old", "date=2026-05-01")]


@pytest.mark.parametrize(
    "ts",
    [datetime(1, 1, 1, tzinfo=UTC), datetime(1989, 12, 31, 23, 59, tzinfo=UTC),
     datetime(9935, 3, 1, tzinfo=UTC), datetime.now(UTC) + timedelta(days=8)],
)  # fmt: skip
def test_times_outside_the_window_are_refused_with_row_and_field(ts: datetime) -> None:
    with pytest.raises(EventRejected) as caught:
        append_events(_table(("ok", 1, D1), ("bad", 1, ts)))
    assert (caught.value.index, caught.value.field) == (1, "ts")
    assert "between 1990-01-01 and" in caught.value.reason
    assert list(store.store_dir().glob("date=*")) == []


def test_the_window_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    soon = datetime.now(UTC) + timedelta(days=3)
    monkeypatch.setenv("BANSO_EVENT_FUTURE_DAYS", "1")
    monkeypatch.setenv("BANSO_EVENT_EARLIEST", "2026-05-02")
    config.get_settings.cache_clear()
    with pytest.raises(EventRejected):
        append_events(_table(("a", 1, soon)))
    with pytest.raises(EventRejected):
        append_events(_table(("b", 1, D1)))
    assert append_events(_table(("c", 1, D2))) == 1


def test_an_append_that_fails_part_way_writes_no_day() -> None:
    with pytest.raises(RuntimeError), Append() as append:
        append.add_day(date(2026, 5, 1), _table(("a", 1, D1)))
        append.add_day(date(2026, 5, 2), _table(("b", 1, D2)))
        raise RuntimeError("the disk is full")
    assert event_files() == []
    assert [p.name for p in store.store_dir().iterdir()] == [".lock"]
    # and the ids it had staged are not taken for stored ones
    assert append_events(_table(("a", 1, D1), ("b", 1, D2))) == 2


def test_a_publish_a_dead_process_committed_is_finished_and_an_uncommitted_one_dropped() -> None:
    append_events(_table(("a", 1, D1)))
    base = store.store_dir()
    committed = base / ".publish-dead1"
    write_partition(_table(("b", 1, D2)), "2026-05-02", "dead1", committed)
    (committed / "COMMITTED").touch()
    half = base / ".publish-dead2"
    write_partition(_table(("c", 1, D2)), "2026-05-02", "dead2", half)
    assert _stored() == [("a", "date=2026-05-01"), ("b", "date=2026-05-02")]
    assert not committed.exists() and not half.exists()


def test_an_unreadable_file_is_quarantined_and_skipped(banso_home: Path) -> None:
    append_events(_table(("a", 1, D1)))
    append_events(_table(("b", 1, D2)))
    [_, broken] = event_files()
    broken.write_bytes(b"PAR1 not really parquet")
    assert [f.parent.name for f in event_files()] == ["date=2026-05-01"]
    [gone] = quarantined()
    assert gone.day == date(2026, 5, 2) and gone.original == broken
    assert gone.path == banso_home / "quarantine" / "events" / "date=2026-05-02" / broken.name
    assert gone.path.read_bytes() == b"PAR1 not really parquet"
    assert str(broken) in gone.message() and "2026-05-02" in gone.message()
    assert quarantined(first=date(2026, 5, 3)) == []


def test_a_hash_collision_never_drops_an_event(monkeypatch: pytest.MonkeyPatch) -> None:
    # a hash under which every id of the same length collides: matches must be confirmed
    monkeypatch.setattr(store, "_HASH", "length(event_id)::UBIGINT")
    assert append_events(_table(("a1", 1, D1), ("b1", 1, D1))) == 2
    assert append_events(_table(("a2", 1, D2), ("b1", 1, D2), ("c3", 1, D1))) == 2
    assert _stored() == [("a1", "date=2026-05-01"), ("a2", "date=2026-05-02"),
                         ("b1", "date=2026-05-01"), ("c3", "date=2026-05-01")]  # fmt: skip


def test_the_index_is_rebuilt_for_another_duckdb_version(monkeypatch: pytest.MonkeyPatch) -> None:
    append_events(_table(("a", 1, D1)))
    old = store.index_dir()
    assert [f.suffix for f in old.iterdir()] == [".parquet"]
    monkeypatch.setattr(store.duckdb, "__version__", "99.0.0")
    assert append_events(_table(("a", 1, D2), ("b", 1, D2))) == 1
    assert not old.exists() and store.index_dir().name == "duckdb-99.0.0"
    assert len(list(store.index_dir().glob("*.parquet"))) == 2


def test_a_reader_neither_waits_for_nor_disturbs_a_running_append() -> None:
    import threading

    seen: list[list[Path]] = []
    with Append() as append:
        append.add_day(date(2026, 5, 1), _table(("a", 1, D1)))
        reader = threading.Thread(target=lambda: seen.append(event_files()))
        reader.start()
        reader.join(timeout=5)
        assert not reader.is_alive() and seen == [[]]  # not blocked; the staged day not shown
        assert append.staging.exists()
    assert _stored() == [("a", "date=2026-05-01")]


def test_two_threads_sending_the_same_event_store_it_once() -> None:
    from concurrent.futures import ThreadPoolExecutor

    batch = _table(*((f"e{i}", 1, D1 + timedelta(seconds=i)) for i in range(200)))
    with ThreadPoolExecutor(4) as pool:
        written = list(pool.map(lambda _: append_events(batch), range(4)))
    assert sorted(written) == [0, 0, 0, 200]
    assert len(_stored()) == 200


APPEND_IN_A_PROCESS = """
from datetime import UTC, datetime, timedelta
import pyarrow as pa
from banso.usage.store import EVENT_SCHEMA, append_events
start = datetime(2026, 5, 1, 9, tzinfo=UTC)
rows = [{"event_id": f"e{i}", "account_id": 1, "user_id": "u", "event": "login",
         "ts": start + timedelta(hours=i), "properties": None} for i in range(500)]
print(append_events(pa.Table.from_pylist(rows, schema=EVENT_SCHEMA)))
"""


def test_two_processes_sending_the_same_events_store_them_once() -> None:
    import subprocess
    import sys

    runs = [
        subprocess.Popen([sys.executable, "-c", APPEND_IN_A_PROCESS], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]  # fmt: skip
    outputs = [run.communicate(timeout=120) for run in runs]
    assert all(run.returncode == 0 for run in runs), outputs
    assert sorted(int(out) for out, _err in outputs) == [0, 0, 500]
    assert len(_stored()) == 500


def test_many_small_appends_keep_the_index_to_a_few_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "INDEX_FILES_BEFORE_COMPACTION", 3)
    for i in range(6):
        append_events(_table((f"e{i}", 1, D1 + timedelta(minutes=i))))
    files = list(store.index_dir().glob("*.parquet"))
    assert 1 <= len(files) <= 3
    # every batch stays covered (none is indexed again) and every id is still found
    assert append_events(_table(*((f"e{i}", 1, D2) for i in range(6)))) == 0
    assert len(_stored()) == 6
    covered = set().union(*(store._batches_of(f) for f in store.index_dir().glob("*.parquet")))
    assert covered == {f.stem.removeprefix("part-") for f in event_files()}


def test_scratch_folders_a_dead_importer_left_go_once_a_day_old() -> None:
    import os
    import time

    append_events(_table(("a", 1, D1)))
    old, fresh = store.scratch_dir(), store.scratch_dir()
    for folder in (old, fresh):
        folder.mkdir()
    day_ago = time.time() - 86_400 - 60
    os.utime(old, (day_ago, day_ago))
    append_events(_table(("b", 1, D2)))
    assert not old.exists() and fresh.exists()
