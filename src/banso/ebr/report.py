"""What an executive business review (EBR/QBR) of one account over one fiscal period says,
gathered from each fact's owner: objectives and value from ``success``, usage from
``usage.daily`` (never the event files), health from ``health.snapshots``, MRR and renewal from
``revenue.contracts``, tickets and survey counts from their tables, NPS from
``evaluation.strategic``, expansion from ``expansion``, next steps from the open CTAs
(``playbooks.ctas``) and open objectives.

Plain functions over a ``Session``; the caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.service import existing_account
from banso.config import get_settings
from banso.evaluation.strategic import book_nps
from banso.expansion import service as expansion
from banso.health import snapshots
from banso.playbooks.ctas import open_ctas
from banso.revenue import contracts
from banso.revenue.fiscal import FiscalPeriod
from banso.revenue.models import Subscription
from banso.revenue.service import month_first_day
from banso.success import service as success
from banso.support.models import Ticket
from banso.surveys.models import SurveyResponse
from banso.team.models import TeamMember
from banso.usage.daily import account_daily_usage

MRR_MONTHS = 12
"""The MRR chart covers the 12 month ends up to the period's end."""


@dataclass(frozen=True)
class Objective:
    title: str
    baseline: float
    target: float
    current: float | None
    progress: float | None
    """(current − baseline) / (target − baseline) clamped 0–1 (``success.service.progress``)."""
    status: str
    due_date: date | None


@dataclass(frozen=True)
class UsageWeek:
    start: date
    """Monday-free: the first day of a 7-day block counted from the period's first day."""
    events: int
    peak_active_users: int
    """The most distinct users on one day of the block."""


@dataclass(frozen=True)
class SupportSummary:
    opened: int
    closed: int
    open_at_end: int
    urgent_or_high: int
    average_csat: Fraction | None
    """Mean ticket satisfaction 1-5 of tickets opened in the period that were rated."""


@dataclass(frozen=True)
class SurveySummary:
    nps_responses: int
    nps: Fraction | None
    """-100..100 (``evaluation.strategic.book_nps``); None without responses."""
    csat_responses: int
    average_csat: Fraction | None


@dataclass(frozen=True)
class Outlook:
    mrr_end: int | None
    """MRR on the period's last day, minor units of the reporting currency (None: no FX rate)."""
    next_renewal: date | None
    """The next renewal after the period's end (``revenue.contracts.account_next_renewal``)."""
    open_opportunities: list[dict[str, object]]
    """Open expansion opportunities (``expansion.service.list_opportunities``)."""


@dataclass(frozen=True)
class NextStep:
    title: str
    due_date: date | None
    kind: str
    """cta or objective."""


@dataclass
class Review:
    """One account's EBR over one fiscal period."""

    account_id: int
    account_name: str
    owner: str | None
    period: FiscalPeriod
    currency: str
    objectives: list[Objective]
    usage_weeks: list[UsageWeek]
    """Empty when the account had no event in the period."""
    health: list[tuple[date, float]]
    """The health score on each scored day of the period."""
    mrr_months: list[tuple[date, int | None]]
    """MRR on each month's last day, the 12 months up to the period's end; the month's first
    day as the key."""
    support: SupportSummary
    surveys: SurveySummary
    outlook: Outlook
    next_steps: list[NextStep] = field(default_factory=list)

    @property
    def has_usage(self) -> bool:
        return any(w.events for w in self.usage_weeks)

    @property
    def has_mrr(self) -> bool:
        return any(m for _d, m in self.mrr_months)

    @property
    def value_delivered(self) -> list[Objective]:
        """Objectives that moved from their baseline towards their target."""
        return [o for o in self.objectives if o.progress is not None and o.progress > 0]


