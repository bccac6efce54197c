"""One account's 360 view: header, MRR and next renewal, contacts, health and the timeline of
activities, tickets, surveys, subscriptions, CRM deals and invoices.

Plain functions over a ``Session``; the caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso import dates
from banso.accounts.models import Account, Contact
from banso.accounts.service import existing_account
from banso.activities.models import Activity
from banso.config import get_settings
from banso.deals.models import Deal
from banso.errors import BansoError
from banso.health import service as health_service
from banso.health.models import HealthCurrent
from banso.health.service import AccountHealth, Explanation
from banso.i18n import _, ngettext
from banso.invoices.models import Invoice
from banso.labels import label
from banso.prediction import scores as churn_scores
from banso.prediction.scores import StoredScore
from banso.revenue import contracts
from banso.revenue.models import Subscription
from banso.support.models import Ticket
from banso.surveys.models import SurveyResponse
from banso.team.models import TeamMember


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    """When it happened (aware UTC)."""
    kind: str
    """activity, ticket, survey, subscription, deal or invoice."""
    title: str
    detail: str | None = None
    amount: int | None = None
    """A deal's or invoice's amount in minor units of ``currency`` (the page formats it)."""
    currency: str | None = None


@dataclass
class Account360:
    account: Account
    owner: TeamMember | None
    mrr: int | None
    """MRR today in minor units of the reporting currency (``revenue.contracts.account_mrr``);
    None when a line's currency has no FX rate this month (``mrr_problem`` says which)."""
    mrr_problem: str | None
    mrr_by_currency: dict[str, int]
    """MRR today per currency of the lines, minor units of each, rounded from the exact value."""
    plans: list[str]
    next_renewal: date | None
    contacts: list[Contact]
    health: HealthCurrent | None
    """Score and band on the newest scored day; None before scoring or when not scored."""
    timeline: list[TimelineItem] = field(default_factory=list)


def account_360(session: Session, account_id: int, *, timeline_limit: int = 200) -> Account360:
    """Everything a CSM needs on one page about one account."""
    account = existing_account(session, account_id)
    today = dates.today()
    subs = list(
        session.scalars(
            select(Subscription)
            .where(Subscription.account_id == account_id)
            .order_by(Subscription.start_date)
        )
    )
    lines = [contracts.Line.of(s) for s in subs]
    active = [s for s, x in zip(subs, lines, strict=True) if contracts.is_active(x, today)]
    by_currency: dict[str, Fraction] = {}
    for s in active:
        by_currency[s.currency] = by_currency.get(s.currency, Fraction(0)) + Fraction(
            s.amount, s.billing_period_months
        )
    mrr: int | None = None
    problem: str | None = None
    if active:
        try:
            mrr = contracts.account_mrr(lines, today, contracts.fx_table(session, today))
        except contracts.MissingFxRate as exc:
            problem = str(exc)
    contacts = list(
        session.scalars(
            select(Contact)
            .where(Contact.account_id == account_id)
            .order_by(Contact.left_at.is_not(None), Contact.role, Contact.name)
        )
    )
    return Account360(
        account=account,
        owner=session.get(TeamMember, account.owner_id) if account.owner_id else None,
        mrr=mrr,
        mrr_problem=problem,
        mrr_by_currency={c: round(v) for c, v in sorted(by_currency.items())},
        plans=sorted({s.plan for s in active if s.plan}),
        next_renewal=contracts.account_next_renewal(lines, today),
        contacts=contacts,
        health=session.get(HealthCurrent, account_id),
        timeline=_timeline(session, account_id, subs, timeline_limit),
    )


def subscriptions_of(session: Session, account_id: int) -> list[Subscription]:
    """The account's contract lines, oldest first; BansoError for an unknown account."""
    existing_account(session, account_id)
    return list(
        session.scalars(
            select(Subscription)
            .where(Subscription.account_id == account_id)
            .order_by(Subscription.start_date, Subscription.id)
        )
    )


