"""Contract facts, each defined once (``docs/metrics.md`` §1, §2, §5): is a line active, is an
account a customer, an account's MRR on a day, a line's renewal dates, the next renewal of a line
and of an account, and the MRR due for renewal in a window.

Every page, trigger and report asks this module; the KPI registry (:mod:`banso.revenue.metrics`)
computes the same facts month by month, and ``tests/revenue/test_contracts.py`` proves they agree.
Each fact comes in the form its callers need:

- plain Python over :class:`Line` values (one account: the 360, the tests);
- SQLAlchemy expressions over ``subscriptions`` for the app database, the same SQL text meaning
  on SQLite and PostgreSQL (the accounts list filters and sorts 100,000 accounts with them);
- Ibis expressions for the analytics engines (DuckDB, PostgreSQL, Spark); the triggers and the
  health inputs, which run DuckDB SQL of their own, compile them with :func:`duckdb_select`.

Definitions:

- A line is **active on day d** iff ``start_date <= d < end_date`` (no end date: ``start_date <=
  d``). An account is a **customer on d** iff its MRR on d is > 0, i.e. (amounts >= 0, rates > 0)
  one of its lines with ``amount > 0`` is active on d. It has **churned by d** iff it is not a
  customer on d but was one before d (a line with ``amount > 0`` started before d); an account
  that never paid, or whose first paid line starts later, has not churned.
- **MRR of a line** = ``amount / billing_period_months``; an **account's MRR on d** is the sum
  over its lines active on d, each converted at the FX rate of d's month exactly as the KPIs do
  (reporting-currency units per unit of the line's currency), rounded once, half to even, to
  integer minor units of the reporting currency.
- **Renewal dates** of a line: ``b_k = start_date + k × billing_period_months`` months, k >= 1, the
  day clamped to the month's last day, always from ``start_date``. A line is **due** at ``b_k``
  iff it is active the day before (``end_date`` blank or ``>= b_k``); it is not renewed there iff
  ``end_date = b_k``. Open-ended lines are due at every renewal date.
- The **next renewal of a line on d** is its first due renewal date ``>= d`` (none when it ends
  before its next renewal date). The **next renewal of an account on d** is the earliest next
  renewal of its paid lines billed every ``RENEWAL_TERM_MONTHS`` months or more: monthly (and
  quarterly) lines are due so often that every such customer would always be "renewing soon".
- **MRR due in a window** ``[first, last]``: the MRR of each line due at a renewal date in the
  window, once per such date (so a calendar month gives the KPI ``renewal_due_mrr``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from math import lcm
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir
import pyarrow as pa
from babel.numbers import get_currency_precision
from sqlalchemy import BigInteger, Integer, and_, case, func, literal, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select
from sqlalchemy.sql.functions import FunctionElement

from banso.config import get_settings
from banso.errors import BansoError
from banso.i18n import _
from banso.revenue.models import FxRate, Subscription

RENEWAL_TERM_MONTHS = 12
"""Lines billed every this many months or more make an account's renewals (the accounts list,
the 360, the dashboard, and the default of the ``renewal_in`` playbook trigger)."""

MRR_SCALE = 27720
"""lcm(1..12): ``amount * (MRR_SCALE // billing_period_months)`` is an exact integer for every
billing period of 1-12, 24 or 36 months, so SQL sums MRR without fractions or floats."""


class MissingFxRate(BansoError):
    """A line's currency has no FX rate for a month a figure needs."""

    def __init__(self, currency: str, month: str, reporting: str) -> None:
        super().__init__(
            _(
                "No FX rate for {currency} in {month}; set it with `banso metrics "
                "fx-rate {currency} {month} RATE` ({reporting} per 1 {currency}).",
                currency=currency,
                month=month,
                reporting=reporting,
            )
        )
        self.currency, self.month = currency, month


@dataclass(frozen=True)
class Line:
    """One contract line as the spec reads it (``end_date`` exclusive, ``amount`` in minor units
    of ``currency`` per billing period)."""

    account_id: int
    start_date: date
    end_date: date | None
    amount: int
    currency: str
    billing_period_months: int

    @classmethod
    def of(cls, s: Subscription) -> Line:
        return cls(
            s.account_id, s.start_date, s.end_date, s.amount, s.currency, s.billing_period_months
        )


# ---------------------------------------------------------------------------------------------
# Plain Python: one line, one account.


def is_active(line: Line, day: date) -> bool:
    """The line gives service on ``day``."""
    return line.start_date <= day and (line.end_date is None or day < line.end_date)


def renewal_date(line: Line, k: int) -> date:
    """The line's k-th renewal date (k >= 1), from its start date, the day clamped to month end."""
    return add_months(line.start_date, k * line.billing_period_months)


def next_renewal(line: Line, on: date) -> date | None:
    """The line's first renewal date on or after ``on`` at which it is due; None when it ends
    before that date."""
    behind = _month_index(on) - _month_index(line.start_date)
    period = line.billing_period_months
    k = 1 if behind <= 0 else -(-behind // period)
    if renewal_date(line, k) < on:
        k += 1
    b = renewal_date(line, k)
    return b if line.end_date is None or line.end_date >= b else None


def renewals_between(line: Line, first: date, last: date) -> list[date]:
    """The renewal dates in ``[first, last]`` at which the line is due."""
    dates: list[date] = []
    b = next_renewal(line, first)
    while b is not None and b <= last:
        dates.append(b)
        b = next_renewal(line, b + timedelta(days=1))
    return dates


def is_customer(lines: Iterable[Line], day: date) -> bool:
    """The account is a customer on ``day``: one of its paid lines is active then."""
    return any(line.amount > 0 and is_active(line, day) for line in lines)


def is_churned(lines: Iterable[Line], day: date) -> bool:
    """The account was a customer before ``day`` and is not one on ``day``."""
    lines = list(lines)
    was = any(
        line.amount > 0
        and line.start_date < day
        and (line.end_date is None or line.end_date > line.start_date)
        for line in lines
    )
    return was and not is_customer(lines, day)


def account_next_renewal(
    lines: Iterable[Line], on: date, *, term_months: int = RENEWAL_TERM_MONTHS
) -> date | None:
    """The account's next renewal on ``on``: the earliest next renewal of its paid lines billed
    every ``term_months`` months or more."""
    found = [
        b
        for line in lines
        if line.amount > 0 and line.billing_period_months >= term_months
        for b in [next_renewal(line, on)]
        if b is not None
    ]
    return min(found, default=None)


def account_mrr(lines: Iterable[Line], day: date, fx: FxTable) -> int:
    """The account's MRR on ``day`` in integer minor units of the reporting currency, each line
    converted at the rate of ``day``'s month; :class:`MissingFxRate` when a rate is missing."""
    total = sum((line_mrr(x, fx, day) for x in lines if is_active(x, day)), Fraction(0))
    return round(total)


def mrr_due(lines: Iterable[Line], first: date, last: date, fx: FxTable) -> Fraction:
    """MRR due for renewal in ``[first, last]``, exact, in minor units of the reporting currency:
    each line once per renewal date in the window at which it is due, at that month's rate."""
    return sum(
        (line_mrr(x, fx, b) for x in lines for b in renewals_between(x, first, last)),
        Fraction(0),
    )


def line_mrr(line: Line, fx: FxTable, day: date) -> Fraction:
    """The line's MRR, exact, in minor units of the reporting currency at ``day``'s month rate."""
    return Fraction(line.amount, line.billing_period_months) * fx.factor(line.currency, day)


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, the day clamped to the month's last day."""
    index = _month_index(day) + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, _days_in_month(year, month + 1)))


