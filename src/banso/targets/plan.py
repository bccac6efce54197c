"""Targets the seed's way (``docs/metrics.md``, "Targets"): per month M of a fiscal year,

- ``mrr_due``: spec §5 MRR due for renewal in M, from the contracts as they stand today (the
  renewal calendar, :mod:`banso.renewals.calendar`);
- ``planned_renewal_churn_rate``: the override in ``targets.yaml``; else the actual
  月次更新解約率 of M−12 when that month is over and MRR was due then; else the pooled rate of
  the 12 complete months before the fiscal year starts (Σ lost ÷ Σ due; the 12 months up to the
  last complete month when the year starts later); 0 when nothing was due in those either;
- ``renewal_target`` = ``mrr_due × (1 − planned_renewal_churn_rate)``;
- ``expansion_target`` / ``new_target`` = Σ over teams of headcount × productivity per head ×
  products × seasonal weight (default 1); ``total_target`` their sum with the renewal target.

Values are exact (``Fraction``); the output rounds money half-to-even to 2 decimals and rates
to 6 (:func:`rounded`).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from sqlalchemy.orm import Session

from banso.config import get_settings
from banso.dates import EARLIEST_DAY, last_complete_month, latest_day
from banso.errors import BansoError
from banso.i18n import _
from banso.labels import register
from banso.renewals.calendar import renewal_calendar
from banso.revenue.fiscal import fiscal_periods
from banso.revenue.metrics import LABEL, MONEY, RATE, Kpi
from banso.revenue.months import data_bounds, month_label
from banso.targets.config import Targets

BASIS_OVERRIDE, BASIS_M_MINUS_12, BASIS_POOLED, BASIS_NONE = (
    "override",
    "m_minus_12",
    "pooled",
    "none",
)
"""Where a month's planned renewal churn rate comes from (``rate_basis``)."""
register("rate_basis", {
    BASIS_OVERRIDE: "Set in targets.yaml", BASIS_M_MINUS_12: "Same month last year",
    BASIS_POOLED: "Pooled, 12 months before the year", BASIS_NONE: "Nothing due before",
})  # fmt: skip

TARGET_KPIS: tuple[Kpi, ...] = (
    Kpi("month", LABEL, "Month", "月"),
    Kpi("mrr_due", MONEY, "MRR due for renewal", "更新対象MRR"),
    Kpi("planned_renewal_churn_rate", RATE, "Planned renewal churn", "計画月次更新解約率"),
    Kpi("renewal_target", MONEY, "Renewal target", "更新目標"),
    Kpi("expansion_target", MONEY, "Expansion target", "追加受注目標"),
    Kpi("new_target", MONEY, "New business target", "新規受注目標"),
    Kpi("total_target", MONEY, "Total target", "目標合計"),
)
"""The plan's columns, in output order (``rate_basis`` follows them)."""

KINDS = {k.key: k.kind for k in TARGET_KPIS}


@dataclass
class TargetPlan:
    fiscal_year: int
    currency: str
    pooled_rate: Fraction
    """The fallback rate: pooled over ``pooled_months`` (0 when nothing was due)."""
    pooled_months: tuple[str, str]
    rows: list[dict[str, Any]]


def build_targets(
    session: Session, fiscal_year: int, targets: Targets, *, engine: str = "duckdb"
) -> TargetPlan:
    """The plan of ``fiscal_year`` (named by the calendar year it starts in)."""
    start_month = get_settings().fiscal_year_start
    (_label, fy), *_rest = [
        (label, r) for label, r in fiscal_periods(fiscal_year, None, start_month)
        if label == f"FY{fiscal_year}"
    ]  # fmt: skip
    first_data, _default = data_bounds(session)
    latest = latest_day()
    latest_idx = latest.year * 12 + latest.month - 1
    if fy.last < first_data or fy.first > latest_idx or fiscal_year < EARLIEST_DAY.year:
        raise BansoError(
            _(
                "Fiscal year {year} ({first} to {last}) has no contract data: the subscriptions "
                "start in {data}, and plans reach at most to {latest}.",
                year=fiscal_year,
                first=month_label(fy.first),
                last=month_label(fy.last),
                data=month_label(first_data),
                latest=month_label(latest_idx),
            )
        )
    complete = last_complete_month()
    complete_idx = complete.year * 12 + complete.month - 1
    pool_last = min(fy.first - 1, complete_idx)
    pool_first = pool_last - 11
    first = min(pool_first, fy.first - 12)
    calendar = renewal_calendar(
        session, start=month_label(first), end=month_label(fy.last), engine=engine
    )
    by_month = {row["month"]: row for row in calendar.rows}
    pool = [by_month[month_label(m)] for m in range(pool_first, pool_last + 1)]
    pooled_due = sum((r["mrr_due"] for r in pool), Fraction(0))
    pooled_lost = sum((r["mrr_lost"] for r in pool), Fraction(0))
    pooled = pooled_lost / pooled_due if pooled_due else Fraction(0)
    rows = []
    for m in range(fy.first, fy.last + 1):
        label = month_label(m)
        due = by_month[label]["mrr_due"]
        before = by_month[month_label(m - 12)]
        override = targets.planned_renewal_churn_rate.get(label)
        if override is not None:
            rate, basis = Fraction(override), BASIS_OVERRIDE
        elif before["renewal_churn_rate"] is not None:
            rate, basis = before["renewal_churn_rate"], BASIS_M_MINUS_12
        elif pooled_due:
            rate, basis = pooled, BASIS_POOLED
        else:
            rate, basis = Fraction(0), BASIS_NONE
        expansion = sum((t.heads(label) * t.per_head(m)[0] for t in targets.teams), Fraction(0))
        new = sum((t.heads(label) * t.per_head(m)[1] for t in targets.teams), Fraction(0))
        renewal = due * (1 - rate)
        rows.append(
            {
                "month": label,
                "mrr_due": due,
                "planned_renewal_churn_rate": rate,
                "renewal_target": renewal,
                "expansion_target": expansion,
                "new_target": new,
                "total_target": renewal + expansion + new,
                "rate_basis": basis,
            }
        )
    return TargetPlan(
        fiscal_year,
        calendar.currency,
        pooled,
        (month_label(pool_first), month_label(pool_last)),
        rows,
    )


def rounded(row: dict[str, Any]) -> dict[str, Any]:
    """Money half-to-even to 2 decimals, rates to 6, as JSON numbers; the rest unchanged."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        kind = KINDS.get(key)
        if value is None or kind not in (MONEY, RATE):
            out[key] = value
        else:
            out[key] = float(round(Fraction(value), 2 if kind == MONEY else 6))
    return out
