"""Capacity (docs/team.md, "Capacity"): how many accounts one CSM can serve per touch model,
from the team's own history, and what hires would change.

A *touch* is one activity a member logged on an account or one CTA a member closed. Over the
window (the ``months`` complete months before the day):

- touches per account per month = the touches on accounts of the touch model ÷ (its customer
  accounts today × months);
- touches per CSM per month = the 80th percentile, over the members who touched accounts of the
  touch model in a month, of their touches on them that month (what the team has shown a CSM
  can do, not what an average month asked of them);
- accounts one CSM can serve = touches per CSM per month ÷ touches per account per month,
  rounded down.

The CSMs of a touch model are the members who may carry it (team and title, ``team.yaml``);
utilisation = customer accounts ÷ (CSMs × accounts one CSM can serve).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.activities.models import Activity
from banso.books.config import TeamConfig
from banso.books.service import Member, World
from banso.config import get_settings
from banso.dates import last_complete_month
from banso.i18n import _
from banso.playbooks.models import Cta

WINDOW_MONTHS = 6
PERCENTILE = Fraction(80, 100)


@dataclass(frozen=True)
class TouchCapacity:
    """Capacity of one touch model."""

    touch_model: str
    accounts: int
    """Customer accounts of the touch model on the day."""
    csms: int
    """Members who may carry it (with what-if hires)."""
    touches: int
    """Touches on its accounts over the window."""
    per_account: Fraction | None
    """Touches per account per month; None without accounts."""
    per_csm: Fraction | None
    """Touches one CSM makes per month (80th percentile); None without any touch."""
    servable: int | None
    """Accounts one CSM can serve; None when the history cannot tell."""

    @property
    def accounts_per_csm(self) -> Fraction | None:
        return None if self.csms == 0 else Fraction(self.accounts, self.csms)

    @property
    def utilisation(self) -> Fraction | None:
        if not self.csms or not self.servable:
            return None
        return Fraction(self.accounts, self.csms * self.servable)

    @property
    def headroom(self) -> int | None:
        """Accounts the CSMs could still take (negative: over capacity)."""
        return None if self.servable is None else self.csms * self.servable - self.accounts

    def as_dict(self) -> dict[str, Any]:
        def rate(value: Fraction | None, places: int = 2) -> str | None:
            return None if value is None else str(round(float(value), places))

        return {
            "touch_model": self.touch_model,
            "accounts": self.accounts,
            "csms": self.csms,
            "touches": self.touches,
            "touches_per_account_month": rate(self.per_account),
            "touches_per_csm_month": rate(self.per_csm),
            "servable_accounts_per_csm": self.servable,
            "accounts_per_csm": rate(self.accounts_per_csm, 1),
            "utilisation": rate(self.utilisation, 3),
            "headroom": self.headroom,
        }


def capacity(
    session: Session, world: World, config: TeamConfig, *, months: int = WINDOW_MONTHS
) -> list[TouchCapacity]:
    """Capacity per touch model on ``world.day`` for ``world.members`` (hires included)."""
    last = last_complete_month(world.day)
    first = _month_back(last, months - 1)
    end = _month_back(last, -1)
    touch_of = dict(session.execute(select(Account.id, Account.touch_model)).all())
    per_member_month: dict[tuple[str, int, date], int] = defaultdict(int)
    totals: dict[str, int] = defaultdict(int)
    for account_id, member_id, at in _touches(session, first, end):
        touch = touch_of.get(account_id)
        if not touch or member_id is None:
            continue
        month = _local_day(at).replace(day=1)
        if not first <= month < end:
            continue
        per_member_month[(touch, member_id, month)] += 1
        totals[touch] += 1
    counts: dict[str, int] = defaultdict(int)
    for a in world.accounts:
        if a.touch_model:
            counts[a.touch_model] += 1
    out = []
    for touch in sorted(
        {*counts, *totals, *(t for team in config.teams for t in team.touch_models)}
    ):
        csms = sum(1 for m in world.members if config.carries(m.title, m.team, touch))
        per_account = Fraction(totals[touch], counts[touch] * months) if counts[touch] else None
        monthly = [n for (t, _m, _mo), n in per_member_month.items() if t == touch]
        per_csm = percentile(monthly, PERCENTILE) if monthly else None
        servable = (
            math.floor(per_csm / per_account) if per_csm is not None and per_account else None
        )
        out.append(
            TouchCapacity(touch, counts[touch], csms, totals[touch], per_account, per_csm, servable)
        )
    return out


def percentile(values: Iterable[int], p: Fraction) -> Fraction:
    """The ``p`` percentile by linear interpolation between closest ranks (NumPy's default):
    position p × (n − 1) in the sorted values."""
    ordered = sorted(values)
    position = p * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def with_hires(members: list[Member], hires: int, title: str, team: str) -> list[Member]:
    """``members`` plus ``hires`` what-if members of ``title`` in ``team`` (negative ids)."""
    return members + [
        Member(-(i + 1), _("New hire {n}", n=i + 1), "", title, team, hire=True)
        for i in range(hires)
    ]


def _touches(
    session: Session, first: date, end: date
) -> Iterable[tuple[int, int | None, datetime]]:
    """(account, member, when) of every activity and closed CTA from ``first`` to before
    ``end`` (company days; a day either side is read, then filtered on the local day)."""
    since = datetime.combine(first - timedelta(days=1), time(0), UTC)
    until = datetime.combine(end + timedelta(days=1), time(0), UTC)
    yield from session.execute(
        select(Activity.account_id, Activity.member_id, Activity.occurred_at).where(
            Activity.occurred_at >= since, Activity.occurred_at < until
        )
    )
    yield from session.execute(
        select(Cta.account_id, Cta.owner_id, Cta.closed_at).where(
            Cta.closed_at.is_not(None), Cta.closed_at >= since, Cta.closed_at < until
        )
    )


def _local_day(at: datetime) -> date:
    if at.tzinfo is None:  # SQLite keeps UTC without the zone
        at = at.replace(tzinfo=UTC)
    return at.astimezone(get_settings().tz).date()


def _month_back(month: date, n: int) -> date:
    """The first day of the month ``n`` months before ``month`` (negative: after)."""
    index = month.year * 12 + month.month - 1 - n
    return date(index // 12, index % 12 + 1, 1)
