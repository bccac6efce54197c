"""Revenue reports: the library API the CLI, the web app and the EBR reports call.

Each report runs the Ibis definitions of :mod:`banso.revenue.metrics` on the chosen engine,
then takes the exact ratios in Python. Values are exact (``Fraction`` money in major units of the
reporting currency, ``Fraction`` rates, ``int`` counts, ``None`` where the spec says null);
:func:`rounded` applies the output contract's rounding. Months and their defaults are
:mod:`banso.revenue.months`, FX rates and factors :mod:`banso.revenue.fx`, fiscal periods
:mod:`banso.revenue.fiscal`.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
from sqlalchemy import Select, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from banso import data_versions
from banso.accounts import ownership
from banso.accounts.models import Account
from banso.analytics.engines import (
    AnalyticsConnection,
    check_engine,
    connect,
    month_dimension,
    month_index,
)
from banso.config import get_settings
from banso.errors import BansoError
from banso.i18n import _
from banso.revenue import contracts, metrics
from banso.revenue.fx import (
    decimal_places,
    factor_table,
    fx_rates,
    largest_factors,
    steady_factors,
)
from banso.revenue.metrics import BREAKDOWNS, KPI_KINDS, MONEY, RATE, Scale
from banso.revenue.models import Subscription
from banso.revenue.months import MonthRange, data_bounds, month_label, resolve_range
from banso.team.models import TeamMember

Row = dict[str, Any]


@dataclass(frozen=True, eq=False)
class BookFilter:
    """Which accounts a report covers; each field given narrows it (all of them must hold).

    ``owner_id``: the accounts a team member owns now; ``team``: the accounts owned by members
    of that team (``team_members.team``); ``touch_model``, ``segment``: the account's field;
    ``accounts``: an explicit ``SELECT`` of account ids (a scorecard's book of a period). Only
    those accounts' subscription lines are read, so a small book costs little."""

    owner_id: int | None = None
    team: str | None = None
    touch_model: str | None = None
    segment: str | None = None
    accounts: Select[tuple[int]] | None = None

    @classmethod
    def of(
        cls, owner_id: int | None, team: str = "", touch_model: str = "", segment: str = ""
    ) -> BookFilter:
        """The filter of a page's query parameters: an empty value filters nothing."""
        return cls(owner_id, team or None, touch_model or None, segment or None)

    def __bool__(self) -> bool:
        return any(
            v is not None
            for v in (self.owner_id, self.team, self.touch_model, self.segment, self.accounts)
        )

    def owner_only(self) -> bool:
        """The filter is one member's book and nothing else (reported with the owner of each
        month, like ``--by owner``)."""
        return self.owner_id is not None and not (
            self.team or self.touch_model or self.segment or self.accounts is not None
        )

    def account_ids(self) -> Select[tuple[int]]:
        """The ids of the accounts the filter lets through."""
        query = select(Account.id)
        if self.owner_id is not None:
            query = query.where(Account.owner_id == self.owner_id)
        if self.team is not None:
            members = select(TeamMember.id).where(TeamMember.team == self.team)
            query = query.where(Account.owner_id.in_(members))
        if self.touch_model is not None:
            query = query.where(Account.touch_model == self.touch_model)
        if self.segment is not None:
            query = query.where(Account.segment == self.segment)
        if self.accounts is not None:
            query = query.where(Account.id.in_(self.accounts))
        return query

    def cache_key(self) -> str:
        """The part of a cache key that tells filtered reports apart (``owner-7``,
        ``team=SMB|touch=tech``); an explicit ``accounts`` query is never cached."""
        if self.accounts is not None:
            raise ValueError("a report of an explicit account query is not cached")
        if self.owner_id is not None and not (self.team or self.touch_model or self.segment):
            return f"owner-{self.owner_id}"  # the key warm_books fills
        parts = [
            f"{name}={value}"
            for name, value in (
                ("owner", self.owner_id),
                ("team", self.team),
                ("touch", self.touch_model),
                ("segment", self.segment),
            )
            if value is not None
        ]
        key = "|".join(parts)
        # long team or segment names would overflow report_cache.key (300 characters)
        return key if len(key) <= 64 else "h-" + hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class BookChoices:
    """What a page's owner, team, touch model and segment filters offer: the values present."""

    members: list[tuple[int, str]]
    """(team member id, name), by name."""
    teams: list[str]
    touch_models: list[str]
    segments: list[str]


def book_choices(session: Session) -> BookChoices:
    """The values the revenue filters offer (:class:`BookFilter`): every team member, and the
    teams, touch models and segments that some member or account has."""

    def distinct(column: Any) -> list[str]:
        present = select(column).where(column.is_not(None)).distinct().order_by(column)
        return list(session.scalars(present))

    members = session.execute(select(TeamMember.id, TeamMember.name).order_by(TeamMember.name))
    return BookChoices(
        [(i, n) for i, n in members],
        distinct(TeamMember.team),
        distinct(Account.touch_model),
        distinct(Account.segment),
    )


@dataclass
class RevenueReport:
    """The monthly revenue KPIs of a month range, exact, one row per month (and key)."""

    months: MonthRange
    currency: str
    rows: list[Row]
    by: str | None = None


@dataclass
class CohortReport:
    """The cohort retention table, exact, ordered by cohort then age."""

    months: MonthRange
    currency: str
    rows: list[Row]


def revenue_report(
    session: Session,
    *,
    start: str | None = None,
    end: str | None = None,
    engine: str = "duckdb",
    by: str | None = None,
    owner_id: int | None = None,
    book: BookFilter | None = None,
    books: Select[tuple[int, int]] | None = None,
) -> RevenueReport:
    """Monthly revenue KPIs (spec §2-§7) for ``start..end`` (``YYYY-MM``, inclusive).

    Defaults: ``end`` = :func:`.months.default_last_month`, ``start`` = 11 months before ``end``.
    ``by`` (plan, segment, owner, industry, touch, tier: :data:`metrics.BREAKDOWNS`) splits
    every month by the account's attribute; by ``owner``, the owner of the account in that month
    (:func:`owner_month_keys`).
    ``owner_id`` (or a ``book`` that filters by owner only): the KPIs of one team member's book:
    in each month, the accounts that member owned in that month (the rule of ``by="owner"``, so
    a book equals its owner's row of the report by owner); only the lines of accounts it owned
    in the range are read, so a book of a hundred accounts costs little however many accounts
    there are. ``book``: the KPIs of the accounts a :class:`BookFilter` lets through (team,
    touch model, segment: the accounts' current attributes; combined with an owner, the current
    owner). ``books``: a ``SELECT`` of (account id, book key) pairs — every month split by the
    caller's books (a scorecard's CSMs of a period), the key in column ``book``; accounts in no
    book make the row whose key is None.
    """
    months = resolve_range(session, start, end, default_span=12)
    if owner_id is not None:
        book = BookFilter(owner_id=owner_id)
    member = book.owner_id if book is not None and book.owner_only() else None
    if member is not None:
        book = None  # the member's book month by month (owner_month_keys), not today's owner
    if books is not None:
        by = "book"
    elif by is not None:
        check_breakdown(by)
    # month ends from M-13 on: mrr_start needs M-1, NRR/GRR need M-12
    prepared = _prepare(
        session,
        engine,
        months,
        with_accounts=by is not None,
        history_from=months.first - 13,
        book=book,
        owner_id=member,
    )
    if books is not None:
        pairs = session.execute(books).all()
        keys = prepared.conn.memtable(
            "banso_keys",
            pa.table(
                {
                    "account_id": pa.array([int(a) for a, _k in pairs], pa.int64()),
                    "key": pa.array([int(k) for _a, k in pairs], pa.int64()),
                }
            ),
        )
    else:
        keys = _breakdown_keys(session, prepared, months, by)
    book_key = None
    if member is not None and by is None:
        # the member's months only: the other months of its accounts have no key
        book_key = session.scalar(select(TeamMember.email).where(TeamMember.id == member))
        keys = prepared.conn.memtable(
            "banso_keys", owner_month_keys(session, months, member_id=member)
        )
    last = months.last
    changes = prepared.changes
    assert changes is not None
    aggregates = [
        metrics.movements(changes, prepared.months, keys, last),
        metrics.renewals(
            prepared.renewal_due(last), prepared.lines, prepared.months, prepared.fx, keys, last
        ),
        metrics.retention_12m(changes, prepared.months, keys, last),
    ]
    per_group: dict[tuple[int, Any], dict[str, int]] = defaultdict(dict)
    for expr in aggregates:
        for record in _records(expr):
            group = (record.pop("month_idx"), record.pop("key", None))
            if book_key is not None:
                if group[1] != book_key:
                    continue
                group = (group[0], None)
            per_group[group].update({k: _int(v) for k, v in record.items()})
    gross_margin = Fraction(Decimal(str(get_settings().gross_margin)))
    group_keys = _group_keys(per_group, months) if by else [None]
    rows = []
    for m in range(months.first, months.last + 1):
        for key in group_keys:
            row = metrics.monthly_kpis(
                month_label(m), per_group.get((m, key), {}), prepared.scale, gross_margin
            )
            if by is not None:
                row[by] = key
            rows.append(row)
    return RevenueReport(months, prepared.currency, rows, by)


def lost_by_account(
    session: Session,
    *,
    start: str | None = None,
    end: str | None = None,
    engine: str = "duckdb",
) -> tuple[MonthRange, str, list[Row]]:
    """Spec §3 churned and contraction MRR per account and month of ``start..end``, exact.

    The same :func:`metrics.movements` as :func:`revenue_report`, keyed by the account, so the
    per-account amounts of a month add up to its ``churned_mrr`` and ``contraction_mrr``. Rows
    (only accounts that lost MRR): month, account_id, churned_mrr, contraction_mrr (Fractions).
    """
    months = resolve_range(session, start, end, default_span=12)
    prepared = _prepare(session, engine, months, with_accounts=True, history_from=months.first - 1)
    accounts = prepared.conn.table("accounts")
    keys = accounts.select(account_id=accounts.id.cast("int64"), key=accounts.id.cast("int64"))
    d = prepared.scale.denominator
    rows: list[Row] = []
    moved = metrics.movements(prepared.changes, prepared.months, keys, months.last, levels=False)
    for record in _records(moved):
        m = int(record["month_idx"])
        churned, shrank = _int(record["churned_mrr"]), _int(record["contraction_mrr"])
        if m < months.first or not (churned or shrank) or record["key"] is None:
            continue
        rows.append(
            {
                "month": month_label(m),
                "account_id": int(record["key"]),
                "churned_mrr": Fraction(churned, d),
                "contraction_mrr": Fraction(shrank, d),
            }
        )
    rows.sort(key=lambda r: (r["month"], r["account_id"]))
    return months, prepared.currency, rows


def cohort_report(
    session: Session,
    *,
    start: str | None = None,
    end: str | None = None,
    engine: str = "duckdb",
    book: BookFilter | None = None,
) -> CohortReport:
    """The cohort retention table (spec §8) for cohorts from ``start`` to ``end`` (``YYYY-MM``).

    Defaults: ``end`` = :func:`.months.default_last_month`; ``start`` = every cohort. ``book``:
    the cohorts of the accounts a :class:`BookFilter` lets through.
    """
    months = resolve_range(session, start, end, default_span=None)
    prepared = _prepare(session, engine, months, with_accounts=False, book=book)
    counts: dict[int, dict[int, tuple[int, int]]] = defaultdict(dict)
    sizes: dict[int, int] = {}
    assert prepared.changes is not None
    for record in _records(metrics.cohort_counts(prepared.changes, prepared.months, months.last)):
        cohort, m = int(record["cohort_idx"]), int(record["month_idx"])
        counts[cohort][m] = (_int(record["retained"]), _int(record["mrr"]))
        if m == cohort:
            sizes[cohort] = _int(record["retained"])
    rows: list[Row] = []
    for cohort in sorted(c for c in counts if months.first <= c <= months.last):
        by_age = [counts[cohort].get(m, (0, 0)) for m in range(cohort, months.last + 1)]
        rows.extend(metrics.cohort_rows(month_label(cohort), sizes[cohort], by_age, prepared.scale))
    return CohortReport(months, prepared.currency, rows)


@dataclass
class RenewalMonths:
    """MRR due for renewal and not renewed (spec §5) per month (and key), exact: rows of
    ``month``, ``key``, ``lines_due``, ``accounts_due``, ``due``, ``lost`` (``Fraction`` major
    units of ``currency``); every month of ``months`` has a row per key found (per account,
    only the months in which the account had a line due)."""

    months: MonthRange
    currency: str
    rows: list[Row]


def renewal_months(
    session: Session,
    months: MonthRange,
    *,
    engine: str = "duckdb",
    by: str | None = None,
    min_term_months: int = 1,
) -> RenewalMonths:
    """Spec §5's ``renewal_due_mrr`` and ``renewal_churned_mrr`` of every month of ``months``,
    past or future, from the contracts as they stand (open-ended lines renew; a line whose
    ``end_date`` is a renewal date is not renewed there), with the lines and accounts due.

    The same Ibis definitions as :func:`revenue_report` (:func:`metrics.renewal_due_spans`,
    :func:`metrics.renewals`), without the month-end MRR the other KPIs need. ``by`` is a
    :data:`metrics.BREAKDOWNS` choice (``touch``: the touch model; ``owner``: the owner's
    email) or ``account`` (the account id: each account's §5 due and lost per month, which the
    renewal pipeline's past outcomes read). ``min_term_months``: only lines billed every that
    many months or more are due; a line of any term that starts on a not-renewed line's end date
    still replaces it.
    """
    prepared = _prepare(
        session,
        engine,
        months,
        with_accounts=by is not None,
        history_from=months.first,
        with_changes=False,
    )
    keys: ibis.Table | None
    if by == "account":
        accounts = prepared.conn.table("accounts")
        keys = accounts.select(account_id=accounts.id.cast("int64"), key=accounts.id.cast("int64"))
    else:
        keys = _breakdown_keys(session, prepared, months, by)
    # everything the three queries' SQL depends on (engines.AnalyticsConnection.to_pyarrow)
    shape = (
        "renewal_months",
        prepared.scale,
        prepared.fx is not None,
        prepared.first,
        months.last,
        by,
        None if keys is None else tuple(keys.schema().items()),
        min_term_months,
    )

    def spans() -> ibis.Table:
        lines = prepared.lines
        if min_term_months > 1:
            lines = lines.filter(lines.bpm >= min_term_months)
        return metrics.renewal_due_spans(
            lines, prepared.months, prepared.fx, prepared.first, months.last
        )

    conn = prepared.conn
    due = conn.materialize_shaped("renewal_due", ("spans", *shape), spans)
    per_group: dict[tuple[int, Any], dict[str, int]] = defaultdict(dict)
    for table in (
        conn.to_pyarrow(
            ("renewals", *shape),
            lambda: metrics.renewals(
                due, prepared.lines, prepared.months, prepared.fx, keys, months.last
            ),
        ),
        conn.to_pyarrow(
            ("renewal_counts", *shape),
            lambda: metrics.renewal_counts(due, prepared.months, keys, months.last),
        ),
    ):
        for record in table.to_pylist():
            group = (record.pop("month_idx"), record.pop("key", None))
            per_group[group].update({k: _int(v) for k, v in record.items()})
    group_keys = _group_keys(per_group, months) if by else [None]
    d = prepared.scale.denominator
    rows: list[Row] = []
    for m in range(months.first, months.last + 1):
        for key in group_keys:
            agg = per_group.get((m, key), {})
            if by == "account" and not agg:
                continue  # per account only the months it had something due
            rows.append(
                {
                    "month": month_label(m),
                    "key": key,
                    "lines_due": agg.get("lines_due", 0),
                    "accounts_due": agg.get("accounts_due", 0),
                    "due": Fraction(agg.get("due", 0), d),
                    "lost": Fraction(agg.get("lost", 0), d),
                }
            )
    return RenewalMonths(months, prepared.currency, rows)


def rounded(row: Mapping[str, Any]) -> Row:
    """A row with the output contract's rounding (spec §9): money half-to-even to 2 decimals,
    rates to 6, as JSON numbers; counts, labels and nulls unchanged."""
    out: Row = {}
    for key, value in row.items():
        kind = _kind(key)
        if value is None or kind not in (MONEY, RATE):
            out[key] = value
        else:
            out[key] = float(round(Fraction(value), 2 if kind == MONEY else 6))
    return out


def _kind(key: str) -> str | None:
    if key.startswith("avg_monthly_"):
        return RATE
    return KPI_KINDS.get(key)


# ---------------------------------------------------------------------------------------------


@dataclass
class _Prepared:
    conn: AnalyticsConnection
    scale: Scale
    currency: str
    lines: ibis.Table
    months: ibis.Table
    fx: ibis.Table | None
    changes: ibis.Table | None
    """The month-end MRR as its changes (:func:`metrics.mrr_changes`), materialized."""
    periods: list[int]
    span: int
    first: int
    """The first month of ``months``."""

    def renewal_due(self, last: int) -> ibis.Table:
        """Lines due for renewal up to month ``last`` (:func:`metrics.renewal_due_spans`),
        materialized (they are read more than once)."""
        due = metrics.renewal_due_spans(self.lines, self.months, self.fx, self.first, last)
        return self.conn.materialize("renewal_due", due)


def _account_tables() -> dict[str, list[Any]]:
    """The account columns the breakdowns read (:func:`metrics.breakdown_keys`)."""
    return {
        "accounts": [Account.__table__.c[n] for n in ("id", *sorted(set(BREAKDOWNS.values())))],
        "team_members": [TeamMember.__table__.c[n] for n in ("id", "email")],
    }


def account_keys(session: Session, by: str, *, engine: str = "duckdb") -> dict[int, Any]:
    """Each account's ``--by`` key, exactly as :func:`revenue_report` splits by it
    (:func:`metrics.breakdown_keys`): for reports that count accounts beside the KPIs (the
    expansion report's upsell and cross-sell rates)."""
    check_breakdown(by)
    conn = connect(engine, session.get_bind(), _account_tables())
    keys = metrics.breakdown_keys(conn.table("accounts"), conn.table("team_members"), by)
    return {int(r["account_id"]): r["key"] for r in _records(keys)}


def check_breakdown(by: str) -> None:
    """``by`` is one of :data:`metrics.BREAKDOWNS`; a clear error otherwise."""
    if by not in BREAKDOWNS:
        raise BansoError(
            _(
                "Unknown breakdown {by}; choose one of {choices}.",
                by=by,
                choices=", ".join(BREAKDOWNS),
            )
        )


def _prepare(
    session: Session,
    engine: str,
    months: MonthRange,
    *,
    with_accounts: bool,
    history_from: int | None = None,
    book: BookFilter | None = None,
    owner_id: int | None = None,
    with_changes: bool = True,
) -> _Prepared:
    """Connect ``engine``, build the scale, FX factors and the month-end MRR as its changes
    (:func:`metrics.mrr_changes`, valid from month ``history_from`` on when given, else from the
    first month of the data); with
    ``owner_id``, of the lines of the accounts that team member owned in ``months`` only; with
    ``book``, of the lines of the accounts the filter lets through only. Without
    ``with_changes`` (the renewal calendar) the month-end MRR is not built."""
    check_engine(engine)
    first_data, _last = data_bounds(session)
    settings = get_settings()
    reporting = settings.reporting_currency
    if owner_id is not None:
        lines_of_book = Subscription.account_id.in_(
            ownership.owned_by_sql(
                owner_id,
                month_first_day(months.first),
                month_first_day(months.last + 1) - timedelta(days=1),
            )
        )
    elif book:
        lines_of_book = Subscription.account_id.in_(book.account_ids())
    else:
        lines_of_book = None
    kinds_query = select(Subscription.billing_period_months, Subscription.currency).distinct()
    if lines_of_book is not None:
        kinds_query = kinds_query.where(lines_of_book)
    # a book without lines reports zeros: give it the reporting currency's monthly scale
    kinds = session.execute(kinds_query).all() or [(1, reporting)]
    periods = sorted({bpm for bpm, _c in kinds})
    currencies = sorted({currency for _b, currency in kinds})
    exponents = {c: contracts.minor_exponent(c) for c in {*currencies, reporting}}
    first_month = min(first_data, months.first)
    if history_from is not None:
        first_month = max(first_month, history_from)
    factors: pa.Table | None = None
    steady: dict[str, int] | None = None
    if currencies == [reporting]:
        scale = Scale.for_periods(periods, 0, exponents[reporting])
        _check_fits_64_bits(session, scale, {reporting: 1}, reporting)
    else:
        rates = fx_rates(session, reporting, currencies, months.last)
        decimals = max((decimal_places(r) for r in rates.values()), default=0)
        scale = Scale.for_periods(periods, decimals, max(exponents.values()))
        _check_fits_64_bits(
            session, scale, largest_factors(rates, exponents, reporting, scale), reporting
        )
        factors = factor_table(
            rates, exponents, reporting, scale, min(first_data, months.first), months.last
        )
        steady = steady_factors(rates, exponents, reporting, scale, first_month, months.last)
    tables = {
        "subscriptions": [
            Subscription.__table__.c[name]
            for name in (
                "account_id",
                "start_date",
                "end_date",
                "amount",
                "currency",
                "billing_period_months",
            )
        ]
    }
    if with_accounts:
        tables.update(_account_tables())
    conn = connect(
        engine,
        session.get_bind(),
        tables,
        None if lines_of_book is None else {"subscriptions": lines_of_book},
        version=data_versions.current(session, data_versions.REVENUE),
    )
    dimension = month_dimension(first_month, months.last)
    months_t = conn.memtable("banso_months", dimension)
    fx = conn.memtable("banso_fx", factors) if factors is not None else None
    lines = conn.materialize(
        "subscription_lines",
        metrics.subscription_lines(conn.table("subscriptions"), scale),
        projection=True,
    )
    changes = (
        conn.materialize(
            "mrr_changes",
            metrics.mrr_changes(lines, months_t, fx, steady, first_month, months.last),
        )
        if with_changes
        else None
    )
    span = months.last - min(first_data, months.first) + 1
    return _Prepared(
        conn, scale, reporting, lines, months_t, fx, changes, periods, span, first_month
    )


def _group_keys(per_group: Mapping[tuple[int, Any], Any], months: MonthRange) -> list[Any]:
    """The keys of the months reported (not of the history months before them, which the owner
    of each month leaves without a key)."""
    return sorted({k for (m, k) in per_group if months.first <= m <= months.last}, key=_key_order)


def _breakdown_keys(
    session: Session, prepared: _Prepared, months: MonthRange, by: str | None
) -> ibis.Table | None:
    """The keys ``by`` splits the months by: an account attribute as it is now, or, for
    ``owner``, the owner of each account in each month (:func:`owner_month_keys`)."""
    if by is None:
        return None
    if by == "owner":
        return prepared.conn.memtable("banso_keys", owner_month_keys(session, months))
    return metrics.breakdown_keys(
        prepared.conn.table("accounts"), prepared.conn.table("team_members"), by
    )


def owner_month_keys(
    session: Session, months: MonthRange, member_id: int | None = None
) -> pa.Table:
    """Who owned each account in each month of ``months`` (docs/metrics.md, "By owner"): the
    owner on the month's last day, or, when nobody owned the account that day, the last owner
    it had within the month; from ``banso.accounts.ownership``. Columns: account_id, month_idx,
    key (the owner's email); accounts nobody owned in a month have no row for it. With
    ``member_id``, only the accounts that member owned in ``months``."""
    first_day = month_first_day(months.first)
    last_day = month_first_day(months.last + 1) - timedelta(days=1)
    # with a member: every owner of that member's accounts, who decide each month's owner
    periods = ownership.owner_periods(session, first_day, last_day, member_id)
    emails = dict(session.execute(select(TeamMember.id, TeamMember.email)).all())
    n = len(periods)
    account = np.fromiter((p.account_id for p in periods), np.int64, n)
    member = np.fromiter((p.member_id for p in periods), np.int64, n)
    start = np.fromiter(
        (months.first if p.started_on is None else month_index(p.started_on) for p in periods),
        np.int64,
        n,
    )
    # ended_on is the first day not held: the period's last month is that of the day before
    end = np.fromiter(
        (
            months.last if p.ended_on is None else month_index(p.ended_on - timedelta(days=1))
            for p in periods
        ),
        np.int64,
        n,
    )
    began = np.fromiter(
        (-1 if p.started_on is None else p.started_on.toordinal() for p in periods), np.int64, n
    )
    start, end = np.maximum(start, months.first), np.minimum(end, months.last)
    span = end - start + 1
    rows = np.repeat(np.arange(n), span)
    offset = np.arange(rows.size) - np.repeat(np.cumsum(span) - span, span)
    month = start[rows] + offset
    # per account and month the period that began last holds the month's end
    order = np.lexsort((began[rows], month, account[rows]))
    rows, month = rows[order], month[order]
    last_of_group = np.ones(rows.size, dtype=bool)
    if rows.size:
        same = (account[rows][1:] == account[rows][:-1]) & (month[1:] == month[:-1])
        last_of_group[:-1] = ~same
    rows, month = rows[last_of_group], month[last_of_group]
    return pa.table(
        {
            "account_id": pa.array(account[rows], pa.int64()),
            "month_idx": pa.array(month, pa.int64()),
            "key": pa.array([emails.get(int(m)) for m in member[rows]], pa.string()),
        }
    )


def month_first_day(idx: int) -> date:
    """The first day of month index ``idx``."""
    year, month0 = divmod(idx, 12)
    return date(year, month0 + 1, 1)


def _records(expr: ibis.Table) -> Iterable[dict[str, Any]]:
    return expr.to_pyarrow().to_pylist()


def _int(value: Any) -> int:
    """An engine's integer aggregate (int, Decimal from PostgreSQL numeric, or null) as int."""
    if value is None:
        return 0
    if isinstance(value, Decimal):
        if value != value.to_integral_value():
            raise ValueError(f"non-integer aggregate {value}")
        return int(value)
    return int(value)


def _key_order(key: Any) -> tuple[bool, str]:
    return (key is None, "" if key is None else str(key))


INT64_MAX = 2**63 - 1


def _check_fits_64_bits(
    session: Session, scale: Scale, largest_factor: Mapping[str, int], reporting: str
) -> None:
    """A BansoError unless every account's MRR in scaled units fits in 64 bits.

    The engines compute a line's value ``amount × (L / bpm) × factor`` and an account's sum of
    them in 64-bit integers (the sums over accounts are exact decimals). For every account,
    ``Σ |amount| × (L / bpm) × largest factor of its currency`` over its lines bounds each of
    those, so the report is exact when the largest such bound is at most 2**63 - 1: with JPY
    only and a 12-month lcm, about 7.7 × 10**17 yen of monthly lines per account; each decimal
    place of the FX rates and of the largest minor unit (cents) divides that by ten.
    """
    largest = _largest_totals(session, reporting)
    bound = sum(
        int(total) * (scale.period_lcm // bpm) * largest_factor.get(currency, 1)
        for currency, bpm, total in largest
        if total is not None and bpm
    )
    if bound > INT64_MAX:
        raise BansoError(
            _(
                "Amounts too large to report exactly: one account's MRR in the report's units "
                "(1/{denominator} {currency}) can reach {bound}, over the 64-bit limit {limit}; "
                "store the FX rates with fewer decimal places.",
                denominator=scale.denominator,
                currency=reporting,
                bound=bound,
                limit=INT64_MAX,
            )
        )


def _largest_totals(session: Session, reporting: str) -> list[tuple[str, int, int | None]]:
    """Per currency and billing period, the largest Σ |amount| of one account's lines.

    A pass over every subscription (0.13 s at 234,000 lines), so the answer is kept until the
    revenue data version changes (any write to subscriptions, FX rates or accounts)."""
    key = (
        session.get_bind().url.render_as_string(hide_password=True),
        data_versions.current(session, data_versions.REVENUE),
    )
    found = _LARGEST.get(key)
    if found is None:
        found = _read_largest_totals(session, reporting)
        _LARGEST.clear()  # only the newest state of one database is worth keeping
        _LARGEST[key] = found
    return found


_LARGEST: dict[tuple[str, int], list[tuple[str, int, int | None]]] = {}


def _read_largest_totals(session: Session, reporting: str) -> list[tuple[str, int, int | None]]:
    per_account = (
        select(
            Subscription.currency,
            Subscription.billing_period_months,
            func.sum(func.abs(Subscription.amount)).label("total"),
        )
        .group_by(
            Subscription.account_id, Subscription.currency, Subscription.billing_period_months
        )
        .subquery()
    )
    try:
        rows = session.execute(
            select(per_account.c.currency, per_account.c.billing_period_months,
                   func.max(per_account.c.total))
            .group_by(per_account.c.currency, per_account.c.billing_period_months)
        ).all()  # fmt: skip
    except DBAPIError as exc:  # SQLite's SUM stops at 2**63 - 1 with "integer overflow"
        if "overflow" not in str(exc).lower():
            raise
        return [(reporting, 1, INT64_MAX + 1)]
    return [(currency, bpm, total) for currency, bpm, total in rows]


def expansion_by_account(
    session: Session,
    *,
    start: str | None = None,
    end: str | None = None,
    engine: str = "duckdb",
) -> tuple[MonthRange, dict[tuple[str, int], Fraction]]:
    """Spec §3's expansion MRR of each account in each month of ``start..end`` where it grew:
    ``{(YYYY-MM, account_id): MRR(a, M) - MRR(a, M-1)}`` (exact, major units of the reporting
    currency), from the same movements as :func:`revenue_report` (their sum over accounts is the
    report's ``expansion_mrr``). The expansion report matches won opportunities against it."""
    months = resolve_range(session, start, end, default_span=12)
    prepared = _prepare(session, engine, months, with_accounts=False, history_from=months.first - 1)
    changes = prepared.changes
    keys = changes.select(account_id=changes.account_id, key=changes.account_id).distinct()
    moved = metrics.movements(changes, prepared.months, keys, months.last, levels=False)
    moved = moved.filter((moved.month_idx >= months.first) & (moved.expansion_mrr > 0))
    out: dict[tuple[str, int], Fraction] = {}
    for record in _records(moved.select("month_idx", "key", "expansion_mrr")):
        out[(month_label(record["month_idx"]), int(record["key"]))] = Fraction(
            _int(record["expansion_mrr"]), prepared.scale.denominator
        )
    return months, out
