"""Fiscal periods of the revenue reports: a fiscal year and its quarters, and their whole-period
figures from the exact monthly rows of :func:`banso.revenue.service.revenue_report`."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy.orm import Session

from banso.config import get_settings
from banso.errors import BansoError
from banso.i18n import _
from banso.revenue import metrics
from banso.revenue.metrics import KPI_KINDS, MONEY
from banso.revenue.months import MonthRange, data_bounds, month_label
from banso.revenue.service import RevenueReport, Row, month_first_day, revenue_report


@dataclass
class PeriodSummary:
    """Whole-period figures of one fiscal period and the averages of its monthly rates."""

    label: str
    months: MonthRange
    complete: bool
    figures: Row
    monthly: list[Row] = field(default_factory=list)


def fiscal_periods(
    fiscal_year: int, quarter: int | None, start_month: int
) -> list[tuple[str, MonthRange]]:
    """The fiscal year ``fiscal_year`` (starting in ``start_month`` of that calendar year) or one of
    its quarters, as labelled month ranges: Q1..Q4 then the year, or only quarter ``quarter``."""
    first = fiscal_year * 12 + start_month - 1
    quarters = [
        (f"FY{fiscal_year} Q{q}", MonthRange(first + 3 * (q - 1), first + 3 * q - 1))
        for q in range(1, 5)
    ]
    if quarter is not None:
        if not 1 <= quarter <= 4:
            raise BansoError(_("--quarter must be 1, 2, 3 or 4; got {value}.", value=quarter))
        return [quarters[quarter - 1]]
    return [*quarters, (f"FY{fiscal_year}", MonthRange(first, first + 11))]


_PERIOD_TEXT = re.compile(r"^FY(\d{4})(?:\s*Q([1-4]))?$", re.IGNORECASE)


@dataclass(frozen=True)
class FiscalPeriod:
    """A fiscal year or quarter typed as ``FY2025`` or ``FY2025Q3`` (the fiscal year named by the
    calendar year it starts in, ``BANSO_FISCAL_YEAR_START`` its first month)."""

    label: str
    months: MonthRange

    @property
    def first_day(self) -> date:
        return month_first_day(self.months.first)

    @property
    def last_day(self) -> date:
        return month_first_day(self.months.last + 1) - timedelta(days=1)


def parse_fiscal_period(text: str, option: str = "--period") -> FiscalPeriod:
    """``FY2025`` or ``FY2025Q3`` -> the period's months; a BansoError naming ``option`` when
    malformed. With the default April start, FY2025Q3 is October to December 2025."""
    match = _PERIOD_TEXT.match(text.strip())
    if not match:
        raise BansoError(
            _(
                "{option} must be a fiscal year or quarter written FY2025 or FY2025Q3; "
                "got {value!r}.",
                option=option,
                value=text,
            )
        )
    year, quarter = int(match.group(1)), match.group(2)
    periods = fiscal_periods(
        year, int(quarter) if quarter else None, get_settings().fiscal_year_start
    )
    label, months = periods[0] if quarter else periods[-1]
    return FiscalPeriod(label, months)


def last_complete_quarter(day: date, start_month: int | None = None) -> FiscalPeriod:
    """The last fiscal quarter that is over on ``day``: with an April start, FY2025 Q3 on
    2026-01-15 (October-December 2025) and FY2025 Q4 on 2026-04-01."""
    start_month = start_month or get_settings().fiscal_year_start
    last_month = day.year * 12 + day.month - 2  # the month before day's month, as an index
    fiscal_year = (last_month - (start_month - 1)) // 12
    for label, months in reversed(fiscal_periods(fiscal_year, None, start_month)[:4]):
        if months.last <= last_month:
            return FiscalPeriod(label, months)
    label, months = fiscal_periods(fiscal_year - 1, 4, start_month)[0]
    return FiscalPeriod(label, months)


def fiscal_summary(
    session: Session,
    *,
    fiscal_year: int | None = None,
    quarter: int | None = None,
    engine: str = "duckdb",
    reports: Callable[..., RevenueReport] | None = None,
) -> list[PeriodSummary]:
    """Whole-period figures per fiscal period (the year and its quarters, or one quarter).

    Default year: the fiscal year containing :func:`.months.default_last_month`. Periods are cut
    at that month (``complete`` false) and periods that start after it are left out. Whole-period
    figures: MRR and customers at the period's start and end, movements summed, churn rates on the
    period-start base (``Σ churned / start``), renewal churn ``Σ lost / Σ due``, NRR/GRR of the last
    month; ``avg_monthly_*`` are the means of the monthly rates (null months left out).
    ``reports`` replaces :func:`revenue_report` as the source of the monthly rows (the cache).
    """
    settings = get_settings()
    last_data = data_bounds(session)[1]
    if fiscal_year is None:
        fiscal_year = (last_data - (settings.fiscal_year_start - 1)) // 12
    periods = [
        (label, MonthRange(r.first, min(r.last, last_data)), r.last <= last_data)
        for label, r in fiscal_periods(fiscal_year, quarter, settings.fiscal_year_start)
        if r.first <= last_data
    ]
    if not periods:
        raise BansoError(
            _(
                "Fiscal year {year} starts after the last month with data ({month}).",
                year=fiscal_year,
                month=month_label(last_data),
            )
        )
    first = min(r.first for _l, r, _c in periods)
    last = max(r.last for _l, r, _c in periods)
    start, end = month_label(first), month_label(last)
    if reports is None:
        report = revenue_report(session, start=start, end=end, engine=engine)
    else:
        report = reports(session, start=start, end=end)
    by_month = {row["month"]: row for row in report.rows}
    summaries = []
    for label, months, complete in periods:
        monthly = [by_month[m] for m in months.labels()]
        summaries.append(PeriodSummary(label, months, complete, period_figures(monthly), monthly))
    return summaries


PERIOD_RATES = (
    "logo_churn_rate",
    "mrr_churn_rate",
    "gross_mrr_churn_rate",
    "net_mrr_churn_rate",
    "renewal_churn_rate",
    "nrr_1m",
)
"""Monthly rates whose mean over a period is reported as ``avg_monthly_<rate>``."""


def period_figures(monthly: list[Row]) -> Row:
    """Whole-period figures from consecutive exact monthly rows (see :func:`fiscal_summary`)."""
    head, tail = monthly[0], monthly[-1]

    def total(key: str) -> Any:
        return sum(
            (row[key] for row in monthly), start=0 if KPI_KINDS[key] != MONEY else Fraction(0)
        )

    churned, shrank, grew = total("churned_mrr"), total("contraction_mrr"), total("expansion_mrr")
    gained = total("new_mrr") + total("reactivation_mrr") + grew
    mrr_start = head["mrr_start"]
    figures: Row = {
        "from": head["month"],
        "to": tail["month"],
        "months": len(monthly),
        "mrr_start": mrr_start,
        "mrr_end": tail["mrr_end"],
        "customers_start": head["customers_start"],
        "customers_end": tail["customers_end"],
    }
    for key in (
        "new_mrr",
        "expansion_mrr",
        "contraction_mrr",
        "churned_mrr",
        "reactivation_mrr",
        "new_customers",
        "expansion_customers",
        "contraction_customers",
        "churned_customers",
        "reactivated_customers",
        "renewal_due_mrr",
        "renewal_churned_mrr",
    ):
        figures[key] = total(key)
    figures.update(
        {
            "logo_churn_rate": metrics._ratio(
                figures["churned_customers"], head["customers_start"]
            ),
            "mrr_churn_rate": metrics._ratio(churned, mrr_start),
            "gross_mrr_churn_rate": metrics._ratio(churned + shrank, mrr_start),
            "net_mrr_churn_rate": metrics._ratio(churned + shrank - grew, mrr_start),
            "renewal_churn_rate": metrics._ratio(
                figures["renewal_churned_mrr"], figures["renewal_due_mrr"]
            ),
            "nrr_12m": tail["nrr_12m"],
            "grr_12m": tail["grr_12m"],
            "arpa": tail["arpa"],
            "quick_ratio": metrics._ratio(gained, churned + shrank),
        }
    )
    for key in PERIOD_RATES:
        values = [row[key] for row in monthly if row[key] is not None]
        figures[f"avg_monthly_{key}"] = sum(values, Fraction(0)) / len(values) if values else None
    return figures
