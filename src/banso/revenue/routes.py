"""The Metrics page: the monthly revenue KPIs, the fiscal-period summary and the cohort
retention heatmap, from the cached reports of :mod:`banso.revenue.cache` (the same figures as
``banso metrics revenue|summary|cohorts``), and the page's tables as CSV or Excel files."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from banso.errors import BansoError
from banso.i18n import _
from banso.revenue import cache as revenue_cache
from banso.revenue import service as revenue
from banso.revenue.export import FORMATS, Sheet, sheet, sheet_csv, sheet_xlsx
from banso.revenue.months import (
    default_last_month,
    month_complete,
    month_label,
    month_text,
    parse_month,
)
from banso.revenue.service import BookFilter, CohortReport, RevenueReport, Row, book_choices
from banso.users.models import User
from banso.web.auth import current_user, db_session
from banso.web.params import month_range, owner_parameter
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

COHORT_COLUMNS = (
    ("cohort", "Cohort", "label"),
    ("age", "Age (months)", "count"),
    ("customers", "Customers", "count"),
    ("logo_retention", "Logo retention", "rate"),
    ("mrr", "MRR", "money"),
    ("revenue_retention", "Revenue retention", "rate"),
)
"""(key of the cohort report, English label, kind) of each column of the cohort export."""

HEATMAP_MEASURES = (
    ("logo_retention", "Logo retention"),
    ("revenue_retention", "Revenue retention"),
)
"""The cohort figures the heatmap can colour by: (key, English label)."""

EXPORT_TABLES = ("revenue", "cohorts")

Owner = Annotated[
    str, Query(pattern=r"^([0-9]{0,19}|me)$", description="A team member's id, or me.")
]
Team = Annotated[str, Query(max_length=100, description="A team (team_members.team).")]
Touch = Annotated[str, Query(max_length=16, description="A touch model: high, low, tech.")]
Segment = Annotated[str, Query(max_length=100, description="An account segment.")]


@metrics_pages.get("/metrics")
def metrics_page(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    start: str = "",
    end: str = "",
    owner: Owner = "",
    team: Team = "",
    touch: Touch = "",
    segment: Segment = "",
) -> Response:
    """The revenue KPIs, fiscal periods and cohorts of the accounts the filters let through
    (owner, team, touch model, segment: :class:`BookFilter`; all accounts without one)."""
    book = BookFilter.of(owner_parameter(session, user, owner), team, touch, segment)
    filters = {"book": book, "book_choices": book_choices(session), "query": _query(book)}
    try:
        first, last = page_months(session, start, end)
        report = revenue_cache.revenue_report(session, start=first, end=last, book=book)
        cohorts = revenue_cache.cohort_report(session, start=first, end=last, book=book)
        periods = revenue_cache.fiscal_summary(session, book=book)
    except BansoError as problem:
        return render(request, "metrics.html", {"message": str(problem), "rows": []} | filters)
    grid = cohort_grid(cohorts.rows)
    context: dict[str, Any] = {
        "message": None,
        "complete": month_complete(parse_month(last, "end")),
        "month_names": {r["month"]: month_text(r["month"]) for r in report.rows},
        "currency": report.currency,
        "columns": MONTH_COLUMNS,
        "rows": [revenue.rounded(r) for r in report.rows],
        "periods": [(p.label, p.complete, revenue.rounded(p.figures)) for p in periods],
        "grid": grid,
        "measures": HEATMAP_MEASURES,
        "heatmap": heatmap_data(grid),
        "ranges": {key: value_range(grid, key) for key, _label in HEATMAP_MEASURES},
        "heat_level": heat_level,
        "start": first,
        "end": last,
    } | filters
    return render(request, "metrics.html", context)


@metrics_pages.get("/metrics/export")
def metrics_export(
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    table: str = "revenue",
    file_format: Annotated[str, Query(alias="format")] = "csv",
    start: str = "",
    end: str = "",
    owner: Owner = "",
    team: Team = "",
    touch: Touch = "",
    segment: Segment = "",
) -> Response:
    """The page's revenue or cohort table over its months (and filters) as CSV or xlsx;
    read-only, so any signed-in role may download it."""
    if table not in EXPORT_TABLES or file_format not in FORMATS:
        raise BansoError(
            _(
                "Choose table revenue or cohorts and format csv or xlsx; got {table} and {format}.",
                table=table,
                format=file_format,
            )
        )
    first, last = page_months(session, start, end)
    book = BookFilter.of(owner_parameter(session, user, owner), team, touch, segment)
    if table == "revenue":
        report = revenue_cache.revenue_report(session, start=first, end=last, book=book)
        content = revenue_sheet(report)
    else:
        content = cohort_sheet(
            revenue_cache.cohort_report(session, start=first, end=last, book=book)
        )
    body = sheet_csv(content) if file_format == "csv" else sheet_xlsx(content)
    filename = f"banso-{table}-{first}-{last}.{file_format}"
    return Response(
        body,
        media_type=FORMATS[file_format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _query(book: BookFilter) -> str:
    """The filters as URL query parameters (``&owner=3&touch=tech``) for the page's links."""
    pairs = (
        ("owner", book.owner_id),
        ("team", book.team),
        ("touch", book.touch_model),
        ("segment", book.segment),
    )
    return "".join(f"&{key}={quote(str(value))}" for key, value in pairs if value is not None)


