"""The survey report: NPS, CSAT or CES by month, segment, touch model, owner or plan, with the
count, the 95 % interval (``voc.stats``) and the response rate of Banso's invitations; the
verbatims with the account's MRR.

Every answer of the type counts, imported or given on Banso's page. An answer's group is read on
its company-local answer day: the segment from the membership history (``banso.segments``), the
owner from the ownership history (``banso.accounts.ownership``), the plan from the account's
lines active that day; the touch model is the account's current one. The response rate is
answered ÷ sent of Banso's invitations in the group (by the month they were sent, for months).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from fractions import Fraction

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts import ownership
from banso.accounts.models import Account
from banso.config import get_settings
from banso.dates import EARLIEST_DAY
from banso.dates import today as company_today
from banso.errors import BansoError
from banso.i18n import _
from banso.labels import register
from banso.revenue import contracts
from banso.revenue.models import Subscription
from banso.segments import service as segments
from banso.surveys.models import SURVEY_TYPES, SurveyResponse
from banso.team.models import TeamMember
from banso.voc.models import SurveyInvitation
from banso.voc.stats import category, estimate

BREAKDOWNS = ("month", "segment", "touch", "owner", "plan")
register(
    "survey_breakdown",
    {
        "month": "Month",
        "segment": "Segment",
        "touch": "Touch model",
        "owner": "Owner",
        "plan": "Plan",
    },
)
register(
    "survey_category",
    {
        "promoter": "promoter", "passive": "passive", "detractor": "detractor",
        "satisfied": "satisfied", "unsatisfied": "unsatisfied",
        "easy": "easy", "neutral": "neutral", "hard": "hard",
    },
)  # fmt: skip
NONE_KEY = ""
"""The group of answers with no segment, touch model, owner or plan that day."""


class ReportRejected(BansoError):
    """An unknown survey type or breakdown."""


@dataclass(frozen=True)
class ReportRow:
    key: str
    count: int
    score: float | None
    """NPS in points, CSAT in %, CES as the mean; rounded to 0.1."""
    low: float | None
    high: float | None
    invited: int
    answered: int

    @property
    def response_rate(self) -> float | None:
        return round(self.answered / self.invited * 100, 1) if self.invited else None

    def as_dict(self) -> dict[str, object]:
        return {
            "key": self.key, "count": self.count, "score": self.score, "ci_low": self.low,
            "ci_high": self.high, "invited": self.invited, "answered": self.answered,
            "response_rate": self.response_rate,
        }  # fmt: skip


@dataclass(frozen=True)
class Verbatim:
    account_id: int
    account: str
    mrr: int | None
    """The account's MRR today, minor units of the reporting currency; None without an FX rate."""
    survey_type: str
    score: int
    category: str
    comment: str
    answered_at: datetime

    def as_dict(self) -> dict[str, object]:
        return {
            "account_id": self.account_id, "account": self.account, "mrr": self.mrr,
            "survey_type": self.survey_type, "score": self.score, "category": self.category,
            "comment": self.comment, "answered_at": self.answered_at.isoformat(),
        }  # fmt: skip


@dataclass(frozen=True)
class Report:
    survey_type: str
    by: str
    total: ReportRow
    rows: list[ReportRow]


def survey_report(
    session: Session,
    survey_type: str,
    by: str,
    *,
    first: date | None = None,
    last: date | None = None,
) -> Report:
    """The report of ``survey_type`` answers given from ``first`` to ``last`` (company days,
    both included; default: all) by ``by``."""
    check(survey_type, by)
    tz = get_settings().tz
    answers = [
        (account_id, _aware(at).astimezone(tz).date(), score)
        for account_id, at, score in session.execute(
            select(SurveyResponse.account_id, SurveyResponse.answered_at, SurveyResponse.score)
            .where(SurveyResponse.survey_type == survey_type)
            .order_by(SurveyResponse.id)
        )
    ]
    answers = [a for a in answers if _within(a[1], first, last)]
    invitations = [
        (account_id, day, answered is not None)
        for account_id, day, answered in session.execute(
            select(
                SurveyInvitation.account_id, SurveyInvitation.invited_on,
                SurveyInvitation.answered_at,
            ).where(SurveyInvitation.survey_type == survey_type)
        )
        if _within(day, first, last)
    ]  # fmt: skip
    keys = _Keys(session, by)
    scores: dict[str, list[int]] = defaultdict(list)
    for account_id, day, score in answers:
        scores[keys.of(account_id, day)].append(score)
    sent: dict[str, list[bool]] = defaultdict(list)
    for account_id, day, answered in invitations:
        sent[keys.of(account_id, day)].append(answered)
    rows = [
        _row(survey_type, key, scores.get(key, []), sent.get(key, []))
        for key in sorted(set(scores) | set(sent))
    ]
    total = _row(survey_type, "", [s for _a, _d, s in answers], [a for _a, _d, a in invitations])
    return Report(survey_type, by, total, rows)


