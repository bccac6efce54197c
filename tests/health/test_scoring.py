"""Exact scores from a small scorecard, including re-normalised weights for missing data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from banso.health.scorecard import ScorecardError, load_scorecard_file, load_scorecards
from banso.health.scoring import score_rows

SMALL = """\
name: small
groups:
  usage:
    weight: 3
    measures:
      active_days_28d: {weight: 1, linear: [[0, 0], [20, 100]]}
      wau_mau: {weight: 1, linear: [[0, 0], [0.5, 100]]}
  surveys:
    weight: 1
    measures:
      latest_nps:
        thresholds:
          - {min: 9, score: 100}
          - {min: 7, score: 50}
          - {score: 0}
"""


@pytest.fixture
def small(tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "small.yaml"
    path.write_text(SMALL, encoding="utf-8")
    return load_scorecard_file(path)


def test_full_data_weighted_average(small) -> None:  # type: ignore[no-untyped-def]
    raw = {
        "active_days_28d": np.array([10.0]),
        "wau_mau": np.array([0.25]),
        "latest_nps": np.array([9.0]),
    }
    r = score_rows(small, raw, 1)
    # usage = (50 + 50) / 2 = 50; overall = (3 * 50 + 1 * 100) / 4 = 62.5
    assert r.group_score["usage"][0] == 50.0
    assert r.overall[0] == 62.5
    assert r.band == ["yellow"]
    assert r.measure_weight["active_days_28d"][0] == pytest.approx(0.375)
    assert r.measure_weight["latest_nps"][0] == pytest.approx(0.25)


def test_missing_measure_renormalises_within_group_and_across_groups(small) -> None:  # type: ignore[no-untyped-def]
    raw = {
        "active_days_28d": np.array([20.0, 5.0]),
        "wau_mau": np.array([np.nan, np.nan]),
        "latest_nps": np.array([np.nan, 7.0]),
    }
    r = score_rows(small, raw, 2)
    # row 0: only active_days (100) -> usage 100; surveys skipped -> overall 100
    assert r.overall[0] == 100.0
    assert r.measure_weight["active_days_28d"][0] == 1.0
    assert r.measure_weight["wau_mau"][0] == 0.0
    # row 1: usage 25 (wau_mau skipped), surveys 50 -> (3 * 25 + 50) / 4 = 31.25
    assert r.overall[1] == 31.25
    assert r.band[1] == "red"
    total = sum(w[1] for w in r.measure_weight.values())
    assert total == pytest.approx(1.0)


def test_no_data_gives_no_score(small) -> None:  # type: ignore[no-untyped-def]
    r = score_rows(small, {}, 1)
    assert np.isnan(r.overall[0])
    assert r.band == [None]


def test_linear_clamps_and_thresholds_pick_first_rule(small) -> None:  # type: ignore[no-untyped-def]
    raw = {"active_days_28d": np.array([-3.0, 40.0]), "latest_nps": np.array([8.0, 3.0])}
    r = score_rows(small, raw, 2)
    assert list(r.measure_score["active_days_28d"]) == [0.0, 100.0]
    assert list(r.measure_score["latest_nps"]) == [50.0, 0.0]


def test_band_rounds_half_up(small) -> None:  # type: ignore[no-untyped-def]
    assert small.band(49.4) == "red"
    assert small.band(49.5) == "yellow"
    assert small.band(74.5) == "green"


def test_default_scorecard_loads() -> None:
    cards = load_scorecards(None)
    assert [c.name for c in cards] == ["default"]


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (SMALL.replace("wau_mau:", "wau_maux:"), 7, "unknown measure 'wau_maux'"),
        (
            SMALL.replace("weight: 3", "weight: 0").replace(
                "weight: 1\n    measures", "weight: 0\n    measures"
            ),
            2,
            "group weights must not all be zero",
        ),
        (
            SMALL
            + "bands:\n  - {name: red, min: 0, max: 60}\n  - {name: green, min: 50, max: 100}\n",
            16,
            "overlap",
        ),
        (SMALL.replace("[[0, 0], [20, 100]]", "[[20, 0], [0, 100]]"), 6, "strictly increasing"),
    ],
)
def test_bad_config_names_file_line_and_reason(
    tmp_path: Path, text: str, line: int, fragment: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScorecardError) as exc:
        load_scorecard_file(path)
    problem = exc.value.problems[0]
    assert problem.startswith(f"{path}:{line}:"), problem
    assert fragment in problem


def test_every_measure_has_a_label_in_both_languages() -> None:
    from banso.health.measures import MEASURES, measure_label
    from banso.i18n import set_language

    try:
        for lang in ("en", "ja"):
            set_language(lang)
            labels = {m: measure_label(m) for m in MEASURES}
            assert all(label != m for m, label in labels.items())
        assert labels["active_days_28d"] == "利用日数（28日）"
    finally:
        set_language(None)
