"""An unreadable event file never stops ``banso health score`` or ``banso run``: the store sets it
aside under ``BANSO_HOME/quarantine`` and the commands name it and the day left incomplete."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pyarrow.parquet as pq

from banso.usage.store import event_files, quarantined
from health.test_health_service import D, score, world  # noqa: F401  (the fixture)


def _file_of(day_offset: int) -> Path:
    [path] = [f for f in event_files() if f.parent.name == f"date={D - timedelta(days=day_offset)}"]
    return path


def damage_a_page(path: Path) -> None:
    """Overwrite the middle of the first data page, leaving the footer readable."""
    column = pq.ParquetFile(path).metadata.row_group(0).column(4)  # ts, which every measure reads
    data = bytearray(path.read_bytes())
    start = column.data_page_offset + 8
    data[start : start + 24] = b"\xff" * 24
    path.write_bytes(bytes(data))


def test_health_score_names_the_unreadable_file_and_scores_without_it(
    cli, world: None  # type: ignore[no-untyped-def]  # noqa: F811
) -> None:
    broken = _file_of(2)
    broken.write_bytes(b"not parquet at all")
    result = cli("health", "score", "--as-of", D.isoformat())
    assert result.exit_code == 0, result.stderr
    assert "Scored 2 account-days over 1 day" in result.stdout
    assert score([D])[1]["raw__active_days_28d"] == 9  # of 10: one day's file is set aside
    day = D - timedelta(days=2)
    assert f"Usage for {day} is incomplete: the event file {broken} could not be read" in (
        result.stderr
    )
    assert not broken.exists() and [q.original for q in quarantined()] == [broken]


def test_a_damaged_page_behind_a_good_footer_is_found_and_set_aside(world: None) -> None:  # noqa: F811
    broken = _file_of(4)
    damage_a_page(broken)
    assert broken in event_files()  # the footer still reads
    rows = score([D])
    # a was active on 10 days of the last 28; the damaged day no longer counts
    assert rows[1]["raw__active_days_28d"] == 9
    assert [q.original for q in quarantined()] == [broken]


def test_run_names_the_unreadable_file(cli, world: None) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    broken = _file_of(2)
    broken.write_bytes(b"PAR1")
    result = cli("run", "--as-of", D.isoformat(), "--no-send")
    assert result.exit_code == 0, result.stderr
    assert f"the event file {broken} could not be read" in result.stderr