def build_review(session: Session, account_id: int, period: FiscalPeriod) -> Review:
    """The EBR of ``account_id`` over ``period``; BansoError for an unknown account."""
    account = existing_account(session, account_id)
    first, last = period.first_day, period.last_day
    owner = session.get(TeamMember, account.owner_id) if account.owner_id else None
    lines = [
        contracts.Line.of(s)
        for s in session.scalars(select(Subscription).where(Subscription.account_id == account_id))
    ]
    mrr_months = _mrr_months(session, lines, period)
    plan = success.account_plan(session, account_id, today=last)
    objectives = [
        Objective(o.title, o.baseline, o.target, o.current, o.progress, o.status, o.due_date)
        for o in plan
    ]
    steps = [
        NextStep(c.title, c.due_date, "cta") for c in open_ctas(session, account_id=account_id)
    ]
    steps += [
        NextStep(o.title, o.due_date, "objective")
        for o in plan
        if o.status in success.OPEN_STATUSES
    ]
    return Review(
        account_id=account.id,
        account_name=account.name,
        owner=owner.name if owner else None,
        period=period,
        currency=get_settings().reporting_currency,
        objectives=objectives,
        usage_weeks=_usage_weeks(account_id, first, last),
        health=_health(account_id, first, last),
        mrr_months=mrr_months,
        support=_support(session, account_id, first, last),
        surveys=_surveys(session, account_id, first, last),
        outlook=Outlook(
            mrr_end=mrr_months[-1][1],
            next_renewal=contracts.account_next_renewal(lines, last),
            open_opportunities=expansion.list_opportunities(
                session, status="open", account_id=account_id
            ),
        ),
        next_steps=sorted(steps, key=lambda s: (s.due_date is None, s.due_date or last)),
    )


def _usage_weeks(account_id: int, first: date, last: date) -> list[UsageWeek]:
    days = (last - first).days + 1
    usage = account_daily_usage(account_id, days, today=last)
    if not usage.has_usage:
        return []
    weeks = []
    for start in range(0, days, 7):
        block = usage.days[start : start + 7]
        weeks.append(
            UsageWeek(
                block[0].day,
                sum(d.events for d in block),
                max(d.active_users for d in block),
            )
        )
    return weeks


def _health(account_id: int, first: date, last: date) -> list[tuple[date, float]]:
    table = snapshots.read(
        account_id=account_id, start=first, end=last, columns="day, score", common_columns=True
    )
    if table.num_rows == 0:
        return []
    return [
        (row["day"], float(row["score"])) for row in table.to_pylist() if row["score"] is not None
    ]


def _mrr_months(
    session: Session, lines: list[contracts.Line], period: FiscalPeriod
) -> list[tuple[date, int | None]]:
    months = range(period.months.last - MRR_MONTHS + 1, period.months.last + 1)
    fx = contracts.fx_table(session, month_first_day(months[0]), period.last_day)
    out: list[tuple[date, int | None]] = []
    for idx in months:
        month_end = month_first_day(idx + 1) - timedelta(days=1)
        try:
            out.append((month_first_day(idx), contracts.account_mrr(lines, month_end, fx)))
        except contracts.MissingFxRate:
            out.append((month_first_day(idx), None))
    return out


def _bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """The period's company-local days as a UTC half-open interval."""
    tz = get_settings().tz
    start = datetime.combine(first, time(), tz).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(), tz).astimezone(UTC)
    return start, end


def _support(session: Session, account_id: int, first: date, last: date) -> SupportSummary:
    start, end = _bounds(first, last)
    tickets = session.scalars(
        select(Ticket).where(Ticket.account_id == account_id, Ticket.opened_at < end)
    ).all()
    opened = [t for t in tickets if _aware(t.opened_at) >= start]
    closed = [t for t in tickets if t.closed_at and start <= _aware(t.closed_at) < end]
    still_open = [t for t in tickets if t.closed_at is None or _aware(t.closed_at) >= end]
    rated = [t.csat for t in opened if t.csat is not None]
    return SupportSummary(
        opened=len(opened),
        closed=len(closed),
        open_at_end=len(still_open),
        urgent_or_high=sum(1 for t in opened if t.priority in ("urgent", "high")),
        average_csat=Fraction(sum(rated), len(rated)) if rated else None,
    )


def _surveys(session: Session, account_id: int, first: date, last: date) -> SurveySummary:
    start, end = _bounds(first, last)
    rows = session.execute(
        select(SurveyResponse.survey_type, SurveyResponse.score).where(
            SurveyResponse.account_id == account_id,
            SurveyResponse.answered_at >= start,
            SurveyResponse.answered_at < end,
        )
    ).all()
    nps_count = sum(1 for kind, _score in rows if kind == "nps")
    csat = [score for kind, score in rows if kind == "csat"]
    return SurveySummary(
        nps_responses=nps_count,
        nps=book_nps(session, {account_id: [account_id]}, first, last)[account_id],
        csat_responses=len(csat),
        average_csat=Fraction(sum(csat), len(csat)) if csat else None,
    )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
