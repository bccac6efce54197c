"""My book: one team member's accounts at risk, renewals, tasks due and the book's revenue KPIs.

A CSM's home page. Every figure comes from its owner module: MRR and next renewal from
``revenue.contracts`` (through the accounts list, which asks only for the member's accounts),
band from ``health_current``, last touch from ``activities.service``, open CTAs and their tasks
from ``playbooks.ctas``, and the book's MRR, NRR and churn from the revenue report
(``revenue.cache.revenue_report`` restricted to the member's accounts) for the last complete
month (``dates.last_complete_month``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from babel.numbers import get_currency_precision
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso import dates
from banso.account_views import accounts_list as accounts
from banso.errors import BansoError
from banso.i18n import percent
from banso.playbooks.ctas import TaskDue, tasks_due
from banso.revenue import cache as revenue_cache
from banso.team.models import TeamMember
from banso.users.models import User

AT_RISK_ROWS = 50
RENEWAL_DAYS = 90
RENEWAL_ROWS = 50


@dataclass(frozen=True)
class BookKpis:
    month: str
    """The last complete month, ``YYYY-MM``."""
    currency: str
    mrr: int
    """MRR at the end of the month, minor units of the reporting currency."""
    nrr_12m: Fraction | None
    mrr_churn_rate: Fraction | None
    """Monthly MRR churn rate (churned MRR over the month's starting MRR)."""

    @property
    def nrr_percent(self) -> str:
        return percent(_decimal(self.nrr_12m))

    @property
    def churn_percent(self) -> str:
        return percent(_decimal(self.mrr_churn_rate))


def _decimal(rate: Fraction | None) -> Decimal | None:
    """The exact rate as a Decimal for formatting (Babel does not take a Fraction)."""
    if rate is None:
        return None
    return Decimal(rate.numerator) / Decimal(rate.denominator)


@dataclass(frozen=True)
class Book:
    member: TeamMember
    accounts: int
    """How many accounts the member owns."""
    at_risk: accounts.AccountPage
    """Red and yellow accounts, the most MRR at stake first."""
    renewals: accounts.AccountPage
    tasks: list[TaskDue]
    today: date
    kpis: BookKpis | None
    kpi_problem: str | None
    """Why there are no KPIs (no subscriptions yet, a missing FX rate), in the user's language."""


def member_of(session: Session, user: User) -> TeamMember | None:
    """The team member the user is: the one linked to the user, else the one with the user's
    e-mail (case-insensitive); None when neither exists."""
    if user.team_member_id is not None:
        found = session.get(TeamMember, user.team_member_id)
        if found is not None:
            return found
    return session.scalars(
        select(TeamMember).where(func.lower(TeamMember.email) == user.email.strip().lower())
    ).first()


def book(session: Session, member: TeamMember) -> Book:
    """The book of ``member`` today."""
    today = dates.today()
    owned = session.scalar(select(func.count()).where(accounts.Account.owner_id == member.id)) or 0
    at_risk = accounts.list_accounts(
        session,
        accounts.AccountFilter(
            owner_id=member.id, band=accounts.AT_RISK, sort="mrr", descending=True
        ),
        page_size=AT_RISK_ROWS,
    )
    renewals = accounts.list_accounts(
        session,
        accounts.AccountFilter(owner_id=member.id, renewal_days=RENEWAL_DAYS, sort="renewal"),
        page_size=RENEWAL_ROWS,
    )
    tasks = tasks_due(session, member.id, today)
    kpis, problem = None, None
    try:
        kpis = book_kpis(session, member.id)
    except BansoError as exc:
        problem = str(exc)
    return Book(member, owned, at_risk, renewals, tasks, today, kpis, problem)


def book_kpis(session: Session, member_id: int) -> BookKpis:
    """MRR, NRR (12 months) and the monthly MRR churn rate of the member's accounts in the last
    complete month: the revenue report's own figures for those accounts only."""
    month = dates.last_complete_month().strftime("%Y-%m")
    report = revenue_cache.revenue_report(session, start=month, end=month, owner_id=member_id)
    (row,) = report.rows
    minor = Fraction(row["mrr_end"]) * 10 ** get_currency_precision(report.currency)
    return BookKpis(month, report.currency, round(minor), row["nrr_12m"], row["mrr_churn_rate"])
