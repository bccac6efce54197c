"""The churn model of ``banso.prediction.model`` on the public IBM Telco churn table.

    .venv/bin/python benchmarks/churn_telco.py [--json] [--seed N]

Five stratified folds (shuffled with seed N, default 0; the table is one row per customer with
no dates, so a random split is the honest split here; Banso's own history is backtested by time,
``banso churn backtest``). Prints ROC AUC, PR AUC, Brier score and a 10-bin reliability table
(predicted vs observed churn rate over the pooled out-of-fold predictions) for the product's
model (``churn_model``), its calibrated gradient boosting alone and the calibrated plain
logistic regression side by side. Figures go to ``benchmarks/README.md``.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from banso.prediction import model as m

TELCO = (
    Path(__file__).resolve().parents[1]
    / "tests/data/external/telco_churn/WA_Fn-UseC_-Telco-Customer-Churn.csv"
)
NUMERIC = ("SeniorCitizen", "tenure", "MonthlyCharges", "TotalCharges")
SKIPPED = ("customerID", "Churn")
FOLDS = 5


def telco_matrix(path: Path = TELCO) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Features (numbers as they are, blank TotalCharges as missing; each other column one-hot
    encoded in sorted category order) and the ``Churn == "Yes"`` label."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    categorical = [c for c in rows[0] if c not in NUMERIC and c not in SKIPPED]
    names: list[str] = list(NUMERIC)
    columns = [[float(r[c]) if r[c].strip() else np.nan for r in rows] for c in NUMERIC]
    for c in categorical:
        for value in sorted({r[c] for r in rows}):
            names.append(f"{c}={value}")
            columns.append([1.0 if r[c] == value else 0.0 for r in rows])
    x = np.array(columns, dtype=float).T
    y = np.array([r["Churn"] == "Yes" for r in rows], dtype=bool)
    return x, y, names


MODELS: dict[str, Callable[[], Any]] = {
    "model": m.churn_model,
    "gradient_boosting": m.gradient_boosting,
    "logistic": m.logistic,
}
"""The product's model (boosting and the additive logistic regression, stacked), its boosting
scorer alone (calibrated), and the plain logistic regression it is judged against."""


def cross_validate(
    x: np.ndarray, y: np.ndarray, models: tuple[str, ...] = tuple(MODELS), seed: int = 0
) -> dict[str, Any]:
    """Pooled out-of-fold figures and per-fold ROC AUC of each model, on the same folds."""
    out: dict[str, Any] = {}
    splits = list(StratifiedKFold(FOLDS, shuffle=True, random_state=seed).split(x, y))
    for name in models:
        make = MODELS[name]
        p = np.zeros(len(y))
        per_fold = []
        for train, test in splits:
            with threadpool_limits(1):
                fitted = make().fit(x[train], y[train])
                p[test] = fitted.predict_proba(x[test])[:, 1]
            per_fold.append(m.figures(y[test], p[test])["roc_auc"])
        out[name] = {**m.figures(y, p), "fold_roc_auc": per_fold}
    return out


def main() -> None:
    started = time.perf_counter()
    x, y, _ = telco_matrix()
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 0
    result = cross_validate(x, y, seed=seed)
    seconds = time.perf_counter() - started
    if "--json" in sys.argv:
        print(json.dumps({**result, "seconds": seconds}, indent=1))
        return
    print(
        f"Telco churn, {len(y)} customers, {int(y.sum())} churned, {FOLDS} folds, {seconds:.0f} s"
    )
    print(f"{'':22}{'ROC AUC':>9}{'PR AUC':>9}{'Brier':>9}")
    for name, f in result.items():
        print(f"{name:22}{f['roc_auc']:9.4f}{f['pr_auc']:9.4f}{f['brier']:9.4f}")
    print("reliability (bin: rows, predicted, observed), " + " | ".join(result))
    tables = [f["calibration"] for f in result.values()]
    for bins in zip(*tables, strict=True):
        print(f"{bins[0]['bin']}: " + " | ".join(_bin(b) for b in bins))


def _bin(b: dict[str, Any]) -> str:
    if not b["rows"]:
        return f"{0:5}      —      —"
    return f"{b['rows']:5} {b['predicted']:6.3f} {b['observed']:6.3f}"


if __name__ == "__main__":
    main()
