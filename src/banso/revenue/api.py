"""``GET /api/metrics/revenue``: the monthly revenue KPIs of :mod:`banso.revenue.service`."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from banso.revenue import cache as revenue_cache
from banso.revenue import service as revenue
from banso.users.models import User
from banso.web.auth import current_user, db_session

metrics_api = APIRouter(prefix="/api", tags=["metrics"])


class RevenueOut(BaseModel):
    currency: str
    months: list[dict[str, Any]] = Field(
        description="One row per month with the spec's keys (mrr_end, nrr_12m, "
        "renewal_churn_rate, ...): money rounded to 2 decimals of the currency's major unit, "
        "rates to 6 decimals, null where the spec says so."
    )


@metrics_api.get("/metrics/revenue", response_model=RevenueOut)
def api_revenue(
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session)],
    start: str | None = None,
    end: str | None = None,
) -> RevenueOut:
    """Monthly revenue KPIs from ``start`` to ``end`` (``YYYY-MM``; default the last 12 months)."""
    report = revenue_cache.revenue_report(session, start=start, end=end)
    return RevenueOut(currency=report.currency, months=[revenue.rounded(r) for r in report.rows])
