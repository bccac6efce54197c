"""Plan vs actual (``banso targets actual``): per month of a fiscal year that is over, the plan
of :func:`banso.targets.plan.build_targets` beside the actuals: renewal = MRR due − MRR lost
(spec §5, the renewal calendar), expansion = §3 ``expansion_mrr``, new = §3 ``new_mrr``.

By owner (a CSM, by email) or team (``members`` in ``targets.yaml``): the renewal plan is the
owner's own MRR due × (1 − the month's planned rate); the expansion and new plans are one head's
of the owner's team (a team: its whole plan); accounts whose owner is in no team count under no
team (null).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from sqlalchemy.orm import Session

from banso.dates import last_complete_month
from banso.errors import BansoError
from banso.i18n import _
from banso.renewals.calendar import renewal_calendar
from banso.revenue.metrics import LABEL, MONEY, RATE, Kpi
from banso.revenue.months import month_label, parse_month
from banso.revenue.service import revenue_report
from banso.targets.config import Targets
from banso.targets.plan import TargetPlan, build_targets

BY = ("owner", "team")

ACTUAL_KPIS: tuple[Kpi, ...] = (
    Kpi("month", LABEL, "Month", "月"),
    Kpi("renewal_target", MONEY, "Renewal target", "更新目標"),
    Kpi("renewal_actual", MONEY, "Renewal actual", "更新実績"),
    Kpi("expansion_target", MONEY, "Expansion target", "追加受注目標"),
    Kpi("expansion_actual", MONEY, "Expansion actual", "追加受注実績"),
    Kpi("new_target", MONEY, "New business target", "新規受注目標"),
    Kpi("new_actual", MONEY, "New business actual", "新規受注実績"),
    Kpi("total_target", MONEY, "Total target", "目標合計"),
    Kpi("total_actual", MONEY, "Total actual", "実績合計"),
    Kpi("attainment", RATE, "Attainment", "達成率"),
)
"""Columns of plan vs actual, in output order (the ``--by`` key follows ``month``)."""

KINDS = {k.key: k.kind for k in ACTUAL_KPIS}


@dataclass
class PlanVsActual:
    fiscal_year: int
    currency: str
    rows: list[dict[str, Any]]
    by: str | None = None


def targets_actual(
    session: Session,
    fiscal_year: int,
    targets: Targets,
    *,
    by: str | None = None,
    engine: str = "duckdb",
) -> PlanVsActual:
    """Plan vs actual of every month of ``fiscal_year`` that is over."""
    if by is not None and by not in BY:
        raise BansoError(
            _("Unknown breakdown {by}; choose one of {choices}.", by=by, choices=", ".join(BY))
        )
    plan = build_targets(session, fiscal_year, targets, engine=engine)
    complete = last_complete_month().strftime("%Y-%m")
    months = [r["month"] for r in plan.rows if r["month"] <= complete]
    if not months:
        raise BansoError(
            _(
                "No month of fiscal year {year} is over yet; compare plan and actual from "
                "{month} on.",
                year=fiscal_year,
                month=month_label(parse_month(plan.rows[0]["month"], "month") + 1),
            )
        )
    split = None if by is None else "owner"
    revenue = revenue_report(session, start=months[0], end=months[-1], engine=engine, by=split)
    calendar = renewal_calendar(session, start=months[0], end=months[-1], by=split, engine=engine)
    planned = {r["month"]: r for r in plan.rows}
    if by is None:
        rows = [
            _row(
                planned[c["month"]],
                (planned[c["month"]]["renewal_target"], c["mrr_due"] - c["mrr_lost"]),
                (planned[c["month"]]["expansion_target"], r["expansion_mrr"]),
                (planned[c["month"]]["new_target"], r["new_mrr"]),
            )
            for c, r in zip(calendar.rows, revenue.rows, strict=True)
        ]
        return PlanVsActual(fiscal_year, calendar.currency, rows)
    return PlanVsActual(
        fiscal_year,
        calendar.currency,
        _split(plan, targets, months, revenue.rows, calendar.rows, by),
        by,
    )


def _split(
    plan: TargetPlan,
    targets: Targets,
    months: list[str],
    revenue: list[dict[str, Any]],
    calendar: list[dict[str, Any]],
    by: str,
) -> list[dict[str, Any]]:
    team_of = {m.lower(): t for t in targets.teams for m in t.members}
    planned = {r["month"]: r for r in plan.rows}
    zero = Fraction(0)
    # (month, key) -> [renewal plan, renewal actual, expansion plan, expansion actual, new ...]
    sums: dict[tuple[str, str | None], list[Fraction]] = defaultdict(lambda: [zero] * 6)
    for c in calendar:
        team = team_of.get((c["owner"] or "").lower())
        key = c["owner"] if by == "owner" else (team.name if team else None)
        rate = planned[c["month"]]["planned_renewal_churn_rate"]
        cell = sums[(c["month"], key)]
        cell[0] += c["mrr_due"] * (1 - rate)
        cell[1] += c["mrr_due"] - c["mrr_lost"]
    for r in revenue:
        team = team_of.get((r["owner"] or "").lower())
        key = r["owner"] if by == "owner" else (team.name if team else None)
        cell = sums[(r["month"], key)]
        cell[3] += r["expansion_mrr"]
        cell[5] += r["new_mrr"]
    for month in months:
        m = parse_month(month, "month")
        if by == "team":
            for t in targets.teams:
                expansion, new = t.per_head(m)
                cell = sums[(month, t.name)]
                cell[2] += t.heads(month) * expansion
                cell[4] += t.heads(month) * new
        else:
            for email, t in team_of.items():
                owner = next(
                    (k for (mm, k) in sums if mm == month and (k or "").lower() == email), email
                )
                expansion, new = t.per_head(m)
                cell = sums[(month, owner)]
                cell[2] += expansion
                cell[4] += new
    keys = sorted({k for (_m, k) in sums}, key=lambda k: (k is None, k or ""))
    rows = []
    for month in months:
        for key in keys:
            cell = sums.get((month, key), [zero] * 6)
            row = _row({"month": month}, (cell[0], cell[1]), (cell[2], cell[3]), (cell[4], cell[5]))
            rows.append({"month": month, by: key, **{k: v for k, v in row.items() if k != "month"}})
    return rows


def _row(
    planned: dict[str, Any],
    renewal: tuple[Fraction, Fraction],
    expansion: tuple[Fraction, Fraction],
    new: tuple[Fraction, Fraction],
) -> dict[str, Any]:
    target = renewal[0] + expansion[0] + new[0]
    actual = renewal[1] + expansion[1] + new[1]
    return {
        "month": planned["month"],
        "renewal_target": renewal[0],
        "renewal_actual": renewal[1],
        "expansion_target": expansion[0],
        "expansion_actual": expansion[1],
        "new_target": new[0],
        "new_actual": new[1],
        "total_target": target,
        "total_actual": actual,
        "attainment": actual / target if target else None,
    }


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
