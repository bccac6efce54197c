"""The scorecard of a period: each CSM's book figures from the real KPIs against the targets of
their team × job title (``evaluation.yaml``), the attainment of each axis and the weighted total.

Scoring (docs/team.md, Evaluation), exact fractions throughout:

- higher is better (expansion, strategic KPI, qualitative): ``attainment = actual / target``;
- lower is better (churn): ``target / actual``, 150 % when ``actual`` is 0 (and 0 when the
  target is 0 but something churned);
- every attainment is clipped to 0 %..150 % (``ATTAINMENT_CAP``);
- ``total = Σ weight × attainment / Σ weight`` over the axes that have a figure (a book with no
  MRR at the period's start has no churn rate, a period without a qualitative score has no
  qualitative figure); those without one are listed in ``missing``. No axis with a figure: null.

Revenue figures are :func:`banso.revenue.service.revenue_report` of the book's accounts
(:func:`banso.evaluation.books.book_accounts`) summed over the period by
:func:`banso.revenue.fiscal.period_figures`; nothing here computes MRR.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.config import get_settings
from banso.evaluation.books import book_accounts, book_owners
from banso.evaluation.config import AXES, Evaluation, load_evaluation
from banso.evaluation.periods import Period
from banso.evaluation.qualitative import qualitative_scores
from banso.evaluation.strategic import strategic_values
from banso.revenue.fiscal import period_figures
from banso.revenue.months import month_complete
from banso.revenue.service import BookFilter, revenue_report
from banso.team.models import TeamMember

ATTAINMENT_CAP = Fraction(3, 2)
LOWER_IS_BETTER = ("churn",)


@dataclass
class Axis:
    axis: str
    weight: Fraction
    measure: str
    """What the actual is: a churn rate, ``expansion_mrr``, a strategic KPI or ``qualitative``."""
    actual: Fraction | None
    target: Fraction
    attainment: Fraction | None

    @property
    def points(self) -> Fraction | None:
        """weight × attainment, in percentage points of the total when every axis has a figure."""
        return None if self.attainment is None else self.weight * self.attainment


@dataclass
class Scorecard:
    member_id: int
    name: str
    email: str
    team: str | None
    job_title: str | None
    rule: tuple[str, str] | None
    """The evaluation entry applied (team, job title); None: no entry applies, no total."""
    accounts: int
    figures: dict[str, Any]
    """The book's revenue figures of the period (:func:`period_figures`, exact)."""
    axes: list[Axis] = field(default_factory=list)
    total: Fraction | None = None
    missing: list[str] = field(default_factory=list)
    qualitative_note: str | None = None


@dataclass
class ScorecardReport:
    period: Period
    complete: bool
    """Whether every month of the period is over."""
    currency: str
    cards: list[Scorecard]


def attainment(actual: Fraction | None, target: Fraction, lower_is_better: bool) -> Fraction | None:
    """The scoring rule of the module docstring."""
    if actual is None:
        return None
    if lower_is_better:
        if actual <= 0:
            value = ATTAINMENT_CAP
        elif target == 0:
            value = Fraction(0)
        else:
            value = target / actual
    else:
        value = actual / target
    return min(max(value, Fraction(0)), ATTAINMENT_CAP)


def weighted_total(axes: list[Axis]) -> Fraction | None:
    scored = [a for a in axes if a.attainment is not None and a.weight > 0]
    weight = sum((a.weight for a in scored), Fraction(0))
    if not weight:
        return None
    return (
        sum((a.weight * a.attainment for a in scored if a.attainment is not None), Fraction(0))
        / weight
    )


