"""The demo world's onboarding and lifecycle history, made the way the product makes them.

For each of the last ``MONTHS`` months (and the end day) the new customers of that day are
enrolled in their segment's programme (``onboarding.service``); milestones with a rule are
then completed from the world's own events and activities, so some accounts reach the magic
moment late and some never do. Milestones ticked by hand get a CSM's tick: most on time, some
late, some never (overdue on the board). Last, the lifecycle rules run on the first day of each
of those months and on the end day, so the stage history has months of moves.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.business_days import add_business_days
from banso.demo.story import add_months
from banso.lifecycle import service as lifecycle
from banso.onboarding import service as onboarding
from banso.onboarding.config import load_programmes
from banso.onboarding.models import OnboardingMilestone
from banso.team.models import TeamMember

MONTHS = 12
ON_TIME, LATE = 0.6, 0.25
"""Shares of hand-ticked milestones done by their due day and done late; the rest stay open."""


@dataclass
class DemoOnboarding:
    enrolled: int = 0
    completed_by_rule: int = 0
    ticked: int = 0


def write_onboarding(session: Session, end: date, seed: int) -> DemoOnboarding:
    """Programmes, milestone progress and lifecycle history up to ``end``."""
    out = DemoOnboarding()
    programmes = load_programmes()
    days = [add_months(end.replace(day=1), -m, 1) for m in range(MONTHS, 0, -1)] + [end]
    for day in days:
        out.enrolled += onboarding.enrol_new_customers(session, day, programmes)
    out.completed_by_rule = onboarding.complete_by_rules(session, end)
    out.ticked = _tick_by_hand(session, end, random.Random(f"banso-demo:{seed}:onboarding"))
    for day in days:
        lifecycle.evaluate(session, day)
    return out


def _tick_by_hand(session: Session, end: date, rng: random.Random) -> int:
    owners = dict(
        session.execute(
            select(Account.id, TeamMember.email).join(TeamMember, TeamMember.id == Account.owner_id)
        ).all()
    )
    M = OnboardingMilestone
    rows = session.scalars(
        select(M).where(M.rule == "manual", M.completed_on.is_(None)).order_by(M.id)
    ).all()
    ticked = 0
    for m in rows:
        draw = rng.random()
        if draw < ON_TIME:
            when = m.due_on - timedelta(days=rng.randint(0, 6))
        elif draw < ON_TIME + LATE:
            when = add_business_days(m.due_on, rng.randint(1, 15))
        else:
            continue
        when = max(when, m.contract_start)
        if when > end:
            continue
        m.completed_on, m.completed_by = when, owners.get(m.account_id, "demo")
        m.updated_at = datetime.now(UTC)
        ticked += 1
    session.flush()
    return ticked
