"""Whose book an account is in for a scorecard period — the one place the evaluation asks.

The book of a period is the accounts each member owned then, from the ownership history
(:func:`banso.accounts.ownership.period_owners_sql`: the owner on the period's last day, or the
last owner within the period), so a handover moves an account's whole period to the member who
held it at the end; every figure of the scorecard (revenue, health, NPS, forecasts) follows,
since they all read the books from here.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Select, select

from banso.accounts import ownership
from banso.evaluation.periods import Period
from banso.revenue.service import month_first_day


def book_owners(period: Period) -> Select[tuple[int, int]]:
    """(account id, team member id) of every account in some member's book for ``period``."""
    first = month_first_day(period.months.first)
    last = month_first_day(period.months.last + 1) - timedelta(days=1)
    owners = ownership.period_owners_sql(first, last).subquery()
    return select(
        owners.c.account_id.label("account_id"), owners.c.member_id.label("member_id")
    )


def book_accounts(member_id: int, period: Period) -> Select[tuple[int]]:
    """The ids of the accounts in ``member_id``'s book for ``period``."""
    owners = book_owners(period).subquery()
    return select(owners.c.account_id).where(owners.c.member_id == member_id)