def scorecards(
    session: Session,
    period: Period,
    *,
    member_ids: list[int] | None = None,
    engine: str = "duckdb",
) -> ScorecardReport:
    """The scorecard of every team member (or of ``member_ids``) for ``period``.

    One revenue report split by book (:func:`banso.evaluation.books.book_owners`) gives every
    book's monthly figures; for a single member only that book's lines are read."""
    evaluation = load_evaluation().model
    query = select(TeamMember).order_by(TeamMember.team, TeamMember.name, TeamMember.id)
    if member_ids is not None:
        query = query.where(TeamMember.id.in_(member_ids))
    members = list(session.scalars(query))
    first, last = _days(period)
    scores = qualitative_scores(session, [m.id for m in members], period)
    monthly, currency = _book_months(session, period, [m.id for m in members], engine)
    books: dict[int, list[int]] = defaultdict(list)
    owners = book_owners(period).subquery()
    wanted = select(owners).where(owners.c.member_id.in_([m.id for m in members]))
    for account_id, member_id in session.execute(wanted):
        books[member_id].append(account_id)
    entries = {m.id: evaluation.for_member(m.team, m.job_title) for m in members}
    strategic: dict[int, Fraction | None] = {}
    for kpi in sorted({e.strategic.kpi for e in entries.values() if e is not None}):
        chosen = {m: books.get(m, []) for m, e in entries.items() if e and e.strategic.kpi == kpi}
        strategic |= strategic_values(session, kpi, chosen, first, last)
    cards = []
    for member in members:
        accounts = books.get(member.id, [])
        card = Scorecard(
            member.id,
            member.name,
            member.email,
            member.team,
            member.job_title,
            None,
            len(accounts),
            period_figures(monthly[member.id]),
        )
        entry = entries[member.id]
        if entry is not None:
            score = scores.get(member.id)
            card.rule = (entry.team, entry.job_title)
            card.qualitative_note = score.note if score else None
            qualitative = Fraction(score.score) if score else None
            card.axes = _axes(entry, card.figures, strategic[member.id], qualitative)
            card.total = weighted_total(card.axes)
            card.missing = [a.axis for a in card.axes if a.attainment is None and a.weight > 0]
        cards.append(card)
    return ScorecardReport(period, month_complete(period.months.last), currency, cards)


def _book_months(
    session: Session, period: Period, member_ids: list[int], engine: str
) -> tuple[dict[int, list[dict[str, Any]]], str]:
    """Each member's monthly revenue rows of ``period`` and the reporting currency: one report
    split by book, or for one member a report of that book's lines only; a member whose book
    has no line gets the rows of an empty book."""
    start, end = period.first_month, period.last_month
    monthly: dict[int, list[dict[str, Any]]] = defaultdict(list)
    currency = get_settings().reporting_currency
    if len(member_ids) > 1:
        report = revenue_report(
            session, start=start, end=end, engine=engine, books=book_owners(period)
        )
        currency = report.currency
        for row in report.rows:
            if row["book"] in member_ids:
                monthly[row["book"]].append(row)
    for member_id in member_ids:
        if member_id not in monthly:
            only = BookFilter(accounts=book_accounts(member_id, period))
            report = revenue_report(session, start=start, end=end, engine=engine, book=only)
            monthly[member_id], currency = report.rows, report.currency
    return monthly, currency


def _axes(
    entry: Evaluation,
    figures: dict[str, Any],
    strategic: Fraction | None,
    qualitative: Fraction | None,
) -> list[Axis]:
    churn_key = entry.churn.measure
    actuals = {
        "churn": figures[
            "avg_monthly_gross_mrr_churn_rate"
            if churn_key == "gross_mrr_churn_rate"
            else "renewal_churn_rate"
        ],
        "expansion": figures["expansion_mrr"],
        "strategic": strategic,
        "qualitative": qualitative,
    }
    targets = {
        "churn": Fraction(entry.churn.target),
        "expansion": Fraction(entry.expansion.target_per_month) * figures["months"],
        "strategic": Fraction(entry.strategic.target),
        "qualitative": Fraction(entry.qualitative.target),
    }
    measures = {
        "churn": churn_key,
        "expansion": "expansion_mrr",
        "strategic": entry.strategic.kpi,
        "qualitative": "qualitative",
    }
    return [
        Axis(
            axis,
            Fraction(entry.weights[axis]),
            measures[axis],
            actuals[axis],
            targets[axis],
            attainment(actuals[axis], targets[axis], axis in LOWER_IS_BETTER),
        )
        for axis in AXES
    ]


def _days(period: Period) -> tuple[date, date]:
    first = date(period.months.first // 12, period.months.first % 12 + 1, 1)
    after = period.months.last + 1
    return first, date(after // 12, after % 12 + 1, 1) - timedelta(days=1)
