"""``GET /api/renewals/calendar``: the renewal calendar of :mod:`banso.renewals.calendar` (the
same rows as ``banso renewals calendar --format json``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from banso.renewals.calendar import renewal_calendar, rounded
from banso.revenue.months import with_completeness
from banso.users.models import User
from banso.web.auth import current_user, db_session
from banso.web.params import month_range

renewals_api = APIRouter(prefix="/api", tags=["renewals"])
MONTH_PATTERN = r"^[0-9]{4}-[0-9]{2}$"
MONTH_HELP = "A month YYYY-MM from 1990-01 to ten years ahead."


class CalendarOut(BaseModel):
    currency: str
    months: list[dict[str, Any]] = Field(
        description="One row per month (and key) with month, [the --by key,] lines_due, "
        "accounts_due, mrr_due, mrr_renewed, mrr_lost (money rounded to 2 decimals) and "
        "renewal_churn_rate (6 decimals; null for the current month and later ones, and when "
        "nothing was due). A month not yet over also has `complete: false`."
    )


@renewals_api.get("/renewals/calendar", response_model=CalendarOut)
def api_calendar(
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    start: Annotated[str, Query(pattern=MONTH_PATTERN, description=MONTH_HELP)],
    end: Annotated[str, Query(pattern=MONTH_PATTERN, description=MONTH_HELP)],
    by: Annotated[Literal["owner", "segment", "touch", "plan"] | None, Query()] = None,
    min_term_months: Annotated[int, Query(ge=1, le=120)] = 1,
) -> CalendarOut:
    """MRR due for renewal, renewed and not renewed per month from ``start`` to ``end``, past
    and future (spec §5; future months take the contracts as they stand today)."""
    first, last = month_range(start, end)
    assert first is not None and last is not None
    report = renewal_calendar(
        session, start=first, end=last, by=by, min_term_months=min_term_months
    )
    return CalendarOut(
        currency=report.currency,
        months=[with_completeness(rounded(r)) for r in report.rows],
    )
