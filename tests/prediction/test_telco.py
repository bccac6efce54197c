"""The churn model's code on the public IBM Telco table (benchmarks/churn_telco.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from churn_telco import cross_validate, telco_matrix  # noqa: E402


@pytest.mark.slow
def test_five_fold_telco_auc_and_calibration() -> None:
    x, y, names = telco_matrix()
    assert x.shape == (7043, len(names)) and int(y.sum()) == 1869
    result = cross_validate(x, y, models=("model", "logistic"))
    model, linear = result["model"], result["logistic"]
    # measured 0.8502 (logistic 0.8451) with the outer seed 0 of the benchmark; other seeds of
    # the outer split give a little less (benchmarks/README.md), so the bar is a point below:
    # above the calibrated boosting alone (0.8478), which the stack replaced
    assert model["roc_auc"] >= 0.849
    assert model["roc_auc"] > linear["roc_auc"]
    assert model["brier"] < linear["brier"]
    # calibrated: every well-filled bin's observed churn rate within 6 points of the prediction
    for b in model["calibration"]:
        if b["rows"] >= 150:
            assert abs(b["predicted"] - b["observed"]) < 0.06, b