# ---------------------------------------------------------------------------------------------
# FX: the rate of the day's month, as the KPIs use it.


@dataclass(frozen=True)
class FxTable:
    """Reporting-currency minor units per minor unit of each currency, by month ``YYYY-MM``
    (the stored rate, ``fx_rates``, scaled by the two currencies' minor-unit exponents)."""

    reporting: str
    factors: Mapping[tuple[str, str], Fraction]

    def factor(self, currency: str, day: date) -> Fraction:
        """The factor of ``day``'s month; :class:`MissingFxRate` naming it when there is none."""
        if currency == self.reporting:
            return Fraction(1)
        found = self.factors.get((currency, _month_label(day)))
        if found is None:
            raise MissingFxRate(currency, _month_label(day), self.reporting)
        return found

    def of_month(self, day: date) -> dict[str, Fraction]:
        """Every currency's factor in ``day``'s month, the reporting currency's (1) included."""
        month = _month_label(day)
        found = {c: f for (c, m), f in self.factors.items() if m == month}
        return {self.reporting: Fraction(1), **found}


def fx_factor_rows(fx: FxTable, first: date, last: date) -> tuple[pa.Table, int]:
    """``fx`` as an engine table (currency, month_idx, per_minor) for the months from ``first``
    to ``last``, and the divisor: ``per_minor / divisor`` reporting minor units per minor unit
    of the currency (the reporting currency every month; others where a rate is stored)."""
    months = range(_month_index(first), _month_index(last) + 1)
    factors = {(c, m): f for (c, m), f in fx.factors.items() if _label_index(m) in months}
    divisor = lcm(1, *(f.denominator for f in factors.values()))
    rows = [(fx.reporting, m, divisor) for m in months] + [
        (c, _label_index(m), int(f * divisor)) for (c, m), f in sorted(factors.items())
    ]
    table = pa.table(
        {
            "currency": pa.array([r[0] for r in rows], pa.string()),
            "month_idx": pa.array([r[1] for r in rows], pa.int64()),
            "per_minor": pa.array([r[2] for r in rows], pa.int64()),
        }
    )
    return table, divisor


