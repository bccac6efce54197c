"""The churn model's panel of the Health page (``/health/churn``, loaded by htmx): the kept
model, the features that drifted or are moving, and the calibration of the days scored after
training, all from the drift check ``banso churn drift`` stored (never computed in a request).
It lives here, not in ``banso.health``, because health sits below prediction in the layers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from banso.prediction import drift as dr
from banso.prediction import service
from banso.prediction.reasons import feature_label
from banso.users.models import User
from banso.web.auth import current_user
from banso.web.templating import render

churn_pages = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class FeatureDrift:
    feature: str
    label: str
    psi: float
    drifted: bool
    """PSI >= 0.25; otherwise moving (0.1-0.25)."""


@churn_pages.get("/health/churn")
def churn_panel(request: Request, user: Annotated[User, Depends(current_user)]) -> Response:
    return render(request, "_health_churn.html", churn_panel_context())


def churn_panel_context() -> dict[str, Any]:
    kept = service.latest_model()
    if kept is None:
        return {"kept": None}
    report = service.stored_drift(kept)
    context: dict[str, Any] = {"kept": kept, "meta": kept.meta, "report": report}
    if report is None:
        return context
    moved = [
        FeatureDrift(f["feature"], feature_label(f["feature"]), f["psi"], f["psi"] >= dr.DRIFT_PSI)
        for f in report["features"]
        if f["psi"] is not None and f["psi"] >= dr.MOVING_PSI
    ]
    context["moved"] = sorted(moved, key=lambda f: -f.psi)
    cal = report.get("calibration_since_training")
    if cal is not None and cal["rows"]:
        bins = [b for b in cal["calibration"] if b["rows"]]
        predicted = sum(b["rows"] * b["predicted"] for b in bins) / cal["rows"]
        context["calibration"] = {
            "rows": cal["rows"],
            "positives": cal["positives"],
            "predicted": predicted,
            "observed": cal["positives"] / cal["rows"],
            "brier": cal["brier"],
            "bins": bins,
        }
    return context
