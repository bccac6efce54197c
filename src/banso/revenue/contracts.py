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
  one of its lines with ``amount > 0`` is active on d.
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

import ibis
import ibis.expr.types as ir
from babel.numbers import get_currency_precision
from sqlalchemy import Date, Integer, and_, case, cast, extract, func, literal, or_, select
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


class add_months_sql(FunctionElement[date]):  # noqa: N801 - reads as the SQL function it is
    """``date + n months``, the day clamped to the month's last day, on SQLite and PostgreSQL."""

    type = Date()
    inherit_cache = True
    name = "add_months"


@compiles(add_months_sql, "postgresql")
def _add_months_postgresql(element: add_months_sql, compiler: Any, **kw: Any) -> str:
    day, months = (compiler.process(c, **kw) for c in element.clauses)
    # PostgreSQL clamps a month step to the month's last day itself.
    return f"CAST({day} + ({months}) * INTERVAL '1 month' AS DATE)"


@compiles(add_months_sql, "sqlite")
def _add_months_sqlite(element: add_months_sql, compiler: Any, **kw: Any) -> str:
    day, months = (compiler.process(c, **kw) for c in element.clauses)
    # SQLite rolls an overflowing day into the next month (31 Jan + 1 month = 2 Mar); when the day
    # changed, the clamped date is the last day of the month before.
    moved = f"date({day}, '+' || ({months}) || ' months')"
    return (
        f"CASE WHEN strftime('%d', {moved}) = strftime('%d', {day}) THEN {moved} "
        f"ELSE date({moved}, 'start of month', '-1 day') END"
    )


def active_sql(day: date) -> ColumnElement[bool]:
    """The subscription row is active on ``day``."""
    s = Subscription
    return and_(s.start_date <= day, or_(s.end_date.is_(None), s.end_date > day))


def next_renewal_sql(on: date) -> ColumnElement[date]:
    """The subscription row's next renewal on ``on`` (:func:`next_renewal`), NULL when none."""
    s = Subscription
    period = s.billing_period_months
    start_month = _part("year", s.start_date) * 12 + _part("month", s.start_date) - 1
    behind = _month_index(on) - start_month
    first_k = case((behind <= 0, 1), else_=(behind + period - 1) // period)
    # only in on's own month can a renewal date fall before on (its day < on's day)
    k = first_k + case(
        (
            and_(
                start_month + first_k * period == _month_index(on),
                _part("day", s.start_date) < on.day,
            ),
            1,
        ),
        else_=0,
    )
    renewal = add_months_sql(s.start_date, k * period)
    return case((or_(s.end_date.is_(None), s.end_date >= renewal), renewal), else_=None)


def _part(field: str, day: ColumnElement[date]) -> ColumnElement[int]:
    # PostgreSQL's extract gives numeric, whose division is not the integer one needed here
    return cast(extract(field, day), Integer)


def scaled_mrr_sql(factors: Mapping[str, Fraction]) -> tuple[ColumnElement[int], int]:
    """The row's MRR as an integer SQL expression and the divisor that makes it reporting minor
    units: ``value / divisor``. NULL for a currency without a factor."""
    denominator = lcm(1, *(f.denominator for f in factors.values()))
    s = Subscription
    per_minor = case(
        *((s.currency == c, literal(int(f * denominator), Integer)) for c, f in factors.items()),
        else_=None,
    )
    return s.amount * (MRR_SCALE // s.billing_period_months) * per_minor, MRR_SCALE * denominator


def account_facts_sql(
    on: date,
    factors: Mapping[str, Fraction],
    *,
    term_months: int = RENEWAL_TERM_MONTHS,
) -> tuple[Select[Any], int]:
    """Per account with a line active or renewing on ``on``: ``mrr_scaled`` (its MRR on ``on``
    times the returned divisor; NULL when a line's currency has no rate that month) and
    ``next_renewal`` (:func:`account_next_renewal`). Group it, filter it and join it as needed."""
    s = Subscription
    value, divisor = scaled_mrr_sql(factors)
    active = active_sql(on)
    missing = func.sum(case((and_(active, value.is_(None)), 1), else_=0))
    mrr = func.sum(case((active, value), else_=None))
    renewing = and_(s.amount > 0, s.billing_period_months >= term_months)
    stmt = (
        select(
            s.account_id.label("account_id"),
            case((missing > 0, None), else_=mrr).label("mrr_scaled"),
            func.min(case((renewing, next_renewal_sql(on)), else_=None)).label("next_renewal"),
        )
        .where(or_(s.end_date.is_(None), s.end_date >= on))
        .group_by(s.account_id)
    )
    return stmt, divisor


# ---------------------------------------------------------------------------------------------
# Ibis: the same facts for the analytics engines.


def is_active_expr(start: ir.DateValue, end: ir.DateValue, day: ir.DateValue) -> ir.BooleanValue:
    """The line is active on ``day``."""
    return (start <= day) & (end.isnull() | (end > day))


def next_renewal_expr(
    start: ir.DateValue, end: ir.DateValue, period: ir.IntegerValue, on: ir.DateValue
) -> ir.DateValue:
    """The line's next renewal on ``on`` (:func:`next_renewal`), null when none."""
    start_month = start.year() * 12 + start.month() - 1
    on_month = on.year() * 12 + on.month() - 1
    behind = on_month - start_month
    first_k = ibis.ifelse(behind <= 0, 1, (behind + period - 1) // period)
    k = first_k + ibis.ifelse(
        (start_month + first_k * period == on_month) & (start.day() < on.day()), 1, 0
    )
    renewal = add_months_expr(start, k * period)
    return ibis.ifelse(end.isnull() | (end >= renewal), renewal, ibis.null("date"))


def add_months_expr(day: ir.DateValue, months: ir.IntegerValue) -> ir.DateValue:
    """``day`` plus ``months`` months, the day clamped to the month's last day, built from year,
    month and day so every engine computes it the same way."""
    index = day.year() * 12 + day.month() - 1 + months
    year, month = index // 12, index % 12 + 1
    following = index + 1
    last_day = (ibis.date(following // 12, following % 12 + 1, 1) - ibis.interval(days=1)).day()
    return ibis.date(year, month, ibis.least(day.day(), last_day))


def line_mrr_expr(amount: ir.IntegerValue, period: ir.IntegerValue) -> ir.DecimalValue:
    """The line's MRR in minor units of its own currency (exact to 6 decimals)."""
    return amount.cast("decimal(38, 6)") / period


def duckdb_select(expr: ir.Table) -> str:
    """``expr``, built on unbound tables named as the caller's DuckDB tables, as DuckDB SQL."""
    return str(ibis.to_sql(expr, dialect="duckdb"))


# ---------------------------------------------------------------------------------------------


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _month_label(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _days_in_month(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day