def verbatims(
    session: Session,
    survey_type: str | None = None,
    *,
    account_id: int | None = None,
    limit: int = 50,
) -> list[Verbatim]:
    """Answers with a comment, newest first, each with its account's MRR today."""
    query = (
        select(SurveyResponse, Account.name)
        .join(Account, Account.id == SurveyResponse.account_id)
        .where(SurveyResponse.comment.is_not(None), SurveyResponse.comment != "")
        .order_by(SurveyResponse.answered_at.desc(), SurveyResponse.id.desc())
        .limit(limit)
    )
    if survey_type is not None:
        query = query.where(SurveyResponse.survey_type == survey_type)
    if account_id is not None:
        query = query.where(SurveyResponse.account_id == account_id)
    rows = session.execute(query).all()
    mrr = account_mrrs(session, {r.account_id for r, _name in rows}, company_today())
    return [
        Verbatim(
            r.account_id, name, mrr.get(r.account_id), r.survey_type, r.score,
            category(r.survey_type, r.score), r.comment or "", _aware(r.answered_at),
        )
        for r, name in rows
    ]  # fmt: skip


def account_mrrs(session: Session, account_ids: Iterable[int], day: date) -> dict[int, int | None]:
    """Each account's MRR on ``day`` (``revenue.contracts.account_mrr``); None where a line's
    currency has no FX rate that month."""
    ids = list(account_ids)
    if not ids:
        return {}
    lines: dict[int, list[contracts.Line]] = defaultdict(list)
    for s in session.scalars(select(Subscription).where(Subscription.account_id.in_(ids))):
        lines[s.account_id].append(contracts.Line.of(s))
    fx = contracts.fx_table(session, day)
    out: dict[int, int | None] = {}
    for account_id in ids:
        try:
            out[account_id] = contracts.account_mrr(lines.get(account_id, []), day, fx)
        except contracts.MissingFxRate:
            out[account_id] = None
    return out


def method_note(survey_type: str) -> str:
    """How the score and its interval are computed, in one translated sentence."""
    if survey_type == "nps":
        return _(
            "NPS = % promoters (9–10) − % detractors (0–6); 95% interval by the normal "
            "approximation on the +1/0/−1 answers."
        )
    if survey_type == "csat":
        return _("CSAT = % of answers 4–5; 95% Wilson interval.")
    return _("CES = the mean answer (1–7); 95% interval by the normal approximation.")


def check(survey_type: str, by: str) -> None:
    if survey_type not in SURVEY_TYPES:
        raise ReportRejected(
            _("Unknown survey type {name}; use nps, csat or ces.", name=survey_type)
        )
    if by not in BREAKDOWNS:
        raise ReportRejected(
            _("Unknown breakdown {name}; use {names}.", name=by, names=", ".join(BREAKDOWNS))
        )


# ---------------------------------------------------------------- helpers


def _on(periods: list[tuple[date | None, date | None, object]], day: date) -> object | None:
    """The value of the interval ``[start, end)`` covering ``day`` (open ends: None)."""
    for start, end, value in periods:
        if (start is None or start <= day) and (end is None or end > day):
            return value
    return None


class _Keys:
    """An answer's group on its day, each fact asked of its owner once per account and day."""

    def __init__(self, session: Session, by: str) -> None:
        self.session, self.by = session, by
        self.cache: dict[tuple[int, date], str] = {}
        self.names: dict[int, str] = {}
        self.lines: dict[int, list[Subscription]] | None = None
        self.periods: dict[int, list[tuple[date | None, date | None, object]]] | None = None
        self.touch: dict[int, str | None] | None = None

    def of(self, account_id: int, day: date) -> str:
        if self.by == "month":
            return f"{day:%Y-%m}"
        found = self.cache.get((account_id, day))
        if found is None:
            found = self._look_up(account_id, day)
            self.cache[(account_id, day)] = found
        return found

    def _look_up(self, account_id: int, day: date) -> str:
        s = self.session
        if self.by == "segment":
            if self.periods is None:  # every interval at once: one query, not one per answer
                self.periods = dict(segments.membership_periods(s))  # type: ignore[arg-type]
            return str(_on(self.periods.get(account_id, []), day) or NONE_KEY)
        if self.by == "touch":
            if self.touch is None:
                self.touch = dict(s.execute(select(Account.id, Account.touch_model)).all())
            return self.touch.get(account_id) or NONE_KEY
        if self.by == "owner":
            if self.periods is None:
                self.periods = defaultdict(list)
                for p in ownership.owner_periods(s, EARLIEST_DAY, date.max):
                    self.periods[p.account_id].append((p.started_on, p.ended_on, p.member_id))
            member = _on(self.periods.get(account_id, []), day)
            if member is None:
                return NONE_KEY
            if member not in self.names:
                self.names[member] = s.get(TeamMember, member).name  # type: ignore[union-attr]
            return self.names[member]
        if self.lines is None:
            self.lines = defaultdict(list)
            for line in s.scalars(select(Subscription).order_by(Subscription.id)):
                self.lines[line.account_id].append(line)
        plans = sorted(
            {
                line.plan or NONE_KEY
                for line in self.lines.get(account_id, [])
                if contracts.is_active(contracts.Line.of(line), day)
            }
        )
        return " + ".join(plans) if plans else NONE_KEY


def _row(survey_type: str, key: str, scores: list[int], sent: list[bool]) -> ReportRow:
    found = estimate(survey_type, scores)
    return ReportRow(
        key,
        len(scores),
        _round(found.value) if found else None,
        round(found.low, 1) if found and found.low is not None else None,
        round(found.high, 1) if found and found.high is not None else None,
        len(sent),
        sum(sent),
    )


def _round(value: Fraction) -> float:
    return round(float(value), 1)


def _within(day: date, first: date | None, last: date | None) -> bool:
    return (first is None or day >= first) and (last is None or day <= last)


def _aware(value: datetime) -> datetime:
    """SQLite gives naive datetimes back; they were stored in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
