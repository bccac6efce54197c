"""Who owned an account on which day: the one writer of ``accounts.owner_id`` and its history.

Every change of an account's owner goes through :func:`set_owners` (an assignment, a merge, an
import that updates an account) or :func:`start_histories` (accounts created with an owner), so
``account_ownerships`` always holds one period per owner an account had. Reports of a past
period ask :func:`owners_on` / :func:`owner_periods` instead of reading ``owner_id``.

Rule of the periods: a period covers ``started_on <= D < ended_on``. The first owner an account
is recorded with has ``started_on`` NULL: it owned the account on every earlier day too, since
before that Banso knew nothing (an imported CRM's current owners also own the imported past).
An owner changed twice on one day keeps the last change only. An account with an owner but no
period at all (a row written before the history existed, or by a writer that bypassed this
module) counts as owned by that owner on every day, as the migration's backfill would have it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, and_, delete, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from banso.accounts.models import OWNERSHIP_SOURCES, Account, AccountOwnership
from banso.bulk import bulk_insert
from banso.dates import today
from banso.db import utcnow

_CHUNK = 10_000


@dataclass(frozen=True)
class OwnerChange:
    """One account whose owner :func:`set_owners` changed."""

    account_id: int
    before: int | None
    after: int | None


def set_owners(
    session: Session,
    owners: Mapping[int, int | None],
    *,
    source: str,
    day: date | None = None,
) -> list[OwnerChange]:
    """Make ``owners[account]`` the owner of each account from ``day`` (default: today) on, in
    ``accounts.owner_id`` and its history; ``None`` leaves an account without owner. Accounts
    already owned so are left alone. The changes made, in account id order."""
    _check_source(source)
    day = day or today()
    current = _current_owners(session, list(owners))
    changes = [
        OwnerChange(a, current[a], owners[a])
        for a in sorted(owners)
        if a in current and current[a] != owners[a]
    ]
    if not changes:
        return []
    ids = [c.account_id for c in changes]
    by_new: dict[int | None, list[int]] = {}
    for c in changes:
        by_new.setdefault(c.after, []).append(c.account_id)
    for owner, accounts in by_new.items():
        for part in _chunks(accounts):
            session.execute(
                update(Account)
                .where(Account.id.in_(part))
                .values(owner_id=owner, updated_at=utcnow())
                .execution_options(synchronize_session="fetch")
            )
    with_history: set[int] = set()
    for part in _chunks(ids):
        with_history |= set(
            session.scalars(
                select(AccountOwnership.account_id).where(AccountOwnership.account_id.in_(part))
            )
        )
        # a period that began today is replaced, not closed: it would cover no day
        session.execute(
            delete(AccountOwnership).where(
                AccountOwnership.account_id.in_(part),
                AccountOwnership.ended_on.is_(None),
                AccountOwnership.started_on == day,
            )
        )
        session.execute(
            update(AccountOwnership)
            .where(AccountOwnership.account_id.in_(part), AccountOwnership.ended_on.is_(None))
            .values(ended_on=day)
        )
    now = utcnow()
    rows = [
        {
            "account_id": c.account_id,
            "member_id": c.after,
            "started_on": day if c.account_id in with_history else None,
            "ended_on": None,
            "source": source,
            "created_at": now,
        }
        for c in changes
        if c.after is not None
    ]
    bulk_insert(session, AccountOwnership.__table__, rows)
    session.flush()
    return changes


def start_histories(session: Session, owners: Mapping[int, int | None], *, source: str) -> None:
    """The first period of accounts just created with an owner (the owner already written to
    ``accounts.owner_id`` by the insert): open, and reaching back to before Banso knew."""
    _check_source(source)
    now = utcnow()
    bulk_insert(
        session,
        AccountOwnership.__table__,
        [
            {
                "account_id": a,
                "member_id": m,
                "started_on": None,
                "ended_on": None,
                "source": source,
                "created_at": now,
            }  # fmt: skip
            for a, m in owners.items()
            if m is not None
        ],
    )


def owner_on(session: Session, account_id: int, day: date) -> int | None:
    """The team member who owned ``account_id`` on ``day``; None when nobody did."""
    return owners_on(session, day, [account_id]).get(account_id)


def owners_on(
    session: Session, day: date, account_ids: Iterable[int] | None = None
) -> dict[int, int]:
    """``{account id: owner}`` of every account owned on ``day`` (only ``account_ids`` when
    given)."""
    query = select(AccountOwnership.account_id, AccountOwnership.member_id).where(_covers(day, day))
    unrecorded = _unrecorded()
    if account_ids is None:
        return {a: m for a, m in (*session.execute(query), *session.execute(unrecorded))}
    out: dict[int, int] = {}
    for part in _chunks(list(account_ids)):
        for stmt in (
            query.where(AccountOwnership.account_id.in_(part)),
            unrecorded.where(Account.id.in_(part)),
        ):
            out.update({a: m for a, m in session.execute(stmt)})
    return out


@dataclass(frozen=True)
class OwnerPeriod:
    """One ownership period overlapping a range of days."""

    account_id: int
    member_id: int
    started_on: date | None
    ended_on: date | None


def owner_periods(
    session: Session, first: date, last: date, member_id: int | None = None
) -> list[OwnerPeriod]:
    """Every ownership period that covers at least one day of ``first..last`` (inclusive);
    with ``member_id``, every period of the accounts that member owned then (theirs and the
    other owners' of those accounts)."""
    query = select(
        AccountOwnership.account_id,
        AccountOwnership.member_id,
        AccountOwnership.started_on,
        AccountOwnership.ended_on,
    ).where(_covers(first, last))
    unrecorded = _unrecorded()
    if member_id is not None:
        book = owned_by_sql(member_id, first, last)
        query = query.where(AccountOwnership.account_id.in_(book))
        unrecorded = unrecorded.where(Account.owner_id == member_id)
    return [OwnerPeriod(*row) for row in session.execute(query)] + [
        OwnerPeriod(a, m, None, None) for a, m in session.execute(unrecorded)
    ]


def owned_by_sql(member_id: int, first: date, last: date) -> Select[tuple[int]]:
    """The ids of the accounts ``member_id`` owned on at least one day of ``first..last``."""
    recorded = select(AccountOwnership.account_id).where(
        AccountOwnership.member_id == member_id, _covers(first, last)
    )
    unrecorded = _unrecorded().where(Account.owner_id == member_id).with_only_columns(Account.id)
    return recorded.union(unrecorded)  # type: ignore[return-value]


def period_owners_sql(first: date, last: date) -> Select[tuple[int, int]]:
    """(account id, member id) of every account owned on some day of ``first..last``, one owner
    each: the owner on ``last``, or, when nobody owned the account that day, the owner whose
    period ended last within the range (the rule ``revenue --by owner`` applies to a month)."""
    on_last = select(AccountOwnership.account_id, AccountOwnership.member_id).where(
        _covers(last, last)
    )
    owned_on_last = select(AccountOwnership.account_id).where(_covers(last, last))
    other = aliased(AccountOwnership)
    latest_end = (
        select(func.max(other.ended_on))
        .where(other.account_id == AccountOwnership.account_id, _covers_of(other, first, last))
        .scalar_subquery()
    )
    ended_within = select(AccountOwnership.account_id, AccountOwnership.member_id).where(
        _covers(first, last),
        AccountOwnership.account_id.not_in(owned_on_last),
        AccountOwnership.ended_on == latest_end,
    )
    return on_last.union(ended_within, _unrecorded())  # type: ignore[return-value]


def history(session: Session, account_id: int) -> list[OwnerPeriod]:
    """An account's ownership periods, oldest first."""
    rows = session.execute(
        select(
            AccountOwnership.account_id,
            AccountOwnership.member_id,
            AccountOwnership.started_on,
            AccountOwnership.ended_on,
        )
        .where(AccountOwnership.account_id == account_id)
        .order_by(AccountOwnership.started_on.is_not(None), AccountOwnership.started_on)
    )
    return [OwnerPeriod(*row) for row in rows]


def move_on_merge(session: Session, keep_id: int, other_id: int) -> None:
    """Before ``other_id`` is merged into ``keep_id``: the kept account keeps its own history;
    when it has no owner and the other has one, the other's owner becomes its owner (with the
    other's history when the kept account has none). The other's periods are then removed."""
    keep = session.get(Account, keep_id)
    other = session.get(Account, other_id)
    assert keep is not None and other is not None
    takes_owner = keep.owner_id is None and other.owner_id is not None
    keep_has_history = session.scalar(
        select(AccountOwnership.id).where(AccountOwnership.account_id == keep_id).limit(1)
    )
    if takes_owner and keep_has_history is None:
        session.execute(
            update(AccountOwnership)
            .where(AccountOwnership.account_id == other_id)
            .values(account_id=keep_id)
        )
        session.execute(
            update(Account)
            .where(Account.id == keep_id)
            .values(owner_id=other.owner_id)
            .execution_options(synchronize_session="fetch")
        )
        return
    session.execute(delete(AccountOwnership).where(AccountOwnership.account_id == other_id))
    if takes_owner:
        set_owners(session, {keep_id: other.owner_id}, source="merge")


def _unrecorded() -> Select[tuple[int, int]]:
    """(account, owner) of the accounts with an owner and no ownership period at all."""
    recorded = select(AccountOwnership.id).where(AccountOwnership.account_id == Account.id)
    return select(Account.id, Account.owner_id).where(  # type: ignore[return-value]
        Account.owner_id.is_not(None), ~recorded.exists()
    )


def _covers(first: date, last: date):  # type: ignore[no-untyped-def]
    """Periods covering a day of ``first..last``."""
    return _covers_of(AccountOwnership, first, last)


def _covers_of(table, first: date, last: date):  # type: ignore[no-untyped-def]
    return and_(
        or_(table.started_on.is_(None), table.started_on <= last),
        or_(table.ended_on.is_(None), table.ended_on > first),
    )


def _current_owners(session: Session, ids: list[int]) -> dict[int, int | None]:
    out: dict[int, int | None] = {}
    for part in _chunks(ids):
        out.update(
            {
                a: o
                for a, o in session.execute(
                    select(Account.id, Account.owner_id).where(Account.id.in_(part))
                )
            }
        )
    return out


def _check_source(source: str) -> None:
    if source not in OWNERSHIP_SOURCES:
        raise ValueError(f"unknown ownership source {source!r}")


def _chunks(items: list[int]) -> list[list[int]]:
    return [items[i : i + _CHUNK] for i in range(0, len(items), _CHUNK)]
