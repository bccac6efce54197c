"""A bad day's snapshot never blocks tomorrow: an unreadable file is moved to the quarantine
folder and skipped, and a day outside the accepted window (written before it existed) is
ignored."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pyarrow as pa
import pytest
from tests.playbooks.world import build_world

from banso.health import snapshots


def _day_table(day: date, scores: dict[int, float]) -> pa.Table:
    return pa.table(
        {
            "account_id": pa.array(list(scores), pa.int64()),
            "day": pa.array([day] * len(scores), pa.date32()),
            "score": pa.array(list(scores.values()), pa.float64()),
            "band": pa.array(["green"] * len(scores), pa.string()),
        }
    )


def _write_days(*days: date) -> None:
    for i, day in enumerate(days):
        snapshots.write_day(day, _day_table(day, {1: 50.0 + i, 2: 60.0 + i}))


def _corrupt(day: date, content: bytes = b"this is not parquet") -> Path:
    path = snapshots.snapshot_dir() / f"date={day.isoformat()}" / "scores.parquet"
    path.write_bytes(content)
    return path


D1, D2, D3 = date(2025, 6, 1), date(2025, 6, 2), date(2025, 6, 3)


@pytest.mark.parametrize(
    "damage",
    [b"this is not parquet", None],
    ids=["garbage", "truncated"],
)
def test_reading_skips_and_quarantines_an_unreadable_day(
    banso_home: Path, damage: bytes | None
) -> None:
    _write_days(D1, D2, D3)
    path = snapshots.snapshot_dir() / "date=2025-06-02" / "scores.parquet"
    whole = path.read_bytes()
    bad = _corrupt(D2, damage if damage is not None else whole[: len(whole) // 2])
    table = snapshots.read()
    assert [(r["day"], r["account_id"], r["score"]) for r in table.to_pylist()] == [
        (D1, 1, 50.0), (D1, 2, 60.0), (D3, 1, 52.0), (D3, 2, 62.0),
    ]  # fmt: skip
    (moved,) = snapshots.take_quarantined()
    assert (moved.day, moved.path) == (D2, bad)
    assert moved.destination is not None
    assert moved.destination.parent == banso_home / "quarantine" / "health" / "date=2025-06-02"
    assert moved.destination.read_bytes() == bad.read_bytes() if bad.exists() else True
    assert not bad.exists()
    assert snapshots.scored_days() == [D1, D3]
    assert snapshots.take_quarantined() == []  # reported once


def test_one_account_of_an_unreadable_day_is_none_and_the_file_quarantined(
    banso_home: Path,
) -> None:
    _write_days(D1, D2)
    bad = _corrupt(D2)
    assert snapshots.read_account_day(1, D1) == {
        "account_id": 1, "day": D1, "score": 50.0, "band": "green",
    }  # fmt: skip
    assert snapshots.read_account_day(1, D2) is None
    assert [q.path for q in snapshots.take_quarantined()] == [bad]
    assert len(list((banso_home / "quarantine" / "health").rglob("*.parquet"))) == 1


def test_days_outside_the_accepted_window_and_odd_folders_are_not_scored_days(
    banso_home: Path,
) -> None:
    _write_days(date(1900, 1, 1), D1, date(9999, 12, 31))
    (snapshots.snapshot_dir() / "date=someday").mkdir()
    (snapshots.snapshot_dir() / "date=someday" / "scores.parquet").write_bytes(b"x")
    assert snapshots.scored_days() == [D1]
    assert {r["day"] for r in snapshots.read().to_pylist()} == {D1}


def _old_1900_snapshot() -> None:
    """What ``banso health score --as-of 1900-01-01`` wrote before days were checked: a day
    that scored nobody, with only the fixed columns."""
    day = date(1900, 1, 1)
    snapshots.write_day(
        day,
        pa.table(
            {
                "account_id": pa.array([], pa.int64()),
                "day": pa.array([], pa.date32()),
                "scorecard": pa.array([], pa.string()),
                "score": pa.array([], pa.float64()),
                "band": pa.array([], pa.string()),
                "overridden": pa.array([], pa.bool_()),
            }
        ),
    )


def test_run_works_after_a_1900_snapshot_written_the_old_way(banso_home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    build_world()
    _old_1900_snapshot()
    result = cli("run", "--as-of", "2025-06-17", "--no-send")
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "Run for 2025-06-17." in result.stdout


def test_scoring_1900_is_refused_and_writes_nothing(banso_home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    build_world()
    result = cli("health", "score", "--as-of", "1900-01-01")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: --as-of must be a day from 1990-01-01 to ")
    assert not (banso_home / "health" / "date=1900-01-01").exists()


def test_a_corrupt_earlier_day_does_not_stop_run_or_health_score(banso_home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    build_world()
    first = cli("run", "--as-of", "2025-06-17", "--no-send")
    assert first.exit_code == 0, first.stderr
    bad = _corrupt(date(2025, 6, 16))
    again = cli("run", "--as-of", "2025-06-18", "--no-send")
    assert again.exit_code == 0, again.stderr
    assert "Run for 2025-06-18." in again.stdout
    assert f"Health snapshot {bad} could not be read (" in again.stderr
    assert "the scores of 2025-06-16 are incomplete until that day is scored again." in (
        again.stderr
    )
    assert len(list((banso_home / "quarantine" / "health" / "date=2025-06-16").iterdir())) == 1
    assert snapshots.incomplete_days() == [date(2025, 6, 16)]
    healed = cli("run", "--as-of", "2025-06-18", "--no-send")
    assert healed.exit_code == 0
    # nothing on stderr but the steps' progress lines (stderr is not a terminal here)
    progress_line = re.compile(r".+(…|: done.* s|: \d+ of \d+ \(\d+%\), \d+ s)")
    assert [x for x in healed.stderr.splitlines() if not progress_line.fullmatch(x)] == []
    assert date(2025, 6, 16) in snapshots.scored_days() and snapshots.incomplete_days() == []
    bad = _corrupt(date(2025, 6, 17))
    scored = cli("health", "score", "--as-of", "2025-06-19")
    assert scored.exit_code == 0, scored.stderr
    assert "Traceback" not in scored.stderr
    # 2025-06-19 is the newest day: refreshing the current scores reads the days before it
    assert date(2025, 6, 19) in snapshots.scored_days()
