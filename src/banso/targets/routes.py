"""The Targets page (``GET /targets``): the fiscal year's plan by month and, for the months that
are over, plan vs actual (overall, by team or by CSM) as a chart and tables; the same figures as
``banso targets build`` and ``banso targets actual``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from banso.config import get_settings
from banso.dates import EARLIEST_DAY, today
from banso.errors import BansoError, InvalidValue
from banso.i18n import _
from banso.revenue.months import month_text
from banso.targets import actual as actual_module
from banso.targets import plan as plan_module
from banso.targets.config import load_targets
from banso.users.models import User
from banso.web.auth import current_user, db_session
from banso.web.templating import render

targets_pages = APIRouter(include_in_schema=False)


def current_fiscal_year() -> int:
    """The fiscal year (named by the calendar year it starts in) that today falls in."""
    now = today()
    start = get_settings().fiscal_year_start
    return now.year if now.month >= start else now.year - 1


@targets_pages.get("/targets")
def targets_page(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    fiscal_year: int | None = None,
    by: str = "",
) -> Response:
    year = current_fiscal_year() if fiscal_year is None else fiscal_year
    if not EARLIEST_DAY.year <= year <= today().year + 10:
        raise InvalidValue(
            "fiscal_year",
            _("Give a fiscal year from {first} to {last}.", first=EARLIEST_DAY.year,
              last=today().year + 10),
        )  # fmt: skip
    if by not in ("", *actual_module.BY):
        raise InvalidValue("by", _("by is team, owner or empty."))
    base: dict[str, Any] = {"fiscal_year": year, "by": by}
    try:
        targets = load_targets().model
        plan = plan_module.build_targets(session, year, targets)
    except BansoError as problem:
        return render(request, "targets.html", {**base, "message": str(problem), "plan": []})
    try:
        versus = actual_module.targets_actual(session, year, targets, by=by or None)
        actual_rows = [actual_module.rounded(r) for r in versus.rows]
    except BansoError as problem:  # no month of the year is over yet
        actual_rows, note = [], str(problem)
    else:
        note = None
    overall = [] if by else actual_rows
    context = {
        **base,
        "message": None,
        "note": note,
        "currency": plan.currency,
        "plan": [plan_module.rounded(r) for r in plan.rows],
        "plan_kpis": plan_module.TARGET_KPIS[1:],
        "actual": actual_rows,
        "actual_kpis": actual_module.ACTUAL_KPIS[1:],
        "month_text": month_text,
        "chart": {
            "months": [month_text(r["month"]) for r in plan.rows],
            "target": [float(round(r["total_target"], 2)) for r in plan.rows],
            "actual": [r["total_actual"] for r in overall],
            "labels": {
                "target": _("Total target"),
                "actual": _("Total actual"),
                "currency": plan.currency,
            },
        },  # fmt: skip
    }
    return render(request, "targets.html", context)