def activities_of(session: Session, account_id: int, *, limit: int) -> list[Activity]:
    """The account's activities, newest first; BansoError for an unknown account."""
    existing_account(session, account_id)
    return list(
        session.scalars(
            select(Activity)
            .where(Activity.account_id == account_id)
            .order_by(Activity.occurred_at.desc(), Activity.id.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class Sparkline:
    """The account's score over the last days as an SVG polyline (drawn on the server: no
    script, nothing to load): x 0-``WIDTH`` across the days, y 0-100 from the top over the
    scores' own range (``low``..``high`` padded by 5 points)."""

    WIDTH = 300

    segments: list[str]
    """``points`` of each polyline: a run of scored days (a gap where a day was not scored)."""
    first: tuple[date, float]
    last: tuple[date, float]
    low: float
    high: float

    @classmethod
    def of(cls, points: list[tuple[date, float | None]], end: date, days: int) -> Sparkline | None:
        scored = [(d, s) for d, s in points if s is not None]
        if len(scored) < 2:
            return None
        start = end - timedelta(days=days - 1)
        scores = [s for _d, s in scored]
        # the line spans the account's own range (padded), so a move of a few points shows;
        # the caption says the range
        low, high = max(0.0, min(scores) - 5), min(100.0, max(scores) + 5)
        height = high - low or 1.0
        segments: list[list[str]] = [[]]
        step = min((b - a).days for (a, _s), (b, _t) in zip(points, points[1:], strict=False))
        previous: date | None = None
        for day, score in points:
            if score is None or (previous is not None and (day - previous).days > step):
                segments.append([])
            if score is not None:
                x = (day - start).days / max(1, days - 1) * cls.WIDTH
                y = (high - score) / height * 100
                segments[-1].append(f"{x:.1f},{y:.1f}")
                previous = day
        return cls(
            [" ".join(p) for p in segments if len(p) > 1],
            scored[0],
            scored[-1],
            min(scores),
            max(scores),
        )


@dataclass(frozen=True)
class HealthView:
    """The account's health on its latest scored day, what moved it over 28 days, and its
    score over the last 90 days."""

    current: AccountHealth
    why: Explanation | None
    trend: Sparkline | None = None


def account_health_view(account_id: int) -> HealthView | None:
    """Health for the 360 header, or None before ``banso health score`` has run for it.
    "Why it changed" lists only the measures that moved the score by at least 0.05 points
    (what reads as +0.0 tells the reader nothing)."""
    current = health_service.account_health(account_id)
    if current is None:
        return None
    try:
        why = health_service.explain(
            account_id, start=current.day - timedelta(days=28), end=current.day
        )
    except BansoError:
        why = None
    if why is not None:
        why = replace(why, changes=[c for c in why.changes if abs(c.points) >= MOVED_POINTS])
    trend = Sparkline.of(
        health_service.score_trend(account_id, current.day),
        current.day,
        health_service.TREND_DAYS,
    )
    return HealthView(current, why, trend)


@dataclass(frozen=True)
class ChurnView:
    """The stored churn score with what people said about the account, shown side by side:
    the number never replaces the CSM pulse or the notes."""

    score: StoredScore
    notes: list[Activity]


LATEST_NOTES = 3


def account_churn_view(session: Session, account_id: int) -> ChurnView | None:
    """The account's newest churn score (``banso run`` with a kept model) and its latest notes
    (activities with a summary); None before any score."""
    score = churn_scores.latest_score(session, account_id)
    if score is None:
        return None
    notes = session.scalars(
        select(Activity)
        .where(Activity.account_id == account_id, Activity.summary.is_not(None))
        .order_by(Activity.occurred_at.desc())
        .limit(LATEST_NOTES)
    ).all()
    return ChurnView(score, list(notes))


MOVED_POINTS = 0.05
"""The smallest change of a measure's contribution that "why it changed" lists (it reads as
0.1 point once rounded)."""


def _timeline(
    session: Session, account_id: int, subs: list[Subscription], limit: int
) -> list[TimelineItem]:
    items: list[TimelineItem] = []
    for a in session.scalars(
        select(Activity)
        .where(Activity.account_id == account_id)
        .order_by(Activity.occurred_at.desc())
        .limit(limit)
    ):
        kind = label(a.kind, "activity_kind")
        items.append(TimelineItem(_utc(a.occurred_at), "activity", kind, a.summary))
    for t in session.scalars(
        select(Ticket)
        .where(Ticket.account_id == account_id)
        .order_by(Ticket.opened_at.desc())
        .limit(limit)
    ):
        title = _(
            "Ticket opened ({priority})", priority=label(t.priority or "normal", "ticket_priority")
        )
        items.append(TimelineItem(_utc(t.opened_at), "ticket", title, t.subject))
    for s in session.scalars(
        select(SurveyResponse)
        .where(SurveyResponse.account_id == account_id)
        .order_by(SurveyResponse.answered_at.desc())
        .limit(limit)
    ):
        title = _(
            "{survey} answer: {score}", survey=label(s.survey_type, "survey_type"), score=s.score
        )
        items.append(TimelineItem(_utc(s.answered_at), "survey", title, s.comment))
    for sub in subs:
        plan = sub.plan or sub.external_id
        items.append(
            TimelineItem(
                _day_start(sub.start_date),
                "subscription",
                _("Subscription started: {plan}", plan=plan),
            )
        )
        if sub.end_date is not None and sub.end_date <= dates.today():
            items.append(
                TimelineItem(
                    _day_start(sub.end_date),
                    "subscription",
                    _("Subscription ended: {plan}", plan=plan),
                )
            )
    items += _deal_items(session, account_id, limit)
    items += _invoice_items(session, account_id, limit)
    items.sort(key=lambda i: i.at, reverse=True)
    return items[:limit]


def _deal_items(session: Session, account_id: int, limit: int) -> list[TimelineItem]:
    """Won and lost deals on the day they closed; an open deal on the day Banso first saw it,
    with its expected close day."""
    items = []
    for d in session.scalars(
        select(Deal)
        .where(Deal.account_id == account_id)
        .order_by(Deal.close_date.desc())
        .limit(limit)
    ):
        name = d.name or d.external_id
        if d.status == "open":
            at = _utc(d.created_at)
            title = _("Deal open: {name}", name=name)
            detail = _("expected to close {day}", day=d.close_date.isoformat()) if (
                d.close_date) else None  # fmt: skip
        else:
            at = _day_start(d.close_date) if d.close_date else _utc(d.updated_at)
            title = (_("Deal won: {name}", name=name) if d.status == "won"
                     else _("Deal lost: {name}", name=name))  # fmt: skip
            detail = d.stage
        items.append(TimelineItem(at, "deal", title, detail, d.amount, d.currency))
    return items


def _invoice_items(session: Session, account_id: int, limit: int) -> list[TimelineItem]:
    """An invoice on the day it was issued; paid on the day it was paid; unpaid past its due
    day, on that day, as overdue."""
    items = []
    today = dates.today()
    for i in session.scalars(
        select(Invoice)
        .where(Invoice.account_id == account_id)
        .order_by(Invoice.issued_on.desc())
        .limit(limit)
    ):
        number = i.number or i.external_id
        if i.status == "paid":
            at = _utc(i.paid_at) if i.paid_at else _day_start(i.issued_on)
            title = _("Invoice {number} paid", number=number)
        elif i.status == "open" and i.due_date is not None and i.due_date < today:
            at = _day_start(i.due_date)
            title = _("Invoice {number} overdue", number=number)
        else:
            at = _day_start(i.issued_on)
            title = _("Invoice {number}: {status}", number=number,
                      status=label(i.status, "invoice_status"))  # fmt: skip
        detail = (ngettext("{n} payment attempt", "{n} payment attempts", i.attempts)
                  if i.status != "paid" and i.attempts else None)  # fmt: skip
        items.append(TimelineItem(at, "invoice", title, detail, i.amount_due, i.currency))
    return items


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=get_settings().tz).astimezone(UTC)
