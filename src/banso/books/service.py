"""Books of business: the team's members with their titles and teams, the accounts a CSM
carries (customers on the day, with their touch model and MRR from ``banso.revenue``), and the
books per CSM and touch model.

Plain functions over a ``Session``; the caller owns the transaction.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.books.config import TeamConfig
from banso.revenue import contracts
from banso.team.models import TeamMember


@dataclass(frozen=True)
class Member:
    """A CSM who may carry accounts; ``hire`` for a what-if hire that does not exist yet."""

    id: int
    name: str
    email: str
    title: str | None
    team: str | None
    hire: bool = False


@dataclass(frozen=True)
class BookAccount:
    """A customer account on the day: its touch model, MRR (major units, exact) and owner."""

    id: int
    name: str
    touch_model: str | None
    mrr: Fraction
    owner_id: int | None


@dataclass
class World:
    """Members and customer accounts on ``day``; ``no_rate``: accounts left out because a line's
    currency has no FX rate that month (their MRR is unknown)."""

    day: date
    members: list[Member]
    accounts: list[BookAccount]
    no_rate: int = 0


def load_world(session: Session, day: date) -> World:
    """Every team member and every account that is a customer on ``day`` (MRR > 0)."""
    members = [
        Member(m.id, m.name, m.email, m.job_title, m.team)
        for m in session.scalars(select(TeamMember).order_by(TeamMember.id))
    ]
    factors = contracts.fx_table(session, day).of_month(day)
    divisor = contracts.mrr_divisor(factors)
    facts = contracts.account_facts_sql(day, factors).subquery("facts")
    rows = session.execute(
        select(Account.id, Account.name, Account.touch_model, Account.owner_id, facts.c.mrr_scaled)
        .join(facts, facts.c.account_id == Account.id)
        .order_by(Account.id)
    ).all()
    accounts, no_rate = [], 0
    for account_id, name, touch, owner, scaled in rows:
        if scaled is None:
            no_rate += 1
            continue
        mrr = Fraction(int(scaled), divisor)
        if mrr > 0:
            accounts.append(BookAccount(account_id, name, touch, mrr, owner))
    return World(day, members, accounts, no_rate)


@dataclass
class Book:
    """One CSM's book in one touch model: accounts, MRR and the title's target size."""

    accounts: int = 0
    mrr: Fraction = Fraction(0)
    target: int = 0


@dataclass
class MemberBooks:
    member: Member
    books: dict[str, Book] = field(default_factory=dict)
    """Touch model (or ``""`` for accounts without one) -> the book."""
    band_violations: int = 0
    """Accounts held outside the MRR band of the member's title."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.member.id,
            "name": self.member.name,
            "email": self.member.email,
            "title": self.member.title,
            "team": self.member.team,
            "band_violations": self.band_violations,
            "books": {
                touch or "none": {
                    "accounts": b.accounts,
                    "mrr": str(money(b.mrr)),
                    "target": b.target,
                }
                for touch, b in sorted(self.books.items())
            },
        }


def books_of_business(
    world: World, config: TeamConfig, owners: dict[int, int | None] | None = None
) -> list[MemberBooks]:
    """Each member's books per touch model, under the current owners or ``owners``
    (``{account: owner}``, e.g. a proposal), with the targets of their title."""
    out = {m.id: MemberBooks(m) for m in world.members}
    for m in world.members:
        title = config.title(m.title)
        team = config.team(m.team)
        if title is not None and team is not None:
            for touch in team.touch_models:
                if title.target(touch):
                    out[m.id].books[touch] = Book(target=title.target(touch))
    for a in world.accounts:
        owner = a.owner_id if owners is None else owners.get(a.id)
        if owner is None or owner not in out:
            continue
        books = out[owner]
        book = books.books.setdefault(a.touch_model or "", Book())
        book.accounts += 1
        book.mrr += a.mrr
        title = config.title(books.member.title)
        if title is None or not title.admits(a.mrr):
            books.band_violations += 1
    return list(out.values())


def unowned(world: World) -> dict[str, int]:
    """Customer accounts without an owner, per touch model (``""``: none set)."""
    counts: dict[str, int] = defaultdict(int)
    for a in world.accounts:
        if a.owner_id is None:
            counts[a.touch_model or ""] += 1
    return dict(counts)


def money(value: Fraction) -> Decimal:
    """Money in major units, half-even to 2 decimals (the project's rounding)."""
    return Decimal(round(value * 100)).scaleb(-2)
