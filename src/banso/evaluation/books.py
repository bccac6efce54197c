"""Whose book an account is in for a scorecard period — the one place the evaluation asks.

Today the book of a period is the accounts a member owns now (``accounts.owner_id``): Banso
keeps no ownership history yet. When it does, :func:`book_owners` answers with the owner of
each account in the period, and every figure of the scorecard (revenue, health, NPS, forecasts)
follows, since they all read the books from here.
"""

from __future__ import annotations

from sqlalchemy import Select, select

from banso.accounts.models import Account
from banso.evaluation.periods import Period


def book_owners(period: Period) -> Select[tuple[int, int]]:
    """(account id, team member id) of every account in some member's book for ``period``."""
    del period  # no ownership history yet: the current owner stands for every period
    return select(Account.id.label("account_id"), Account.owner_id.label("member_id")).where(
        Account.owner_id.is_not(None)
    )


def book_accounts(member_id: int, period: Period) -> Select[tuple[int]]:
    """The ids of the accounts in ``member_id``'s book for ``period``."""
    owners = book_owners(period).subquery()
    return select(owners.c.account_id).where(owners.c.member_id == member_id)