def page_months(session: Session, start: str, end: str) -> tuple[str, str]:
    """The page's months (``YYYY-MM``): ``end`` or the last complete month with data, and
    ``start`` or the 11 months before it, so that the tables, the heatmap and the exports agree."""
    first, last = month_range(start, end or default_last_month(session))
    assert last is not None  # the default is a month
    if first is None:
        first = month_label(parse_month(last, "end") - 11)
    return first, last


def revenue_sheet(report: RevenueReport) -> Sheet:
    """The monthly table as the page shows it: the month, then :data:`MONTH_COLUMNS`."""
    columns = (("month", "Month", "label"), *MONTH_COLUMNS)
    return sheet(_("Monthly revenue KPIs"), report.currency, columns, report.rows)


def cohort_sheet(report: CohortReport) -> Sheet:
    """The cohort table, one line per cohort and age (the heatmap's cells, with the MRR)."""
    return sheet(_("Cohort retention"), report.currency, COHORT_COLUMNS, report.rows)


def cohort_grid(rows: Sequence[Row]) -> dict[str, Any]:
    """Cohort rows (ordered by cohort, then age from 0) as the heatmap's grid, rounded: the ages
    of the oldest cohort and, per cohort, its size and its retention figures by age."""
    lines: dict[str, dict[str, Any]] = {}
    for row in map(revenue.rounded, rows):
        line = lines.setdefault(
            row["cohort"],
            {"cohort": row["cohort"], "customers": row["customers"]}
            | {key: [] for key, _label in HEATMAP_MEASURES},
        )
        for key, _label in HEATMAP_MEASURES:
            line[key].append(row[key])
    oldest = max((len(line["logo_retention"]) for line in lines.values()), default=0)
    return {"ages": list(range(oldest)), "cohorts": list(lines.values())}


def value_range(grid: dict[str, Any], key: str) -> tuple[float, float] | None:
    """The lowest and highest figure of measure ``key`` in the grid (None without any): the
    heatmap's colour scale spans the data, so 84-100 % does not all come out one colour."""
    values = [v for line in grid["cohorts"] for v in line[key] if v is not None]
    return (float(min(values)), float(max(values))) if values else None


HEAT_LEVELS = 10
"""The shades of the cohort tables: ``heat-0`` (the lowest figure) to ``heat-10`` (the highest)."""


def heat_level(value: float, span: tuple[float, float] | None) -> int:
    """The shade (0-10) of ``value`` on the scale ``span`` of its measure, as the heatmap."""
    if span is None:
        return HEAT_LEVELS
    low, high = span
    if high <= low:
        return HEAT_LEVELS
    return max(0, min(HEAT_LEVELS, round((float(value) - low) / (high - low) * HEAT_LEVELS)))


def heatmap_data(grid: dict[str, Any]) -> dict[str, Any]:
    """What metrics.js draws: axis names, cohorts and ages, and per measure its translated
    label, the range of its figures (the colour scale) and its cells
    ``[age, cohort position, value]`` (no cell beyond the report's end)."""
    cohorts = grid["cohorts"]
    return {
        "x_name": _("Months since start"),
        "y_name": _("Cohort"),
        "ages": grid["ages"],
        "cohorts": [line["cohort"] for line in cohorts],
        "measures": {
            key: {
                "label": _(label),
                "range": value_range(grid, key),
                "cells": [
                    [age, position, value]
                    for position, line in enumerate(cohorts)
                    for age, value in enumerate(line[key])
                    if value is not None
                ],
            }
            for key, label in HEATMAP_MEASURES
        },
    }