FX_FACTOR_SCHEMA = {"currency": "string", "month_idx": "int64", "per_minor": "int64"}
"""Columns of :func:`fx_factor_rows`, for an unbound Ibis table over it."""


def fx_table(session: Session, first: date, last: date | None = None) -> FxTable:
    """The FX rates of the months from ``first`` to ``last`` (default: ``first``'s month)."""
    reporting = get_settings().reporting_currency
    months = _month_label(first), _month_label(last or first)
    rows = session.scalars(select(FxRate).where(FxRate.month.between(*months)))
    return FxTable(
        reporting,
        {
            (r.currency, r.month): _factor(Decimal(r.rate), r.currency, reporting)
            for r in rows
            if r.currency != reporting
        },
    )


def minor_exponent(currency: str) -> int:
    """ISO 4217 minor-unit exponent (JPY 0, USD 2), from the CLDR data Babel ships."""
    try:
        return int(get_currency_precision(currency))
    except (KeyError, ValueError) as exc:
        raise BansoError(_("Unknown currency code {currency}.", currency=currency)) from exc


def _factor(rate: Decimal, currency: str, reporting: str) -> Fraction:
    return Fraction(rate) * Fraction(10) ** (minor_exponent(reporting) - minor_exponent(currency))


# ---------------------------------------------------------------------------------------------
# SQLAlchemy: the same facts as expressions over ``subscriptions`` (SQLite and PostgreSQL).


class date_part_sql(FunctionElement[int]):  # noqa: N801 - reads as the SQL function it is
    """The year, month or day of a date column as an integer, cheaply on each database."""

    type = Integer()
    inherit_cache = True
    name = "date_part"

    def __init__(self, field: str, day: ColumnElement[date]) -> None:
        self.field = field
        super().__init__(day)


@compiles(date_part_sql, "postgresql")
def _date_part_postgresql(element: date_part_sql, compiler: Any, **kw: Any) -> str:
    (day,) = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(EXTRACT({element.field} FROM {day}) AS INTEGER)"


@compiles(date_part_sql, "sqlite")
def _date_part_sqlite(element: date_part_sql, compiler: Any, **kw: Any) -> str:
    (day,) = (compiler.process(c, **kw) for c in element.clauses)
    # SQLAlchemy stores dates as YYYY-MM-DD text; slicing it is far cheaper than strftime
    first, size = {"year": (1, 4), "month": (6, 2), "day": (9, 2)}[element.field]
    return f"CAST(substr({day}, {first}, {size}) AS INTEGER)"


def active_sql(day: date) -> ColumnElement[bool]:
    """The subscription row is active on ``day``."""
    s = Subscription
    return and_(s.start_date <= day, or_(s.end_date.is_(None), s.end_date > day))


