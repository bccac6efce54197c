"""The daily lifecycle evaluation and the funnel/flow report.

``evaluate`` asks each rule of ``lifecycle.yaml`` for its set of accounts on the day (one query
each, against the owner of the fact), gives every account the stage of the first rule it is in,
and writes the changes through ``accounts.lifecycle.record_stages`` (current stage + history).

The report reads the history (``lifecycle_intervals``) for a window ``[first, last]``: how many
accounts entered each stage, the moves between stages (the stage an interval followed, when the
account's previous interval ended the day it started), and the median days in each stage over
the intervals that ended in the window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from statistics import median
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from banso.accounts.lifecycle import record_stages
from banso.accounts.models import LifecycleInterval
from banso.expansion.models import Opportunity
from banso.lifecycle.config import LifecycleFile, Rule, load_lifecycle
from banso.onboarding.service import onboarding_accounts_sql
from banso.revenue import contracts

SOURCE = "rules"


@dataclass
class LifecycleRun:
    assigned: dict[str, int] = field(default_factory=dict)
    """Accounts per stage on the day."""
    changed: int = 0


def evaluate(session: Session, day: date, config: LifecycleFile | None = None) -> LifecycleRun:
    """Set every account some rule holds for to that rule's stage from ``day`` on."""
    stages = stages_on(session, day, config or load_lifecycle())
    run = LifecycleRun(changed=record_stages(session, stages, day, SOURCE))
    for stage in stages.values():
        run.assigned[stage] = run.assigned.get(stage, 0) + 1
    return run


def stages_on(session: Session, day: date, config: LifecycleFile) -> dict[int, str]:
    """``{account_id: stage}`` on ``day`` for the accounts a rule holds for."""
    assigned: dict[int, str] = {}
    for rule in config.rules:
        for account_id in session.scalars(_accounts_of(session, rule, day)):
            assigned.setdefault(account_id, rule.stage)
    return assigned


def _accounts_of(session: Session, rule: Rule, day: date) -> Any:
    s = contracts.Subscription
    if rule.when == "churned":
        return contracts.churned_accounts_sql(day)
    if rule.when == "onboarding":
        return onboarding_accounts_sql(day)
    if rule.when == "renewal":
        assert rule.days is not None
        factors = contracts.fx_table(session, day).of_month(day)
        facts = contracts.account_facts_sql(
            day, factors, renewing_by=day + timedelta(days=rule.days)
        ).subquery()
        return select(facts.c.account_id)
    if rule.when == "expansion":
        return select(Opportunity.account_id).where(Opportunity.closed_at.is_(None)).distinct()
    return select(s.account_id).where(s.amount > 0, contracts.active_sql(day)).distinct()


# ---------------------------------------------------------------------------------------------
# Report


@dataclass(frozen=True)
class StageFigures:
    stage: str
    entered: int
    """Accounts that entered the stage in the window."""
    in_stage_at_end: int
    """Accounts in the stage on the window's last day."""
    median_days: Decimal | None
    """Median days in the stage over the intervals that ended in the window (1 decimal)."""
    ended: int


@dataclass(frozen=True)
class LifecycleReport:
    first: date
    last: date
    stages: list[StageFigures]
    moves: list[tuple[str | None, str, int]]
    """(from stage — None: no stage before —, to stage, accounts), most frequent first."""


def lifecycle_report(
    session: Session, first: date, last: date, config: LifecycleFile | None = None
) -> LifecycleReport:
    config = config or load_lifecycle()
    L = LifecycleInterval
    rows = session.execute(
        select(L.account_id, L.stage, L.started_on, L.ended_on)
        .where(L.started_on <= last, or_(L.ended_on.is_(None), L.ended_on >= first))
        .order_by(L.account_id, L.started_on, L.id)
    ).all()
    previous_ids = sorted({r.account_id for r in rows if first <= r.started_on <= last})
    before: dict[tuple[int, date], str] = {}
    for start in range(0, len(previous_ids), 10_000):
        chunk = previous_ids[start : start + 10_000]
        for account_id, stage, ended in session.execute(
            select(L.account_id, L.stage, L.ended_on).where(
                L.account_id.in_(chunk), L.ended_on.between(first, last)
            )
        ):
            before[(account_id, ended)] = stage
    entered: dict[str, int] = {}
    at_end: dict[str, int] = {}
    durations: dict[str, list[int]] = {}
    moves: dict[tuple[str | None, str], int] = {}
    for r in rows:
        if first <= r.started_on <= last:
            entered[r.stage] = entered.get(r.stage, 0) + 1
            key = (before.get((r.account_id, r.started_on)), r.stage)
            moves[key] = moves.get(key, 0) + 1
        if r.started_on <= last and (r.ended_on is None or r.ended_on > last):
            at_end[r.stage] = at_end.get(r.stage, 0) + 1
        if r.ended_on is not None and first <= r.ended_on <= last:
            durations.setdefault(r.stage, []).append((r.ended_on - r.started_on).days)
    order = list(config.funnel) + sorted({*entered, *at_end, *durations} - set(config.funnel))
    figures = [
        StageFigures(
            stage=s, entered=entered.get(s, 0), in_stage_at_end=at_end.get(s, 0),
            median_days=_one_decimal(median(durations[s])) if durations.get(s) else None,
            ended=len(durations.get(s, [])),
        )
        for s in order
    ]  # fmt: skip
    flow = sorted(moves.items(), key=lambda kv: (-kv[1], kv[0][0] or "", kv[0][1]))
    return LifecycleReport(first, last, figures, [(a, b, n) for (a, b), n in flow])


def _one_decimal(value: float) -> Decimal:
    exact = Fraction(value)
    return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_EVEN
    )
