"""The onboarding report: per cohort month (of the contract start), segment or CSM, how many
accounts were enrolled, how many completed their programme, the completion rate and the median
**time to first value** (calendar days from the contract start to the day the magic-moment
milestone completed, over the accounts that reached it).

The completion rate is completed ÷ enrolled as of the report day: a young cohort is still on
its way, so compare cohorts of the same age. Rates have 6 decimals, medians 1 (half to even).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from statistics import median
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.onboarding.models import OnboardingMilestone as M
from banso.onboarding.service import account_segments
from banso.team.models import TeamMember

Breakdown = Literal["cohort", "segment", "owner"]
BREAKDOWNS: tuple[Breakdown, ...] = ("cohort", "segment", "owner")


@dataclass(frozen=True)
class AccountOutcome:
    account_id: int
    contract_start: date
    completed_on: date | None
    """The day its last milestone completed; None while one is open."""
    first_value_on: date | None
    segment: str | None
    owner_id: int | None

    @property
    def ttfv_days(self) -> int | None:
        return (
            None
            if self.first_value_on is None
            else (self.first_value_on - self.contract_start).days
        )


@dataclass(frozen=True)
class ReportRow:
    key: str | None
    """``YYYY-MM`` for a cohort, the segment, or the owner's team-member id as text."""
    enrolled: int
    completed: int
    completion_rate: Decimal | None
    reached_first_value: int
    median_ttfv_days: Decimal | None


@dataclass(frozen=True)
class OnboardingReport:
    as_of: date
    by: Breakdown
    rows: list[ReportRow]
    total: ReportRow
    names: dict[str, str]
    """Display names of the keys (owner ids to member names); other keys show as they are."""

    def as_dict(self) -> dict[str, Any]:
        def one(r: ReportRow) -> dict[str, Any]:
            out = asdict(r)
            for k in ("completion_rate", "median_ttfv_days"):
                out[k] = None if out[k] is None else str(out[k])
            out["name"] = self.names.get(r.key or "", r.key)
            return out

        return {"as_of": self.as_of.isoformat(), "by": self.by,
                "rows": [one(r) for r in self.rows], "total": one(self.total)}  # fmt: skip


def onboarding_report(session: Session, as_of: date, by: Breakdown = "cohort") -> OnboardingReport:
    """The report as of ``as_of`` broken down ``by`` cohort month, segment or owner."""
    items = outcomes(session, as_of)
    names: dict[str, str] = {}
    if by == "owner":
        names = {str(i): n for i, n in session.execute(select(TeamMember.id, TeamMember.name))}
    return OnboardingReport(as_of, by, summarise(items, by), total_row(items), names)


def outcomes(session: Session, as_of: date) -> list[AccountOutcome]:
    """One outcome per enrolled account whose contract started by ``as_of``, as of that day."""
    done_by = func.max(M.completed_on)
    rows = session.execute(
        select(
            M.account_id,
            func.min(M.contract_start).label("start"),
            func.count().label("total"),
            func.count(M.completed_on).filter(M.completed_on <= as_of).label("done"),
            done_by.filter(M.completed_on <= as_of).label("last_done"),
            func.min(M.completed_on)
            .filter(M.magic_moment.is_(True), M.completed_on <= as_of)
            .label("first_value"),
            Account.owner_id,
        )
        .join(Account, Account.id == M.account_id)
        .where(M.contract_start <= as_of)
        .group_by(M.account_id, Account.owner_id)
    ).all()
    segments = account_segments(session, [r.account_id for r in rows])
    return [
        AccountOutcome(
            account_id=r.account_id, contract_start=r.start,
            completed_on=r.last_done if r.done == r.total else None,
            first_value_on=r.first_value, segment=segments.get(r.account_id), owner_id=r.owner_id,
        )
        for r in rows
    ]  # fmt: skip


def summarise(items: list[AccountOutcome], by: Breakdown) -> list[ReportRow]:
    """The report rows of ``items`` grouped ``by`` (cohort months in order, others by key)."""
    groups: dict[str | None, list[AccountOutcome]] = {}
    for o in items:
        groups.setdefault(_key(o, by), []).append(o)
    return [_row(k, groups[k]) for k in sorted(groups, key=lambda k: (k is None, k or ""))]


def total_row(items: list[AccountOutcome]) -> ReportRow:
    return _row(None, items)


def _key(o: AccountOutcome, by: Breakdown) -> str | None:
    if by == "cohort":
        return o.contract_start.strftime("%Y-%m")
    if by == "segment":
        return o.segment
    return None if o.owner_id is None else str(o.owner_id)


def _row(key: str | None, items: list[AccountOutcome]) -> ReportRow:
    completed = sum(o.completed_on is not None for o in items)
    ttfv = [o.ttfv_days for o in items if o.ttfv_days is not None]
    return ReportRow(
        key=key,
        enrolled=len(items),
        completed=completed,
        completion_rate=_decimal(Fraction(completed, len(items)), 6) if items else None,
        reached_first_value=len(ttfv),
        median_ttfv_days=_decimal(Fraction(median(ttfv)), 1) if ttfv else None,
    )


def _decimal(value: Fraction, places: int) -> Decimal:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
