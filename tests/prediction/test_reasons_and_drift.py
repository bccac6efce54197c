"""Reasons read as sentences in both languages; contributions and PSI on worked examples."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from banso.i18n import set_language
from banso.prediction import drift, model
from banso.prediction.features import Rows, known_on, scoring_days
from banso.prediction.reasons import (
    contributions,
    contributions_of_rows,
    describe,
    top_reasons,
)
from banso.revenue.contracts import Line


def test_sentences_in_english_and_japanese() -> None:
    assert (
        describe("active_users_28d_trend", -0.4, 0.0)
        == "Active users (28 days) fell 40.0% in 28 days"
    )
    assert describe("days_since_last_activity", 30.0, 1.0) == "No product activity for 30 days"
    assert describe("days_to_renewal", 21.0, 200.0) == "Renewal in 21 days"
    assert describe("mrr_change_90d", -0.25, 0.0) == "MRR fell 25.0% in 90 days"
    set_language("ja")
    try:
        assert (
            describe("active_users_28d_trend", -0.4, 0.0)
            == "アクティブユーザー数（28日）が28日間で40.0%減少"
        )
        assert describe("days_to_renewal", 21.0, 200.0) == "更新まであと21日"
    finally:
        set_language(None)


def test_a_value_that_raises_risk_comes_first() -> None:
    # churn iff feature 0 is high; feature 1 is noise
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2))
    y = x[:, 0] > 0.5
    fitted = LogisticRegression().fit(x, y)
    typical = np.median(x, axis=0)
    reasons = contributions(fitted, np.array([2.0, typical[1]]), ["a", "b"], typical)
    assert [r.feature for r in reasons] == ["a", "b"]
    assert reasons[0].contribution > 0.3 and reasons[1].contribution == 0.0
    assert [r.feature for r in top_reasons(reasons)] == ["a"]
    # many rows in one call give what one row at a time gives
    many = x[:5]
    batch = contributions_of_rows(fitted, many, ["a", "b"], typical)
    single = [contributions(fitted, row, ["a", "b"], typical) for row in many]
    for got, want in zip(batch, single, strict=True):
        assert [r.feature for r in got] == [r.feature for r in want]
        assert [r.contribution for r in got] == pytest.approx([r.contribution for r in want])


def test_psi_worked_example_and_no_drift_on_the_same_rows() -> None:
    # shares 0.5/0.5 against 0.25/0.75: (0.25-0.5)ln(0.5) + (0.75-0.5)ln(1.5) = 0.27465
    assert math.isclose(
        drift.psi(np.array([0.5, 0.5]), np.array([0.25, 0.75])), 0.27465307, rel_tol=1e-6
    )
    values = np.arange(100, dtype=float).reshape(-1, 1)
    rows = Rows(
        np.arange(100), np.array([date(2026, 1, 1)] * 100, dtype=object), values, ["f"],
        np.zeros(100, bool), np.zeros(100, bool), np.ones(100, bool),
    )  # fmt: skip
    ref = drift.reference(rows)
    assert drift.feature_drift(ref, rows)[0]["psi"] == 0.0
    shifted = Rows(
        rows.account_id, rows.day, values + 1000, ["f"], *[rows.churned] * 2, rows.complete
    )
    assert drift.feature_drift(ref, shifted)[0]["psi"] > drift.DRIFT_PSI


def test_calibration_table_and_lift_by_hand() -> None:
    labels = np.array([1, 0, 0, 0, 1, 0, 0, 0, 0, 0], dtype=bool)
    p = np.array([0.95, 0.05, 0.05, 0.05, 0.15, 0.15, 0.05, 0.05, 0.05, 0.05])
    f = model.figures(labels, p)
    assert f["top_decile_lift"] == 5.0  # the top row churned; the base rate is 0.2
    assert f["calibration"][0] == {
        "bin": "0.0-0.1", "rows": 7, "predicted": pytest.approx(0.05), "observed": 0.0
    }  # fmt: skip
    assert f["calibration"][1]["rows"] == 2 and f["calibration"][1]["observed"] == 0.5
    assert math.isclose(f["brier"], (0.05**2 + 6 * 0.05**2 + 0.85**2 + 0.15**2 + 0.0025) / 10)


def test_an_end_after_the_day_is_not_known_on_the_day() -> None:
    lines = [
        Line(1, date(2025, 1, 1), date(2026, 3, 1), 12000, "JPY", 12),
        Line(1, date(2026, 5, 1), None, 100, "JPY", 1),
    ]
    assert known_on(lines, date(2026, 2, 1)) == [Line(1, date(2025, 1, 1), None, 12000, "JPY", 12)]
    assert known_on(lines, date(2026, 3, 1)) == [lines[0]]
    assert scoring_days(date(2026, 1, 1), date(2026, 4, 1)) == [
        date(2026, 3, 4), date(2026, 4, 1)
    ]  # fmt: skip
