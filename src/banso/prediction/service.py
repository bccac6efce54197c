"""Churn prediction as the commands use it: backtest, train (keep only a model that beats the
baselines), score, explain, drift. Models live under ``BANSO_HOME/models/churn/v<N>/``
(``model.joblib`` and ``model.json``); a new version never replaces an old one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from sqlalchemy.engine import Engine
from threadpoolctl import threadpool_limits

from banso.config import get_settings
from banso.errors import BansoError
from banso.health.service import scorecards
from banso.i18n import _
from banso.prediction import backtest as bt
from banso.prediction import drift as dr
from banso.prediction import model as m
from banso.prediction.features import (
    SCORING_STEP_DAYS,
    Rows,
    build_rows,
    first_data_day,
    scoring_days,
)
from banso.prediction.reasons import Reason, contributions, contributions_of_rows, top_reasons

DEFAULT_HORIZON_DAYS = 90
Progress = Callable[[str, int, int | None], None]
FIT_THREADS = 1
"""Fits run on one thread: on a shared two-core machine OpenMP's spinning worker threads made a
backtest take 604 s instead of about 60 s (measured on the demo world)."""


class NoHistory(BansoError):
    """Too little history for training rows with complete labels."""


@dataclass
class KeptModel:
    version: int
    path: Path
    meta: dict[str, Any]
    estimator: Any

    @property
    def names(self) -> list[str]:
        return list(self.meta["features"])

    @property
    def typical(self) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in self.meta["typical"]], dtype=float)


def model_root(root: Path | None = None) -> Path:
    return (root or get_settings().home) / "models" / "churn"


def history_rows(
    app_db: Engine, as_of: date, horizon_days: int, progress: Progress | None = None
) -> Rows:
    """Rows of every scoring day up to ``as_of`` (labels complete where the horizon is over)."""
    first = first_data_day(app_db)
    days = scoring_days(first, as_of) if first else []
    if not days:
        raise NoHistory(_("No subscriptions before {day}: nothing to learn from.", day=as_of))
    return build_rows(app_db, days, horizon_days, as_of, scorecards(), progress)


def backtest(
    app_db: Engine,
    as_of: date,
    horizon_days: int,
    progress: Progress | None = None,
    target: str = "churned",
) -> dict[str, Any]:
    """Rolling time-based backtest of the model against the three baselines; ``target`` is
    ``churned`` or ``contracted`` (still a customer at the horizon's end with less MRR)."""
    rows = history_rows(app_db, as_of, horizon_days, progress)
    with threadpool_limits(FIT_THREADS):
        report = bt.run(rows, horizon_days, target)
    if not report["folds"]:
        raise NoHistory(
            _(
                "Too little history for a backtest with a {days}-day horizon: each fold needs "
                "training rows whose horizon ended before it.",
                days=horizon_days,
            )
        )
    return {"as_of": as_of.isoformat(), **report}


def train(
    app_db: Engine,
    as_of: date,
    horizon_days: int,
    progress: Progress | None = None,
    root: Path | None = None,
) -> dict[str, Any]:
    """Backtest, then fit on every row with a complete label and keep the model (a new
    version) only if the backtest beat every baseline on ROC AUC and Brier score."""
    rows = history_rows(app_db, as_of, horizon_days, progress)
    with threadpool_limits(FIT_THREADS):
        report = bt.run(rows, horizon_days)
        report = {"as_of": as_of.isoformat(), **report}
        if not report["kept"]:
            return {**report, "version": None}
        known = rows.take(rows.complete)
        estimator = m.churn_model().fit(known.x, known.churned)
    version = _save(estimator, known, report, root)
    return {**report, "version": version}


def latest_model(horizon_days: int | None = None, root: Path | None = None) -> KeptModel | None:
    """The newest kept model (of that horizon, when given)."""
    base = model_root(root)
    versions = sorted(
        (int(p.name[1:]) for p in base.glob("v*") if p.name[1:].isdigit()), reverse=True
    )
    for version in versions:
        path = base / f"v{version}"
        meta = json.loads((path / "model.json").read_text(encoding="utf-8"))
        if horizon_days is None or meta["horizon_days"] == horizon_days:
            return KeptModel(version, path, meta, joblib.load(path / "model.joblib"))
    return None


def require_model(horizon_days: int, root: Path | None = None) -> KeptModel:
    kept = latest_model(horizon_days, root)
    if kept is None:
        raise BansoError(
            _(
                "No churn model with a {days}-day horizon is kept; run `banso churn train` "
                "(it keeps a model only when it beats the baselines).",
                days=horizon_days,
            )
        )
    return kept


@dataclass(frozen=True)
class AccountScore:
    account_id: int
    day: date
    probability: float
    reasons: list[Reason]


def score(
    app_db: Engine, as_of: date, kept: KeptModel, progress: Progress | None = None
) -> list[AccountScore]:
    """The churn probability of every customer on ``as_of`` with its top reasons."""
    days = [as_of - timedelta(days=SCORING_STEP_DAYS), as_of]
    rows = build_rows(app_db, days, kept.meta["horizon_days"], as_of, scorecards(), progress)
    rows = rows.take(np.array([d == as_of for d in rows.day], dtype=bool))
    if rows.names != kept.names:
        raise BansoError(
            _("The kept churn model was trained on other features; run `banso churn train`.")
        )
    with threadpool_limits(FIT_THREADS):
        probabilities = kept.estimator.predict_proba(rows.x)[:, 1]
        reasons = [
            top_reasons(r)
            for r in contributions_of_rows(kept.estimator, rows.x, kept.names, kept.typical)
        ]
    return [
        AccountScore(int(a), as_of, float(p), r)
        for a, p, r in zip(rows.account_id, probabilities, reasons, strict=True)
    ]


def explain(app_db: Engine, account_id: int, as_of: date, kept: KeptModel) -> dict[str, Any]:
    """One account's probability and every feature's contribution, largest risk first."""
    days = [as_of - timedelta(days=SCORING_STEP_DAYS), as_of]
    rows = build_rows(app_db, days, kept.meta["horizon_days"], as_of, scorecards())
    mine = rows.take((rows.account_id == account_id) & np.array([d == as_of for d in rows.day]))
    if mine.x.shape[0] == 0:
        raise BansoError(
            _(
                "Account {id} is not a customer on {day}: it has no churn score.",
                id=account_id,
                day=as_of.isoformat(),
            )
        )
    row = mine.x[0]
    with threadpool_limits(FIT_THREADS):
        probability = float(kept.estimator.predict_proba(row.reshape(1, -1))[0, 1])
        reasons = contributions(kept.estimator, row, kept.names, kept.typical)
    return {
        "account_id": account_id,
        "as_of": as_of.isoformat(),
        "horizon_days": kept.meta["horizon_days"],
        "model_version": kept.version,
        "probability": probability,
        "reasons": [
            {
                "feature": r.feature,
                "value": r.value,
                "typical": r.typical,
                "contribution": r.contribution,
                "sentence": r.sentence(),
            }
            for r in reasons
        ],
    }


def drift(app_db: Engine, as_of: date, kept: KeptModel) -> dict[str, Any]:
    """Feature distributions of the last three scoring days against the training rows (PSI),
    and calibration on rows scored after training whose horizon has ended."""
    horizon = kept.meta["horizon_days"]
    trained_until = date.fromisoformat(kept.meta["last_training_day"])
    first = first_data_day(app_db)
    days = [d for d in scoring_days(first, as_of) if d > trained_until] if first else []
    recent = days[-3:] if days else [as_of]
    rows = build_rows(app_db, sorted(set(days) | set(recent)), horizon, as_of, scorecards())
    in_recent = np.array([d in recent for d in rows.day], dtype=bool)
    report = dr.feature_drift(kept.meta["reference"], rows.take(in_recent))
    judged = rows.take(rows.complete & np.array([d > trained_until for d in rows.day]))
    calibration = None
    if judged.x.shape[0]:
        with threadpool_limits(FIT_THREADS):
            p = kept.estimator.predict_proba(judged.x)[:, 1]
        calibration = m.figures(judged.churned, p)
    return {
        "as_of": as_of.isoformat(),
        "model_version": kept.version,
        "trained_until": trained_until.isoformat(),
        "recent_days": [d.isoformat() for d in recent],
        "features": report,
        "drifted": [
            f["feature"] for f in report if f["psi"] is not None and f["psi"] >= dr.DRIFT_PSI
        ],
        "calibration_since_training": calibration,
        "training_brier": kept.meta["backtest"]["brier"],
    }


DRIFT_FILE = "drift.json"


def store_drift(kept: KeptModel, report: dict[str, Any]) -> None:
    """Keep the latest drift check beside the model it checked (the Health page shows it; a
    page never computes one)."""
    staging = kept.path / f".{DRIFT_FILE}.partial"
    staging.write_text(json.dumps(report, indent=1), encoding="utf-8")
    staging.replace(kept.path / DRIFT_FILE)


def stored_drift(kept: KeptModel) -> dict[str, Any] | None:
    """The drift check last stored for ``kept``, if any."""
    path = kept.path / DRIFT_FILE
    if not path.exists():
        return None
    stored: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return stored


def _save(estimator: Any, known: Rows, report: dict[str, Any], root: Path | None) -> int:
    base = model_root(root)
    base.mkdir(parents=True, exist_ok=True)
    existing = [int(p.name[1:]) for p in base.glob("v*") if p.name[1:].isdigit()]
    version = max(existing, default=0) + 1
    staging = base / f".v{version}.partial"
    staging.mkdir()
    joblib.dump(estimator, staging / "model.joblib")
    typical = [None if np.isnan(v) else float(v) for v in np.nanmedian(known.x, axis=0)]
    meta = {
        "version": version,
        "horizon_days": report["horizon_days"],
        "as_of": report["as_of"],
        "trained_at": datetime.now(UTC).isoformat(),
        "training_rows": int(known.x.shape[0]),
        "last_training_day": max(known.day).isoformat(),
        "features": known.names,
        "typical": typical,
        "reference": dr.reference(known),
        "backtest": {
            k: report[k] for k in ("roc_auc", "pr_auc", "brier", "top_decile_lift", "beats")
        },
    }
    (staging / "model.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    staging.rename(base / f"v{version}")
    return version
