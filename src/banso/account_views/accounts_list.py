"""The accounts list: search, filters, order and pages, its CSV rows, the filter menus and the
dashboard's renewals due; My book reads its accounts at risk and renewals from it too.

Plain functions over a ``Session``; the caller owns the transaction. The list is one query for the
page plus one count, whatever the page size, so it stays fast at 100,000 accounts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import BigInteger, Row, Select, bindparam, false, func, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from banso import data_versions, dates
from banso.accounts.models import Account
from banso.accounts.search import search_terms
from banso.activities.service import last_touches
from banso.health.models import HealthCurrent
from banso.playbooks.ctas import NextCta, next_open_ctas
from banso.revenue import contracts
from banso.team.models import TeamMember

PAGE_SIZE = 50
SORTS = ("name", "kana", "plan", "segment", "owner", "lifecycle", "score", "mrr", "renewal")
BANDS = ("green", "yellow", "red")
NOT_SCORED = "none"
"""Band filter value for accounts without a band on the newest scored day (not customers then,
or no measure had data)."""
AT_RISK = "at_risk"
"""Band filter value for accounts in the red or yellow band (My book's accounts at risk)."""


@dataclass(frozen=True)
class AccountFilter:
    """What the accounts list shows: search text, filters, order and page (1-based)."""

    q: str = ""
    owner_id: int | None = None
    plan: str = ""
    segment: str = ""
    lifecycle: str = ""
    renewal_days: int | None = None
    """Only accounts whose next renewal (``revenue.contracts``) is within this many days."""
    band: str = ""
    """Health band on the newest scored day: green, yellow, red, ``AT_RISK`` or ``NOT_SCORED``."""
    include_churned: bool = False
    """Also the accounts that have churned by today (``revenue.contracts.is_churned``); they
    are left out by default."""
    sort: str = "name"
    descending: bool = False
    page: int = 1


@dataclass(frozen=True)
class AccountRow:
    id: int
    name: str
    kana: str | None
    domain: str | None
    plan: str | None
    segment: str | None
    owner: str | None
    lifecycle_stage: str | None
    health_score: float | None
    """0-100 on the newest scored day (``health_current``)."""
    health_band: str | None
    mrr: int | None
    """MRR today in minor units of the reporting currency, every line converted at this month's
    FX rate (``revenue.contracts``); None without active lines or when a rate is missing."""
    next_renewal: date | None
    last_touch: datetime | None = None
    """When the newest activity on the account took place (``activities.service.last_touches``);
    filled for the rows of a page, not for the CSV export."""
    open_cta: NextCta | None = None
    """The account's open CTA due first (``playbooks.ctas.next_open_ctas``); page rows only."""


@dataclass(frozen=True)
class AccountPage:
    rows: list[AccountRow]
    total: int
    page: int
    pages: int


@dataclass(frozen=True)
class FilterChoices:
    owners: list[tuple[int, str]]
    plans: list[str]
    segments: list[str]
    lifecycles: list[str]


def list_accounts(
    session: Session, flt: AccountFilter, *, page_size: int = PAGE_SIZE
) -> AccountPage:
    """One page of accounts matching ``flt``, with the total count.

    Ordered by an account column, the page's ids come from the accounts table alone and MRR is
    summed for those ids only; ordering or filtering by MRR or renewal needs every account's sum.
    The page is read first: when it is the last one (fewer rows than a page), the total follows
    from it and the count, a pass over every matching account, is skipped.
    """
    page = max(1, flt.page)
    money = _money(session, churned=not flt.include_churned)
    found = _page(session, flt, money, page, page_size)
    rows = _with_touch_and_cta(session, [_row(r, money) for r in found])
    if (found and len(found) < page_size) or (not found and page == 1):
        total = (page - 1) * page_size + len(found)
        return AccountPage(rows, total, page, page)
    if money.churned is not None and flt == AccountFilter(
        page=flt.page, sort=flt.sort, descending=flt.descending
    ):
        # every account but the churned (each of which is an account): no pass over 100,000
        total = (session.scalar(select(func.count()).select_from(Account)) or 0) - (
            money.churned_count
        )
    else:
        total = session.scalar(_filtered(flt, money, count_only=True)) or 0
    pages = max(1, -(-total // page_size))
    # a page past the last is empty (``found`` is): its number says where the caller asked
    return AccountPage(rows, total, page, pages)


def _with_touch_and_cta(session: Session, rows: list[AccountRow]) -> list[AccountRow]:
    """The page's rows with their last touch and next open CTA (two indexed look-ups)."""
    ids = [r.id for r in rows]
    touches = last_touches(session, ids)
    ctas = next_open_ctas(session, ids)
    return [replace(r, last_touch=touches.get(r.id), open_cta=ctas.get(r.id)) for r in rows]


def _page(
    session: Session, flt: AccountFilter, money: _Money, page: int, page_size: int
) -> list[Row[Any]]:
    offset = (page - 1) * page_size
    if flt.sort in ("mrr", "renewal") or flt.renewal_days is not None:
        return list(session.execute(_filtered(flt, money).limit(page_size).offset(offset)).all())
    ids_stmt = _filtered(flt, money, ids_only=True).limit(page_size).offset(offset)
    ids = list(session.scalars(ids_stmt))
    return list(session.execute(_filtered(flt, money, only_ids=ids)).all()) if ids else []


def iter_accounts(session: Session, flt: AccountFilter) -> Iterator[AccountRow]:
    """Every account matching ``flt`` in the list's order (for the CSV export)."""
    money = _money(session, churned=not flt.include_churned)
    for r in session.execute(_filtered(flt, money).execution_options(yield_per=2000)):
        yield _row(r, money)


@dataclass(frozen=True)
class _Money:
    """Today and this month's FX factors: what the list's MRR and next renewal are taken on."""

    today: date
    factors: dict[str, Fraction]
    divisor: int
    """``mrr_scaled`` / divisor = MRR in minor units of the reporting currency."""
    churned: Select | None = None  # type: ignore[type-arg]
    """The ids of the accounts churned by today, as a query over one parameter (None: not
    needed, the churned are listed)."""
    churned_count: int = 0


def _money(session: Session, *, churned: bool = False) -> _Money:
    today = dates.today()
    factors = contracts.fx_table(session, today).of_month(today)
    if not churned:
        return _Money(today, factors, contracts.mrr_divisor(factors))
    ids = churned_ids(session, today)
    return _Money(today, factors, contracts.mrr_divisor(factors), _id_set(session, ids), len(ids))


def _json_ids(ids: list[int]) -> str:
    """``ids`` as a JSON array, written once per list of ids (22,000 ids take ~2 ms)."""
    kept_ids, text = _JSON[0]
    if kept_ids is not ids:
        text = json.dumps(ids)
        _JSON[0] = (ids, text)  # one assignment: threads see the old pair or the new one
    return text


_JSON: list[tuple[list[int] | None, str]] = [(None, "[]")]


def churned_ids(session: Session, today: date) -> list[int]:
    """The accounts churned by ``today`` (``revenue.contracts.churned_accounts_sql``), kept per
    database, day and revenue data version: finding them is a pass over every subscription
    (≈ 0.1 s at 234,000 lines), where probing each account for it would cost a list page that
    counts 100,000 accounts two index look-ups each."""
    key = (
        session.get_bind().url.render_as_string(hide_password=True),
        data_versions.current(session, data_versions.REVENUE),
        today,
    )
    found = _CHURNED.get(key)
    if found is None:
        found = sorted(session.scalars(contracts.churned_accounts_sql(today)))
        _CHURNED.clear()  # only the newest state of one database is worth keeping
        _CHURNED[key] = found
    return found


_CHURNED: dict[tuple[str, int, date], list[int]] = {}


def _id_set(session: Session, ids: list[int]) -> Select:  # type: ignore[type-arg]
    """``ids`` as a one-column query over a single parameter (a JSON array on SQLite, an array
    on PostgreSQL), so any number of them fits in one statement; the database hashes or
    indexes the set once per statement."""
    if session.get_bind().dialect.name == "postgresql":
        return select(func.unnest(bindparam("churned_ids", ids, type_=ARRAY(BigInteger))))
    values = func.json_each(bindparam("churned_ids", _json_ids(ids))).table_valued("value")
    return select(values.c.value)


def renewals_due(session: Session, days: int, *, limit: int) -> AccountPage:
    """The first ``limit`` accounts whose next renewal is within ``days`` days, soonest first,
    and how many there are (the dashboard's renewals due).

    Finding them computes every account's next renewal, so the page is kept per database and
    day until the revenue data version changes (any write to subscriptions, FX rates, accounts
    or team members); health is shown beside it from the snapshots, not from these rows."""
    key = (
        session.get_bind().url.render_as_string(hide_password=True),
        data_versions.current(session, data_versions.REVENUE),
        dates.today(),
        days,
        limit,
    )
    found = _RENEWALS.get(key)
    if found is None:
        flt = AccountFilter(renewal_days=days, sort="renewal")
        found = list_accounts(session, flt, page_size=limit)
        _RENEWALS.clear()  # only the newest state of one database is worth keeping
        _RENEWALS[key] = found
    return found


_RENEWALS: dict[tuple[str, int, date, int, int], AccountPage] = {}


def filter_choices(session: Session) -> FilterChoices:
    """The owners, plans, segments and lifecycle stages present, for the filter menus.

    Reading them scans an index of 100,000 accounts per menu, so they are kept per database
    until the data version of the accounts and team members changes (any write to them)."""
    key = (
        session.get_bind().url.render_as_string(hide_password=True),
        data_versions.current(session, data_versions.REVENUE),
    )
    found = _CHOICES.get(key)
    if found is None:
        found = _read_filter_choices(session)
        _CHOICES.clear()  # only the newest version of one database is worth keeping
        _CHOICES[key] = found
    return found


_CHOICES: dict[tuple[str, int], FilterChoices] = {}


def _read_filter_choices(session: Session) -> FilterChoices:
    def distinct(column) -> list[str]:  # type: ignore[no-untyped-def]
        return [v for v in session.scalars(select(column).distinct().order_by(column)) if v]

    owners = session.execute(select(TeamMember.id, TeamMember.name).order_by(TeamMember.name)).all()
    return FilterChoices(
        owners=[(i, n) for i, n in owners],
        plans=distinct(Account.plan),
        segments=distinct(Account.segment),
        lifecycles=distinct(Account.lifecycle_stage),
    )


def _filtered(
    flt: AccountFilter,
    money_on: _Money,
    *,
    count_only: bool = False,
    ids_only: bool = False,
    only_ids: list[int] | None = None,
) -> Select:  # type: ignore[type-arg]
    """The list's query: rows (default), ``count(*)``, ordered ids, or the rows of ``only_ids``.

    Each account's MRR and next renewal are those of ``revenue.contracts`` on ``money_on.today``,
    so the list, the 360, the dashboard and the KPIs agree."""
    today = money_on.today
    last = None if flt.renewal_days is None else today + timedelta(days=flt.renewal_days)
    # one owner's accounts (My book, "Mine"): their figures only, not every account's
    scope = (
        select(Account.id).where(Account.owner_id == flt.owner_id)
        if flt.owner_id is not None and only_ids is None
        else None
    )
    money = contracts.account_facts_sql(
        today, money_on.factors, account_ids=only_ids, scope=scope, renewing_by=last
    )
    per_account = money.subquery("per_account")
    needs_money = flt.sort in ("mrr", "renewal") or flt.renewal_days is not None
    if count_only or ids_only:
        stmt = select(func.count() if count_only else Account.id).select_from(Account)
        if ids_only and flt.sort == "owner":
            stmt = stmt.outerjoin(TeamMember, TeamMember.id == Account.owner_id)
        if flt.band or (ids_only and flt.sort == "score"):
            stmt = stmt.outerjoin(HealthCurrent, HealthCurrent.account_id == Account.id)
        if flt.renewal_days is not None or (ids_only and needs_money):
            stmt = stmt.outerjoin(per_account, per_account.c.account_id == Account.id)
    else:
        stmt = (
            select(
                Account.id,
                Account.name,
                Account.kana,
                Account.domain,
                Account.plan,
                Account.segment,
                TeamMember.name.label("owner"),
                Account.lifecycle_stage,
                HealthCurrent.score.label("health_score"),
                HealthCurrent.band.label("health_band"),
                per_account.c.mrr_scaled,
                per_account.c.next_renewal,
            )
            .outerjoin(TeamMember, TeamMember.id == Account.owner_id)
            .outerjoin(HealthCurrent, HealthCurrent.account_id == Account.id)
            .outerjoin(per_account, per_account.c.account_id == Account.id)
        )
    if only_ids is not None:
        stmt = stmt.where(Account.id.in_(only_ids))
    if flt.q.strip():
        stmt = stmt.where(
            or_(
                false(),  # a term that cannot occur in any key matches nothing
                *(
                    Account.search_key.like(f"%{_escape_like(term)}%", escape="\\")
                    for term in search_terms(flt.q)
                ),
            )
        )
    if flt.owner_id is not None:
        stmt = stmt.where(Account.owner_id == flt.owner_id)
    if flt.plan:
        stmt = stmt.where(Account.plan == flt.plan)
    if flt.segment:
        stmt = stmt.where(Account.segment == flt.segment)
    if flt.lifecycle:
        stmt = stmt.where(Account.lifecycle_stage == flt.lifecycle)
    if flt.band == NOT_SCORED:
        stmt = stmt.where(HealthCurrent.band.is_(None))
    elif flt.band == AT_RISK:
        stmt = stmt.where(HealthCurrent.band.in_(("red", "yellow")))
    elif flt.band:
        stmt = stmt.where(HealthCurrent.band == flt.band)
    if money_on.churned is not None and only_ids is None:
        stmt = stmt.where(Account.id.not_in(money_on.churned))
    if flt.renewal_days is not None:
        last = today + timedelta(days=flt.renewal_days)
        stmt = stmt.where(
            per_account.c.next_renewal.between(
                contracts.day_number(today), contracts.day_number(last)
            )
        )
    order = {
        "name": Account.normalized_name,
        "kana": Account.kana,
        "plan": Account.plan,
        "segment": Account.segment,
        "owner": TeamMember.name,
        "lifecycle": Account.lifecycle_stage,
        "score": HealthCurrent.score,
        "mrr": per_account.c.mrr_scaled,
        "renewal": per_account.c.next_renewal,
    }.get(flt.sort, Account.normalized_name)
    if count_only:
        return stmt
    key = order.desc() if flt.descending else order.asc()
    return stmt.order_by(key.nulls_last(), Account.id)


def _row(r, money: _Money) -> AccountRow:  # type: ignore[no-untyped-def]
    scaled = r.mrr_scaled
    return AccountRow(
        id=r.id,
        name=r.name,
        kana=r.kana,
        domain=r.domain,
        plan=r.plan,
        segment=r.segment,
        owner=r.owner,
        lifecycle_stage=r.lifecycle_stage,
        health_score=r.health_score,
        health_band=r.health_band,
        mrr=None if scaled is None else round(Fraction(int(scaled), money.divisor)),
        next_renewal=contracts.day_of_number(r.next_renewal),
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
