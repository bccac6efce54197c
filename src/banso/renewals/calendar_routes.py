"""The renewal calendar page (``GET /renewals/calendar``): MRR due by month as a chart (renewed
and lost stacked) and a table, past and future, from :func:`banso.renewals.calendar.
renewal_calendar` (the same figures as ``banso renewals calendar``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from banso.dates import last_complete_month
from banso.errors import BansoError, InvalidValue
from banso.i18n import _
from banso.renewals.calendar import renewal_calendar, rounded
from banso.revenue.months import month_label, month_text, parse_month
from banso.users.models import User
from banso.web.auth import current_user, db_session
from banso.web.params import month_range
from banso.web.templating import render

renewal_pages = APIRouter(include_in_schema=False)

PAST_MONTHS, FUTURE_MONTHS = 12, 12
"""The page's default months: the last 12 that are over and the 12 after them."""


@renewal_pages.get("/renewals/calendar")
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
