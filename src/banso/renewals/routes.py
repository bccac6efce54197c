"""The Renewals page's pipeline list: renewals due in a window with health, the CSM's forecast
(editable in place with htmx: the row is re-rendered), probability and expected MRR; the same
service as ``banso renewals list`` and ``/api/renewals``. Admin and ops set any account's
forecast, a CSM those of the accounts they own; a viewer sees the list without forms."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from banso import dates
from banso.accounts.models import Account
from banso.config import get_settings
from banso.dates import last_complete_month
from banso.errors import BansoError, InvalidValue, NotFound
from banso.i18n import _
from banso.renewals import pipeline
from banso.renewals.calendar import renewal_calendar, rounded
from banso.retention import service as churn_reasons
from banso.revenue.contracts import minor_exponent
from banso.revenue.months import month_label, month_text, parse_month
from banso.users.models import User
from banso.web.auth import Forbidden, current_user, db_session, may_edit_account
from banso.web.params import MAX_ID, month_range
from banso.web.templating import render

renewals_pages = APIRouter(include_in_schema=False)
WINDOW_DAYS = 90


def _htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


@renewals_pages.get("/renewals")
def renewals_page(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
    mine: bool = False,
    band: Annotated[str, Query(pattern=r"^(green|yellow|red)?$")] = "",
    forecast: Annotated[str, Query(pattern=r"^(commit|likely|at_risk|lost|none)?$")] = "",
) -> Response:
    """Renewals from ``from`` (default today) to ``to`` (default 90 days later)."""
    first = start or dates.today()
    last = end or first + timedelta(days=WINDOW_DAYS)
    owner_id = (user.team_member_id or -1) if mine else None
    rows = pipeline.pipeline(
        session, first, last, owner_id=owner_id, band=band or None, forecast=forecast or None
    )
    months = pipeline.by_month(session, rows)
    context: dict[str, Any] = {
        "rows": [_row(user, r) for r in rows],
        "months": [_shown(m) for m in months],
        "first": first,
        "last": last,
        "mine": mine,
        "band": band,
        "forecast": forecast,
        "forecasts": pipeline.FORECASTS,
        "reasons": churn_reasons.choices(),
    }
    return render(request, "renewals_pipeline.html", context)


def _row(user: User, row: dict[str, Any]) -> dict[str, Any]:
    out = _shown(row)
    out["can_set"] = may_edit_account(user, row["owner_id"])
    return out


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    """The rounded row, plus its money in integer minor units (``minor``) for ``|money``."""
    out = pipeline.rounded(row)
    unit = 10 ** minor_exponent(get_settings().reporting_currency)
    out["minor"] = {
        k: round(Fraction(row[k]) * unit)
        for k in ("mrr_due", "expected_mrr", "actual_mrr")
        if row.get(k) is not None
    }
    return out


@renewals_pages.post("/renewals/forecast")
def set_forecast(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    account_id: Annotated[int, Form(ge=1, le=MAX_ID)],
    renewal_date: Annotated[date, Form()],
    status: Annotated[str, Form(max_length=16)] = "",
    note: Annotated[str, Form(max_length=pipeline.MAX_NOTE)] = "",
    reason: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Set (empty status: clear) the forecast of one renewal; with htmx the row comes back."""
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(_("No account with id {id}.", id=account_id))
    if not may_edit_account(user, account.owner_id):
        raise Forbidden(_("Only the account's owner, ops or an admin can set its forecast."))
    error = None
    try:
        pipeline.set_forecast(
            session, account_id, renewal_date, status or None, note, reason or None
        )
    except NotFound:
        raise
    except BansoError as exc:
        if not _htmx(request):
            raise
        session.rollback()
        error = str(exc)
    if not _htmx(request):
        return RedirectResponse(f"/renewals?from={renewal_date}&to={renewal_date}", 303)
    rows = pipeline.pipeline(session, renewal_date, renewal_date)
    row = next((r for r in rows if r["account_id"] == account_id), None)
    if row is None:
        raise NotFound(_("No account with id {id}.", id=account_id))
    context = {
        "r": _row(user, row),
        "forecasts": pipeline.FORECASTS,
        "reasons": churn_reasons.choices(),
        "error": error,
    }
    return render(request, "_renewal_pipeline_row.html", context)


# ---------------------------------------------------------------- the renewal calendar

PAST_MONTHS, FUTURE_MONTHS = 12, 12
"""The page's default months: the last 12 that are over and the 12 after them."""


@renewals_pages.get("/renewals/calendar")
def calendar_page(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    start: str = "",
    end: str = "",
    terms: str = "",
) -> Response:
    over = last_complete_month()
    last_over = over.year * 12 + over.month - 1
    first, last = month_range(
        start or month_label(last_over - PAST_MONTHS + 1),
        end or month_label(last_over + FUTURE_MONTHS),
    )
    assert first is not None and last is not None
    if terms not in ("", "12"):
        raise InvalidValue("terms", _("terms is 12 (annual and longer contracts) or empty."))
    try:
        report = renewal_calendar(
            session, start=first, end=last, min_term_months=12 if terms else 1
        )
    except BansoError as problem:
        return render(request, "renewal_calendar.html", {"message": str(problem), "rows": []})
    rows = [rounded(r) for r in report.rows]
    context: dict[str, Any] = {
        "message": None,
        "currency": report.currency,
        "rows": rows,
        "month_names": {r["month"]: month_text(r["month"]) for r in rows},
        "start": first,
        "end": last,
        "terms": terms,
        "chart": {
            "months": [month_text(r["month"]) for r in rows],
            "renewed": [r["mrr_renewed"] for r in rows],
            "lost": [r["mrr_lost"] for r in rows],
            "future_from": next(
                (i for i, r in enumerate(rows) if parse_month(r["month"], "month") > last_over),
                None,
            ),
            "labels": {
                "renewed": _("MRR renewed"),
                "lost": _("MRR not renewed"),
                "currency": report.currency,
            },
        },
    }
    return render(request, "renewal_calendar.html", context)
