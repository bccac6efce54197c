"""``GET /api/metrics/revenue``: the monthly revenue KPIs of :mod:`banso.revenue.service`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from banso.revenue import cache as revenue_cache
from banso.revenue import service as revenue
from banso.revenue.months import default_last_month, with_completeness
from banso.users.models import User
from banso.web.auth import current_user, db_session
from banso.web.params import month_range

metrics_api = APIRouter(prefix="/api", tags=["metrics"])
MONTH_PATTERN = r"^[0-9]{4}-[0-9]{2}$"
MONTH_HELP = "A month YYYY-MM from 1990-01 to ten years ahead."


class RevenueOut(BaseModel):
    currency: str
    months: list[dict[str, Any]] = Field(
        description="One row per month with the spec's keys (mrr_end, nrr_12m, "
        "renewal_churn_rate, ...): money rounded to 2 decimals of the currency's major unit, "
        "rates to 6 decimals, null where the spec says so. The row of a month not yet over "
        "(only there when `end` asks for it) also has `complete: false`."
    )


@metrics_api.get("/metrics/revenue", response_model=RevenueOut)
def api_revenue(
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    start: Annotated[str | None, Query(pattern=MONTH_PATTERN, description=MONTH_HELP)] = None,
    end: Annotated[str | None, Query(pattern=MONTH_PATTERN, description=MONTH_HELP)] = None,
) -> RevenueOut:
    """Monthly revenue KPIs from ``start`` to ``end`` (``YYYY-MM``; default the last 12 months
    up to the last complete month with data)."""
    first, last = month_range(start, end or default_last_month(session))
    report = revenue_cache.revenue_report(session, start=first, end=last)
    return RevenueOut(
        currency=report.currency,
        months=[with_completeness(revenue.rounded(r)) for r in report.rows],
    )
