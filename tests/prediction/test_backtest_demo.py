"""On a small demo world the kept model beats the three baselines on the same time-based folds
(the issue's done-when, at test size; the default world's figures are in docs/prediction.md).

At 500 accounts × 30 months the model won on ROC AUC but lost on Brier to the calibrated health
score (0.0477 against 0.0472), so it was not kept there; half the default world (1,000 × 36) is
the smallest size tried on which it wins both."""

from __future__ import annotations

import json
from datetime import date, timedelta

import numpy as np
import pytest

from banso.prediction import backtest as bt
from banso.prediction.features import SCORING_STEP_DAYS, Rows


def test_folds_train_only_on_rows_whose_horizon_ended_before_the_test_days() -> None:
    days = [date(2025, 1, 1) + timedelta(days=SCORING_STEP_DAYS * i) for i in range(20)]
    plan = bt.folds(days, 90)
    assert len(plan) == bt.FOLDS
    tested = [d for f in plan for d in f.test_days]
    assert tested == days[-bt.FOLDS * bt.TEST_DAYS_PER_FOLD :]
    for fold in plan:
        assert fold.cutoff == fold.test_days[0]
        train_days = [d for d in days if d + timedelta(days=90) <= fold.cutoff]
        assert train_days and max(train_days) < fold.cutoff - timedelta(days=89)


@pytest.mark.slow
def test_model_beats_every_baseline_on_a_small_demo_world(cli, banso_home) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").exit_code == 0
    generated = cli(
        "demo", "generate", "--accounts", "1000", "--months", "36", "--end", "2026-06-01",
    )  # fmt: skip
    assert generated.exit_code == 0, generated.stderr
    trained = cli("churn", "train", "--as-of", "2026-05-31", "--format", "json")
    assert trained.exit_code == 0, trained.stderr
    report = json.loads(trained.stdout)
    assert len(report["folds"]) == bt.FOLDS
    for name in bt.BASELINES:
        assert report["roc_auc"] > report["baselines"][name]["roc_auc"], name
        assert report["brier"] < report["baselines"][name]["brier"], name
    assert report["kept"] and report["version"] == 1
    assert (banso_home / "models" / "churn" / "v1" / "model.joblib").exists()
    assert len(report["calibration"]) == 10
    assert sum(b["rows"] for b in report["calibration"]) == report["rows"]

    explained = cli("churn", "explain", "1", "--as-of", "2026-05-31", "--format", "json")
    if explained.exit_code == 0:
        result = json.loads(explained.stdout)
        assert 0.0 <= result["probability"] <= 1.0
        assert len(result["reasons"]) == len(
            json.loads((banso_home / "models/churn/v1/model.json").read_text())["features"]
        )
    else:
        assert "not a customer" in explained.stderr + explained.stdout


def test_a_contraction_backtest_judges_the_contraction_labels(cli) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(3)
    days = [date(2025, 1, 1) + timedelta(days=SCORING_STEP_DAYS * i) for i in range(20)]
    n = 150
    day = np.array([d for d in days for _ in range(n)], dtype=object)
    x = rng.normal(size=(len(day), 3))
    contracted = rng.random(len(day)) < 1 / (1 + np.exp(-(2 * x[:, 0] - 3)))
    churned = rng.random(len(day)) < 0.03  # unrelated to x: the churn target has no signal
    rows = Rows(
        np.tile(np.arange(n), len(days)),
        day,
        np.column_stack([x, 50 + 10 * x[:, 1]]),
        ["signal", "noise", "events_per_active_user_28d", "health_score"],
        churned,
        contracted,
        np.ones(len(day), dtype=bool),
    )
    report = bt.run(rows, 56, target="contracted")
    test_days = [date.fromisoformat(d) for f in report["folds"] for d in f["test_days"]]
    tested = np.array([d in test_days for d in day])
    assert report["target"] == "contracted"
    assert report["positives"] == int(contracted[tested].sum()) != int(churned[tested].sum())
    assert report["roc_auc"] > 0.75  # the signal column predicts contraction
    assert bt.run(rows, 56)["roc_auc"] < 0.65  # and not churn

    refused = cli("churn", "backtest", "--target", "downgrade")
    assert refused.exit_code != 0
    assert (
        "--target must be churn or contraction, not downgrade." in refused.stderr + refused.stdout
    )
