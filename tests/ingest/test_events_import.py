"""`banso import events` is all-or-nothing and refuses implausible times, row by row."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from banso.usage import store
from banso.usage.store import event_files


def _csv(path: Path, body: str) -> Path:
    path.write_text("event_id,account_id,event,timestamp\n" + body, encoding="utf-8")
    return path


def test_an_import_that_fails_while_writing_keeps_no_day(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    path = _csv(tmp_path / "e.csv", "".join(
        f"e{d},K1,login,2024-04-0{d}T10:00:00Z\n" for d in range(1, 6)))  # fmt: skip
    cli("init")
    real = store._write_file
    calls = []

    def failing(part: pa.Table, final: Path) -> None:
        calls.append(final)
        if len(calls) == 3:
            raise OSError("No space left on device")
        real(part, final)

    monkeypatch.setattr(store, "_write_file", failing)
    failed = cli("import", "events", str(path))
    assert failed.exit_code == 1 and "No space left on device" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert len(calls) == 3  # two days were written before the failure...
    assert event_files() == []  # ...and none of them is in the store
    assert [p.name for p in store.store_dir().iterdir() if p.name != ".lock"] == []
    monkeypatch.setattr(store, "_write_file", real)
    again = cli("import", "events", str(path))
    assert again.exit_code == 0, again.stderr
    assert "5 new" in again.stdout and len(event_files()) == 5


def test_times_outside_the_window_are_problems_of_their_rows(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _csv(tmp_path / "e.csv", "e1,K1,login,2024-04-01T10:00:00Z\n"
                "e2,K1,login,0001-01-01T00:00:00Z\ne3,K1,login,9935-06-01T00:00:00Z\n")  # fmt: skip
    cli("init")
    result = cli("import", "events", str(path))
    assert result.exit_code == 2
    assert "e.csv:3:timestamp: The time must lie between 1990-01-01 and" in result.stderr
    assert "e.csv:4:timestamp: The time must lie between 1990-01-01 and" in result.stderr
    assert event_files() == []


def test_an_id_imported_again_on_another_day_is_unchanged(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli("init")
    cli("import", "events", str(_csv(tmp_path / "a.csv", "e1,K1,login,2024-04-01T10:00:00Z\n")))
    moved = _csv(tmp_path / "b.csv", "e1,K1,login,2024-04-02T10:00:00Z\n")
    assert "0 new, 0 updated, 1 unchanged" in cli("import", "events", str(moved)).stdout
    assert [f.parent.name for f in event_files()] == ["date=2024-04-01"]


def test_a_dry_run_counts_like_a_real_run_and_writes_nothing(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cli("init")
    cli("import", "events", str(_csv(tmp_path / "a.csv", "e1,K1,login,2024-04-01T10:00:00Z\n")))
    path = _csv(tmp_path / "b.csv", "e1,K1,login,2024-04-02T10:00:00Z\n"
                "e2,K1,login,2024-04-02T10:00:00Z\ne2,K1,login,2024-04-03T10:00:00Z\n")  # fmt: skip
    dry = cli("import", "events", str(path), "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert "1 new, 0 updated, 2 unchanged" in dry.stdout
    assert [f.parent.name for f in event_files()] == ["date=2024-04-01"]
    assert "1 new, 0 updated, 2 unchanged" in cli("import", "events", str(path)).stdout
    assert [f.parent.name for f in event_files()] == ["date=2024-04-01", "date=2024-04-02"]
