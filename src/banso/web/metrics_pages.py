"""The Metrics page: the monthly revenue KPIs and the fiscal-period summary, as tables, from
:mod:`banso.revenue.service` (the same figures as ``banso metrics revenue|summary``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from banso.errors import BansoError
from banso.revenue import cache as revenue_cache
from banso.revenue import service as revenue
from banso.users.models import User
from banso.web.auth import current_user, db_session
from banso.web.templating import render

metrics_pages = APIRouter(include_in_schema=False)

MONTH_COLUMNS = (
    ("mrr_end", "MRR", "money"),
    ("new_mrr", "New", "money"),
    ("expansion_mrr", "Expansion", "money"),
    ("contraction_mrr", "Contraction", "money"),
    ("churned_mrr", "Churned", "money"),
    ("customers_end", "Customers", "count"),
    ("mrr_churn_rate", "Monthly MRR churn rate", "rate"),
    ("renewal_churn_rate", "Monthly renewal churn rate", "rate"),
    ("nrr_12m", "NRR (12 months)", "rate"),
    ("grr_12m", "GRR (12 months)", "rate"),
)
"""(key of the revenue report, English label, kind) of each column of the monthly table."""


@metrics_pages.get("/metrics")
def metrics_page(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session)],
    start: str = "",
    end: str = "",
) -> Response:
    try:
        report = revenue_cache.revenue_report(session, start=start or None, end=end or None)
        periods = revenue_cache.fiscal_summary(session)
    except BansoError as problem:
        return render(request, "metrics.html", {"message": str(problem), "rows": []})
    context: dict[str, Any] = {
        "message": None,
        "currency": report.currency,
        "columns": MONTH_COLUMNS,
        "rows": [revenue.rounded(r) for r in report.rows],
        "periods": [(p.label, p.complete, revenue.rounded(p.figures)) for p in periods],
        "start": report.months.labels()[0],
        "end": report.months.labels()[-1],
    }
    return render(request, "metrics.html", context)
