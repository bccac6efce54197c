"""Time-based rolling backtests: each fold trains only on rows whose label was known by its
cutoff and tests on the scoring days after it, never a random split across time.

Fold ``k`` has a block of ``TEST_DAYS_PER_FOLD`` consecutive scoring days starting at its cutoff
``c``; it trains on rows with ``day + horizon <= c`` (their churn window closed by ``c``), so the
last training day is at least one horizon before the first test day. The model and the three
baselines (the health score, events per active user over 28 days, the calibrated logistic
regression) are judged on the same test rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from banso.prediction import model as m
from banso.prediction.features import Rows

FOLDS = 4
TEST_DAYS_PER_FOLD = 3
MIN_TRAIN_POSITIVES = 20

MODEL = "model"
BASELINES = ("health_score", "events_per_active_user_28d", "logistic_regression")


@dataclass(frozen=True)
class Fold:
    cutoff: date
    test_days: tuple[date, ...]


def folds(days: list[date], horizon_days: int) -> list[Fold]:
    """The last ``FOLDS`` blocks of scoring days with complete labels, oldest first; a block
    whose training rows would be empty is dropped."""
    ordered = sorted(set(days))
    out = []
    end = len(ordered)
    for _ in range(FOLDS):
        start = end - TEST_DAYS_PER_FOLD
        if start <= 0:
            break
        cutoff = ordered[start]
        if any(d + timedelta(days=horizon_days) <= cutoff for d in ordered[:start]):
            out.append(Fold(cutoff, tuple(ordered[start:end])))
        end = start
    return out[::-1]


def split(rows: Rows, fold: Fold, horizon_days: int) -> tuple[Rows, Rows]:
    """Training rows (label window closed by the cutoff) and test rows of one fold."""
    known_by = np.array([d + timedelta(days=horizon_days) <= fold.cutoff for d in rows.day])
    in_test = np.array([d in fold.test_days for d in rows.day])
    return rows.take(known_by), rows.take(in_test)


def run(rows: Rows, horizon_days: int, target: str = "churned") -> dict[str, Any]:
    """Backtest figures of the model and each baseline: overall (all test rows pooled) and per
    fold, plus whether the model beat every baseline on ROC AUC and on Brier score."""
    rows = rows.take(rows.complete)
    plan = folds(list(rows.day), horizon_days)
    predictions: dict[str, list[np.ndarray]] = {n: [] for n in (MODEL, *BASELINES)}
    truth: list[np.ndarray] = []
    per_fold = []
    for fold in plan:
        train, test = split(rows, fold, horizon_days)
        y_train = getattr(train, target)
        if y_train.sum() < MIN_TRAIN_POSITIVES or test.x.shape[0] == 0:
            continue
        fold_probs = predict_all(train, y_train, test)
        y_test = getattr(test, target)
        truth.append(y_test)
        for name, p in fold_probs.items():
            predictions[name].append(p)
        per_fold.append(
            {
                "cutoff": fold.cutoff.isoformat(),
                "test_days": [d.isoformat() for d in fold.test_days],
                "train_rows": int(train.x.shape[0]),
                "train_positives": int(y_train.sum()),
                **{name: _headline(m.figures(y_test, p)) for name, p in fold_probs.items()},
            }
        )
    if not truth:
        return {"target": target, "horizon_days": horizon_days, "folds": [], "kept": False}
    y = np.concatenate(truth)
    overall = {name: m.figures(y, np.concatenate(ps)) for name, ps in predictions.items()}
    beats = {name: _better(overall[MODEL], overall[name]) for name in BASELINES}
    return {
        "target": target,
        "horizon_days": horizon_days,
        **overall[MODEL],
        "baselines": {name: overall[name] for name in BASELINES},
        "folds": per_fold,
        "beats": beats,
        "kept": all(all(b.values()) for b in beats.values()),
    }


def predict_all(train: Rows, y_train: np.ndarray, test: Rows) -> dict[str, np.ndarray]:
    """Test-row probabilities of the model and of each baseline, all fitted on ``train``."""
    model = m.churn_model().fit(train.x, y_train)
    linear = m.logistic().fit(train.x, y_train)
    out = {
        MODEL: model.predict_proba(test.x)[:, 1],
        "logistic_regression": linear.predict_proba(test.x)[:, 1],
    }
    for name, risk in (
        ("health_score", health_risk),
        ("events_per_active_user_28d", usage_risk),
    ):
        calibrator = m.RankingCalibrator.fit(risk(train), y_train)
        out[name] = calibrator.probability(risk(test))
    return {name: out[name] for name in (MODEL, *BASELINES)}


def health_risk(rows: Rows) -> np.ndarray:
    """100 - health score: the card's own ranking of risk."""
    return 100.0 - rows.column("health_score")


def usage_risk(rows: Rows) -> np.ndarray:
    """Minus events per active user over 28 days; no active user at all counts as 0 events."""
    return -np.nan_to_num(rows.column("events_per_active_user_28d"), nan=0.0)


def _better(model: dict[str, Any], baseline: dict[str, Any]) -> dict[str, bool]:
    auc = model["roc_auc"] is not None and (
        baseline["roc_auc"] is None or model["roc_auc"] > baseline["roc_auc"]
    )
    return {"roc_auc": bool(auc), "brier": bool(model["brier"] < baseline["brier"])}


def _headline(f: dict[str, Any]) -> dict[str, Any]:
    return {k: f[k] for k in ("rows", "positives", "roc_auc", "pr_auc", "brier", "top_decile_lift")}
