"""KGI → KPI goals (``<config>/goals.yaml``): a company goal tied to one revenue KPI, a
comparison, a target and a due month, with the KPIs that drive it beneath it.

``goal_status`` reads the KPIs from the revenue report
(:func:`banso.revenue.service.revenue_report`,
no second computation) for the 12 months up to the last complete month
(:func:`banso.dates.last_complete_month`) and says where each goal stands:

- ``met``: the latest value satisfies the comparison;
- ``missed``: it does not, and the due month is over;
- ``on_track``: it does not yet, but the straight line from the trend's first month with a value
  to the latest month reaches the target by the due month;
- ``off_track``: otherwise; ``no_data``: the KPI has no value (null) in the latest month.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.orm import Session

from banso.config import get_settings
from banso.dates import last_complete_month
from banso.errors import BansoError, ConfigRejected
from banso.i18n import _
from banso.labels import register
from banso.revenue import service as revenue
from banso.revenue.metrics import LABEL, REVENUE_KPIS
from banso.revenue.months import month_label
from banso.yamlconfig import read_model

GOALS_FILE = "goals.yaml"
KPIS: dict[str, str] = {k.key: k.kind for k in REVENUE_KPIS if k.kind != LABEL}
"""The KPIs a goal can name: the revenue report's keys (docs/metrics.md §9)."""

COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge, "≥": operator.ge, "<=": operator.le, "≤": operator.le,
    ">": operator.gt, "<": operator.lt,
}  # fmt: skip
TREND_MONTHS = 12
STATUSES = ("met", "on_track", "off_track", "missed", "no_data")
register(
    "goal_status",
    {"met": "Met", "on_track": "On track", "off_track": "Off track", "missed": "Missed",
     "no_data": "No data"},
)  # fmt: skip
_DUE = re.compile(r"^(?:(\d{4})-(\d{2})|FY(\d{4}))$")


class GoalsRejected(ConfigRejected):
    """``goals.yaml`` is invalid."""


def _kpi(value: str) -> str:
    if value not in KPIS:
        raise ValueError(
            _("unknown KPI {kpi}; use one of the revenue KPIs: {known}", kpi=value,
              known=", ".join(KPIS))
        )  # fmt: skip
    return value


KpiKey = Annotated[str, AfterValidator(_kpi)]


class GoalEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kpi: KpiKey
    comparison: str
    target: str | float | int
    due: str
    drivers: list[KpiKey] = Field(default_factory=list)

    @field_validator("comparison")
    @classmethod
    def _comparison(cls, v: str) -> str:
        if v not in COMPARISONS:
            raise ValueError(_("use one of >=, <=, >, < (or ≥, ≤)"))
        return v

    @field_validator("target")
    @classmethod
    def _target(cls, v: str | float | int) -> str:
        parse_target(v)
        return str(v)

    @field_validator("due")
    @classmethod
    def _due(cls, v: str) -> str:
        parse_due(v, get_settings().fiscal_year_start)
        return v


class GoalsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    goals: list[GoalEntry] = Field(min_length=1)


def parse_target(value: str | float | int) -> Fraction:
    """A number (``1.15``, ``0.02``) or a percentage (``115%``, ``2 %``) as an exact fraction."""
    text = str(value).strip()
    percent = text.endswith("%")
    try:
        number = Fraction(Decimal(text.removesuffix("%").strip()))
    except (InvalidOperation, ValueError):
        raise ValueError(_("write a number such as 0.02 or a percentage such as 115%")) from None
    return number / 100 if percent else number


def parse_due(value: str, fiscal_year_start: int) -> int:
    """``YYYY-MM`` or ``FY2026`` (the fiscal year's last month) as a month index."""
    match = _DUE.match(str(value).strip())
    if not match or (match.group(2) and not 1 <= int(match.group(2)) <= 12):
        raise ValueError(
            _("write a month YYYY-MM such as 2027-03, or a fiscal year such as FY2026")
        )
    if match.group(3):
        return int(match.group(3)) * 12 + fiscal_year_start - 1 + 11
    return int(match.group(1)) * 12 + int(match.group(2)) - 1


@dataclass(frozen=True)
class Goal:
    name: str
    kpi: KpiKey
    comparison: str
    target: Fraction
    due: int
    drivers: tuple[str, ...]


def load_goals(config_dir: Path | None = None) -> list[Goal]:
    """The goals of ``<config>/goals.yaml``; a clear error when the file is missing or bad."""
    path = (config_dir or get_settings().config_path) / GOALS_FILE
    if not path.exists():
        raise BansoError(
            _("No goals file: write the company's goals in {file} (see the user guide).",
              file=str(path))
        )  # fmt: skip
    loaded = read_model(path, GoalsFile, GoalsRejected, whole="(goals)")
    start = get_settings().fiscal_year_start
    return [
        Goal(g.name, g.kpi, g.comparison, parse_target(g.target), parse_due(g.due, start),
             tuple(g.drivers))
        for g in loaded.model.goals
    ]  # fmt: skip


def goal_status(session: Session, engine: str = "duckdb") -> list[dict[str, Any]]:
    """Each goal's latest value, 12-month trend and status (see the module's docstring)."""
    goals = load_goals()
    last = last_complete_month()
    last_idx = last.year * 12 + last.month - 1
    report = revenue.revenue_report(
        session,
        start=month_label(last_idx - TREND_MONTHS + 1),
        end=month_label(last_idx),
        engine=engine,
    )
    rows = [revenue.rounded(r) for r in report.rows]
    exact = report.rows
    out = []
    for goal in goals:
        trend = [{"month": r["month"], "value": r[goal.kpi]} for r in rows]
        status = _status(goal, [r[goal.kpi] for r in exact], last_idx)
        out.append(
            {
                "goal": goal.name,
                "kpi": goal.kpi,
                "kind": KPIS[goal.kpi],
                "comparison": goal.comparison,
                "target": float(goal.target),
                "due": month_label(goal.due),
                "month": month_label(last_idx),
                "value": rows[-1][goal.kpi],
                "status": status,
                "trend": trend,
                "drivers": [
                    {
                        "kpi": kpi,
                        "value": rows[-1][kpi],
                        "trend": [{"month": r["month"], "value": r[kpi]} for r in rows],
                    }
                    for kpi in goal.drivers
                ],
            }
        )
    return out


def _status(goal: Goal, values: list[Any], last_idx: int) -> str:
    meets = COMPARISONS[goal.comparison]
    latest = values[-1]
    if latest is None:
        return "no_data"
    if meets(Fraction(latest), goal.target):
        return "met"
    if goal.due <= last_idx:
        return "missed"
    first = next((i for i, v in enumerate(values) if v is not None), len(values) - 1)
    steps = len(values) - 1 - first
    if steps == 0:
        return "off_track"
    slope = (Fraction(latest) - Fraction(values[first])) / steps
    projected = Fraction(latest) + slope * (goal.due - last_idx)
    return "on_track" if meets(projected, goal.target) else "off_track"