def churned_accounts_sql(day: date) -> Select[Any]:
    """The ids of the accounts that have churned by ``day`` (:func:`is_churned`): one pass over
    ``subscriptions`` grouped by account."""
    s = Subscription
    paid = s.amount > 0
    was = and_(paid, s.start_date < day, or_(s.end_date.is_(None), s.end_date > s.start_date))
    still = and_(paid, active_sql(day))
    return (
        select(s.account_id)
        .group_by(s.account_id)
        .having(
            func.max(case((was, 1), else_=0)) == 1,
            func.max(case((still, 1), else_=0)) == 0,
        )
    )


def first_paid_starts_sql() -> Select[Any]:
    """``(account_id, first_start)``: the start of each account's first paid line, the day it
    became a customer (lines that end on their start day never gave service)."""
    s = Subscription
    return (
        select(s.account_id.label("account_id"), func.min(s.start_date).label("first_start"))
        .where(s.amount > 0, or_(s.end_date.is_(None), s.end_date > s.start_date))
        .group_by(s.account_id)
    )


def day_number(day: date) -> int:
    """``day`` as the number ``YYYYMMDD`` that :func:`account_facts_sql` gives."""
    return day.year * 10000 + day.month * 100 + day.day


def day_of_number(number: int | None) -> date | None:
    """The date of a ``YYYYMMDD`` number (None stays None)."""
    if number is None:
        return None
    n = int(number)
    return date(n // 10000, n // 100 % 100, n % 100)


def account_facts_sql(
    on: date,
    factors: Mapping[str, Fraction],
    *,
    account_ids: Iterable[int] | None = None,
    scope: Select[Any] | None = None,
    renewing_by: date | None = None,
    term_months: int = RENEWAL_TERM_MONTHS,
) -> Select[Any]:
    """Per account with a line active or renewing on ``on`` (only ``account_ids`` when given,
    only the accounts whose ids the one-column ``scope`` query returns when given):
    ``mrr_scaled``, its MRR on ``on`` times :func:`mrr_divisor` (NULL when a line's currency has
    no rate that month), and ``next_renewal`` (:func:`account_next_renewal`, a ``YYYYMMDD``
    number). With ``renewing_by``, only the accounts whose next renewal is on or before it.

    Integer arithmetic in steps, each a subquery fenced with ``OFFSET 0`` so the database does
    not inline it and recompute its expressions many times over: the list sorts and filters
    100,000 accounts by these figures (≈ 0.5 s on SQLite instead of 3 s).
    """
    s = Subscription
    value, _divisor = scaled_mrr_sql(factors)
    active = active_sql(on)
    # coalesce, not "IS NULL OR >=": nearly every line passes, and a scan beats two index walks
    current = func.coalesce(s.end_date, date.max) >= on
    parts = select(
        s.account_id.label("account_id"),
        case((active, value), else_=None).label("mrr_scaled"),
        case((and_(active, value.is_(None)), 1), else_=0).label("missing"),
        and_(s.amount > 0, s.billing_period_months >= term_months).label("renewing"),
        s.billing_period_months.label("period"),
        (date_part_sql("year", s.start_date) * 12 + date_part_sql("month", s.start_date) - 1).label(
            "start_month"
        ),
        date_part_sql("day", s.start_date).label("start_day"),
        _day_number_sql(s.end_date).label("end_number"),
    ).where(current)
    if account_ids is not None:
        parts = parts.where(s.account_id.in_(list(account_ids)))
    if scope is not None:
        parts = parts.where(s.account_id.in_(scope))
    p = parts.offset(0).subquery("contract_line_parts")
    months = (
        select(
            p.c.account_id,
            p.c.mrr_scaled,
            p.c.missing,
            p.c.start_day,
            p.c.end_number,
            case(
                (p.c.renewing, _renewal_month_sql(p.c.start_month, p.c.start_day, p.c.period, on)),
                else_=None,
            ).label("renewal_month"),
        )
        .offset(0)
        .subquery("contract_line_renewals")
    )
    due = (
        select(
            months.c.account_id,
            months.c.mrr_scaled,
            months.c.missing,
            _due_number_sql(months.c.renewal_month, months.c.start_day, months.c.end_number).label(
                "next_renewal"
            ),
        )
        .offset(0)
        .subquery("contract_line_next_renewals")
    )
    next_renewal = func.min(due.c.next_renewal)
    stmt = select(
        due.c.account_id.label("account_id"),
        case((func.sum(due.c.missing) > 0, None), else_=func.sum(due.c.mrr_scaled)).label(
            "mrr_scaled"
        ),
        next_renewal.label("next_renewal"),
    ).group_by(due.c.account_id)
    if renewing_by is not None:
        stmt = stmt.having(next_renewal <= day_number(renewing_by))
    return stmt


def _renewal_month_sql(
    start_month: ColumnElement[int], start_day: ColumnElement[int], period: Any, on: date
) -> ColumnElement[int]:
    """The month index (year × 12 + month − 1) of the first renewal date on or after ``on``."""
    on_month = _month_index(on)
    behind = on_month - start_month
    first_k = case((behind <= 0, 1), else_=(behind + period - 1) // period)
    # only in on's own month can a renewal date fall before on (its day < on's day)
    k = first_k + case(
        (and_(start_month + first_k * period == on_month, start_day < on.day), 1), else_=0
    )
    return start_month + k * period


def _due_number_sql(
    month: ColumnElement[int], start_day: ColumnElement[int], end_number: ColumnElement[int]
) -> ColumnElement[int]:
    """``YYYYMMDD`` of the renewal date in ``month`` (day clamped), NULL when the line ends
    before it (``end_number`` < it) or ``month`` is NULL."""
    year, month_of_year = month // 12, month % 12 + 1
    leap = or_(and_(year % 4 == 0, year % 100 != 0), year % 400 == 0)
    month_days = case(
        (month_of_year == 2, case((leap, 29), else_=28)),
        (month_of_year.in_([4, 6, 9, 11]), 30),
        else_=31,
    )
    # days 1-28 never clamp; CASE leaves the month length uncomputed for them
    day = case((start_day <= 28, start_day), (start_day > month_days, month_days), else_=start_day)
    renewal = year * 10000 + month_of_year * 100 + day
    return case((or_(end_number.is_(None), end_number >= renewal), renewal), else_=None)


def _day_number_sql(day: ColumnElement[date]) -> ColumnElement[int]:
    return (
        date_part_sql("year", day) * 10000
        + date_part_sql("month", day) * 100
        + date_part_sql("day", day)
    )


def scaled_mrr_sql(factors: Mapping[str, Fraction]) -> tuple[ColumnElement[int], int]:
    """The row's MRR as an integer SQL expression and the divisor that makes it reporting minor
    units: ``value / divisor`` (:func:`mrr_divisor`). NULL for a currency without a factor."""
    denominator = _factor_denominator(factors)
    s = Subscription
    per_minor = case(
        *((s.currency == c, literal(int(f * denominator), BigInteger)) for c, f in factors.items()),
        else_=None,
    )
    return s.amount * (MRR_SCALE // s.billing_period_months) * per_minor, mrr_divisor(factors)


def mrr_divisor(factors: Mapping[str, Fraction]) -> int:
    """What :func:`scaled_mrr_sql` values (and ``mrr_scaled``) are divided by."""
    return MRR_SCALE * _factor_denominator(factors)


def _factor_denominator(factors: Mapping[str, Fraction]) -> int:
    return lcm(1, *(f.denominator for f in factors.values()))


# ---------------------------------------------------------------------------------------------
# Ibis: the same facts for the analytics engines.


def is_active_expr(start: ir.DateValue, end: ir.DateValue, day: ir.DateValue) -> ir.BooleanValue:
    """The line is active on ``day``."""
    return (start <= day) & (end.isnull() | (end > day))


def next_renewal_expr(
    start: ir.DateValue, end: ir.DateValue, period: ir.IntegerValue, on: ir.DateValue
) -> ir.DateValue:
    """The line's next renewal on ``on`` (:func:`next_renewal`), null when none."""
    behind = months_between_expr(start, on)
    first_k = ibis.greatest(1, (behind + period - 1) // period)
    first = add_months_expr(start, first_k * period)
    # only in on's own month can that renewal date fall before on
    renewal = ibis.ifelse(first < on, add_months_expr(start, (first_k + 1) * period), first)
    return ibis.ifelse(end.isnull() | (end >= renewal), renewal, ibis.null("date"))


def is_renewal_day_expr(
    start: ir.DateValue,
    end: ir.DateValue,
    period: ir.IntegerValue,
    day: ir.DateValue,
    months: ir.IntegerValue,
) -> ir.BooleanValue:
    """``day`` is one of the line's renewal dates and the line is due then (:func:`next_renewal`
    on ``day`` is ``day``), cheaply: a whole number of periods after the start month, the day
    clamped as the spec says. ``months`` = :func:`months_between_expr` of ``start`` and ``day``
    (a column of its own, so engines compute it once)."""
    return (
        (months > 0)
        & (months % period == 0)
        & (add_months_expr(start, months) == day)
        & (end.isnull() | (end >= day))
    )


def months_between_expr(start: ir.DateValue, day: ir.DateValue) -> ir.IntegerValue:
    """Calendar months from ``start``'s month to ``day``'s month."""
    return (day.year() - start.year()) * 12 + day.month() - start.month()


def add_months_expr(day: ir.DateValue, months: ir.IntegerValue) -> ir.DateValue:
    """``day`` plus ``months`` months, the day clamped to the month's last day (DuckDB,
    PostgreSQL and Spark all clamp a month step so)."""
    # through a timestamp, so engines whose date + interval is a timestamp (DuckDB) are told to
    # make it a date again; comparing a timestamp with a date costs a cast per row
    return (day.cast("timestamp") + months.as_interval("M")).date()


def customers_on_days(
    subscriptions: ir.Table,
    days: ir.Table,
    reporting: str,
    fx: ir.Table | None = None,
    divisor: int = 1,
) -> ir.Table:
    """Every customer on each day (a line with ``amount > 0`` active on it) and its MRR that day:
    ``(day, account_id, mrr)``, ``mrr`` in integer minor units of the ``reporting`` currency,
    rounded half to even, each line at the rate of the day's month (:func:`account_mrr`); null
    when a line's currency has no rate that month. ``fx``, ``divisor``: :func:`fx_factor_rows`;
    without ``fx`` (no rate in the months wanted) only reporting-currency lines have a value,
    in plain integers, which is most data and several times faster than the exact decimals.
    """
    s, d = subscriptions, days
    active = d.join(s, [is_active_expr(s.start_date, s.end_date, d.day)])
    per_period = MRR_SCALE // active.billing_period_months
    if fx is None:
        valued = active.select(
            "day",
            "account_id",
            "amount",
            scaled=ibis.ifelse(
                active.currency == reporting, active.amount * per_period, ibis.null("int64")
            ),
        )
    else:
        active = active.mutate(month_idx=active.day.year() * 12 + active.day.month() - 1)
        valued = active.left_join(
            fx, [active.currency == fx.currency, active.month_idx == fx.month_idx]
        ).select(
            "day",
            "account_id",
            "amount",
            scaled=(
                active.amount.cast("decimal(38, 0)")
                * per_period
                * fx.per_minor.cast("decimal(38, 0)")
            ),
        )
    per_day = valued.group_by(["day", "account_id"]).aggregate(
        paid=valued.amount.max(),
        missing=valued.scaled.isnull().sum(),
        scaled=valued.scaled.sum(),
    )
    per_day = per_day.filter(per_day.paid > 0)
    mrr = _round_half_even(per_day.scaled, MRR_SCALE * divisor)
    return per_day.select(
        "day", "account_id", mrr=ibis.ifelse(per_day.missing > 0, ibis.null("int64"), mrr)
    )


def lines_renewing_on(subscriptions: ir.Table, days: ir.Table, term_months: int) -> ir.Table:
    """Paid lines billed every ``term_months`` months or more, active on ``day``, that are due
    on ``renewal_day`` (one of their renewal dates): ``(day, account_id, renewal_day)``.
    ``days`` holds both columns (the caller adds its look-ahead to each day: date arithmetic
    differs between engines, and DuckDB's date + interval is a timestamp)."""
    s, d = subscriptions, days
    candidates = d.join(
        s,
        [
            s.amount > 0,
            s.billing_period_months >= term_months,
            is_active_expr(s.start_date, s.end_date, d.day),
        ],
    )
    candidates = candidates.mutate(
        months=months_between_expr(candidates.start_date, candidates.renewal_day)
    )
    due = is_renewal_day_expr(
        candidates.start_date,
        candidates.end_date,
        candidates.billing_period_months,
        candidates.renewal_day,
        candidates.months,
    )
    return candidates.filter(due).select("day", "account_id", "renewal_day")


def lines_renewing_next(
    subscriptions: ir.Table, days: ir.Table, *, as_known_on_day: bool = False
) -> ir.Table:
    """For each ``(account_id, day)`` of ``days``, the next renewal (:func:`next_renewal`) of
    each of the account's paid lines active that day, every billing period: ``(account_id, day,
    next_renewal)``; lines that end before their next renewal date are left out.

    ``as_known_on_day``: each line as it stood on ``day``, when an end after ``day`` was not yet
    a fact (a cancellation is known once it has happened): every active line's end is then
    unknown, so none is left out. A score of a past day must not see the later ends."""
    s, d = subscriptions, days
    active = d.join(
        s,
        [
            s.account_id == d.account_id,
            s.amount > 0,
            is_active_expr(s.start_date, s.end_date, d.day),
        ],
    )
    end = ibis.null("date") if as_known_on_day else active.end_date
    due = next_renewal_expr(active.start_date, end, active.billing_period_months, active.day)
    found = active.select("account_id", "day", next_renewal=due)
    return found.filter(found.next_renewal.notnull())


def _round_half_even(scaled: ir.NumericValue, divisor: int) -> ir.IntegerValue:
    """``scaled / divisor`` rounded half to even, exactly (``scaled`` >= 0, whole numbers)."""
    d = ibis.literal(divisor, scaled.type())
    remainder = scaled % d
    # (scaled - remainder) / d is a whole number; rounding takes off a division's float error
    whole = ((scaled - remainder) / d).round().cast("int64")
    up = (remainder * 2 > d) | ((remainder * 2 == d) & (whole % 2 == 1))
    return whole + ibis.ifelse(up, 1, 0)


SUBSCRIPTION_COLUMNS = (
    Subscription.account_id,
    Subscription.start_date,
    Subscription.end_date,
    Subscription.amount,
    Subscription.currency,
    Subscription.billing_period_months,
)
"""The ``subscriptions`` columns the Ibis facts read (``analytics.engines.read_arrow`` them)."""

SUBSCRIPTIONS = ibis.table(
    {
        "account_id": "int64",
        "start_date": "date",
        "end_date": "date",
        "amount": "int64",
        "currency": "string",
        "billing_period_months": "int64",
    },
    name="subscriptions",
)
"""An unbound ``subscriptions`` table, for DuckDB SQL that has registered one of that name."""


def customers_duckdb(
    con: duckdb.DuckDBPyConnection, app_db: Engine, days_table: str, first: date, last: date
) -> str:
    """DuckDB SQL of :func:`customers_on_days` over the tables ``subscriptions`` (with
    :data:`SUBSCRIPTION_COLUMNS`) and ``days_table`` (a ``day`` column, days from ``first`` to
    ``last``) registered on ``con``; registers the FX factors of those months as ``fx_factors``.
    """
    with Session(app_db) as session:
        fx = fx_table(session, first, last)
    days = ibis.table({"day": "date"}, name=days_table)
    if not fx.factors:
        return duckdb_select(customers_on_days(SUBSCRIPTIONS, days, fx.reporting))
    factors, divisor = fx_factor_rows(fx, first, last)
    con.register("fx_factors", factors)
    factor_table = ibis.table(FX_FACTOR_SCHEMA, name="fx_factors")
    return duckdb_select(
        customers_on_days(SUBSCRIPTIONS, days, fx.reporting, factor_table, divisor)
    )


def duckdb_select(expr: ir.Table) -> str:
    """``expr``, built on unbound tables named as the caller's DuckDB tables, as DuckDB SQL."""
    return str(ibis.to_sql(expr, dialect="duckdb"))


# ---------------------------------------------------------------------------------------------


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _label_index(label: str) -> int:
    return int(label[:4]) * 12 + int(label[5:7]) - 1


def _month_label(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _days_in_month(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day
