"""The ``measure_reached`` trigger and the default expansion signals built on it: a green
customer whose health measure crosses the threshold fires on the first day, not while it stays
above, and not when it was already above the day before."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
from tests.playbooks.world import build_world

from banso.db import get_engine
from banso.health import snapshots
from banso.playbooks import service
from banso.playbooks.config import PlaybookError, load_playbook_file
from banso.playbooks.triggers import PlaybookData

DAY = date(2025, 6, 17)
BANDS = {"green", "yellow", "red"}


def _snapshot(day: date, rows: list[tuple[int, str, float | None, float | None]]) -> None:
    """(account, band, active_users_28d_trend, advanced_features_28d) of one scored day."""
    snapshots.write_day(
        day,
        pa.table(
            {
                "account_id": pa.array([r[0] for r in rows], pa.int64()),
                "day": pa.array([day] * len(rows), pa.date32()),
                "score": pa.array([80.0 if r[1] == "green" else 55.0 for r in rows]),
                "band": pa.array([r[1] for r in rows], pa.string()),
                "raw__active_users_28d_trend": pa.array([r[2] for r in rows], pa.float64()),
                "raw__advanced_features_28d": pa.array([r[3] for r in rows], pa.float64()),
            }
        ),
    )


def _fired(name: str, days: list[date]) -> list[tuple[int, date, dict[str, object]]]:
    playbook = service.selected([name])[0]
    table = PlaybookData(get_engine()).firings(playbook, days).to_pylist()
    return [(r["account_id"], r["day"], json.loads(r["detail"])) for r in table]


def test_rising_users_and_advanced_adoption_fire_once_on_the_first_day(banso_home: Path) -> None:
    build_world()
    before = DAY - timedelta(days=1)
    # Alpha (1, high touch): trend 0.1 -> 0.25, crosses 0.2 on DAY; advanced 1 -> 2.
    # Gamma (3, high touch): trend 0.3 on both days (already above: no firing on DAY); yellow on
    # DAY for advanced features (2, first time) -> the green condition keeps it out.
    # Beta (2): tech touch, left out by the default playbooks' touch condition.
    _snapshot(before, [(1, "green", 0.1, 1.0), (2, "green", 0.0, 0.0), (3, "green", 0.3, 0.0)])
    _snapshot(DAY, [(1, "green", 0.25, 2.0), (2, "green", 0.5, 3.0), (3, "yellow", 0.3, 2.0)])
    assert _fired("expansion-usage-rising", [DAY]) == [
        (1, DAY, {"measure": "active_users_28d_trend", "value": 0.25, "at_least": 0.2})
    ]
    assert _fired("expansion-advanced-adoption", [DAY]) == [
        (1, DAY, {"measure": "advanced_features_28d", "value": 2.0, "at_least": 2.0})
    ]
    # the day after, still above: nothing new
    _snapshot(DAY + timedelta(days=1), [(1, "green", 0.3, 2.0), (3, "green", 0.3, 2.0)])
    assert [(a, d) for a, d, _ in _fired("expansion-usage-rising", [DAY + timedelta(days=1)])] == []


def test_an_unknown_measure_names_the_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        "name: p\nlabel: {en: P, ja: P}\n"
        "trigger: {type: measure_reached, measure: happiness, at_least: 1}\n"
        "actions:\n  - open_opportunity: {kind: upsell}\n"
    )
    try:
        load_playbook_file(path, bands=BANDS)
    except PlaybookError as error:
        wanted = "trigger.measure: unknown health measure 'happiness'"
        assert any(wanted in p for p in error.problems)
    else:
        raise AssertionError("an unknown measure was accepted")
