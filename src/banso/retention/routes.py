"""The Churn reasons page (``/metrics/churn-reasons``): lost MRR by reason over a range of
months, the losses without a reason with a form to record one (admin, ops, CSM), and the goals'
status when ``goals.yaml`` exists. The same service functions as the CLI and the API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from banso.errors import BansoError
from banso.i18n import _
from banso.retention import goals as goals_service
from banso.retention import service
from banso.revenue.months import default_last_month
from banso.users.models import User
from banso.web.auth import Forbidden, current_user, db_session, may_edit_account
from banso.web.params import MAX_ID, month_parameter, month_range
from banso.web.templating import render

retention_pages = APIRouter(include_in_schema=False)
PAGE = "/metrics/churn-reasons"


@retention_pages.get(PAGE)
def churn_reasons_page(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    start: str = "",
    end: str = "",
) -> Response:
    try:
        first, last = month_range(start or None, end or default_last_month(session))
        losses = service.losses(session, start=first, end=last)
        report = service.report(session, start=first, end=last)
    except BansoError as problem:
        return render(request, "churn_reasons.html", {"message": str(problem)})
    try:
        goals: list[dict[str, Any]] | None = goals_service.goal_status(session)
        goals_message = None
    except BansoError as problem:
        goals, goals_message = None, str(problem)
    context = {
        "message": None,
        "start": first or (report[0]["month"] if report else ""),
        "end": last,
        "report": [_rounded(r) for r in report],
        "unreasoned": [_rounded(r) for r in losses if r["reason"] is None],
        "choices": service.choices(),
        "may_write": user.role in service.WRITER_ROLES,
        "goals": goals,
        "goals_message": goals_message,
    }
    return render(request, "churn_reasons.html", context)


@retention_pages.post(PAGE)
def record_reason(
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    account_id: Annotated[int, Form(ge=1, le=MAX_ID)],
    month: Annotated[str, Form(max_length=7)],
    reason: Annotated[str, Form(max_length=64)],
    note: Annotated[str, Form(max_length=service.MAX_NOTE)] = "",
    start: Annotated[str, Form(max_length=7)] = "",
    end: Annotated[str, Form(max_length=7)] = "",
) -> Response:
    if user.role not in service.WRITER_ROLES or not may_edit_account(
        user, service.account_owner(session, account_id)
    ):
        raise Forbidden(_("A CSM records churn reasons on the accounts they own."))
    month = month_parameter(month, "month") or month
    service.record(session, account_id, month, reason, actor=user.email, note=note)
    return RedirectResponse(f"{PAGE}?start={start}&end={end}", status_code=303)


def _rounded(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: float(round(v, 2)) if k in ("churned_mrr", "contraction_mrr", "lost_mrr") else v
        for k, v in row.items()
    }
