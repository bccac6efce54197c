"""FX rates of the revenue reports: storing a month's rate, the rates a report needs, and the
integer factors that convert each currency's lines into the report's scaled units."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from decimal import Decimal

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.analytics.engines import month_index
from banso.config import get_settings
from banso.errors import BansoError
from banso.i18n import _
from banso.revenue import contracts
from banso.revenue.metrics import Scale
from banso.revenue.models import FxRate, Subscription
from banso.revenue.months import MONTH_TEXT, as_date, month_label, parse_month


def reporting_currency() -> str:
    """The ISO 4217 code every report is expressed in (``BANSO_REPORTING_CURRENCY``)."""
    return get_settings().reporting_currency


def set_fx_rate(session: Session, currency: str, month: str, rate: str | Decimal) -> FxRate:
    """Store (or replace) the rate of ``currency`` in ``month``: units of the reporting currency's
    major unit per one major unit of ``currency`` (JPY per USD), applied to that month's MRR."""
    code = currency.strip().upper()
    contracts.minor_exponent(code)
    label = month_label(parse_month(month, "month"))
    try:
        value = Decimal(str(rate))
    except ArithmeticError as exc:
        raise BansoError(
            _("The FX rate must be a positive number; got {value!r}.", value=rate)
        ) from exc
    if not value.is_finite() or value <= 0:
        raise BansoError(_("The FX rate must be a positive number; got {value!r}.", value=rate))
    existing = session.scalar(select(FxRate).where(FxRate.currency == code, FxRate.month == label))
    if existing is None:
        existing = FxRate(currency=code, month=label, rate=value)
        session.add(existing)
    else:
        existing.rate = value
    session.flush()
    return existing


def fx_rates(
    session: Session, reporting: str, currencies: list[str], last: int
) -> dict[tuple[str, int], Decimal]:
    """FX rates needed by the report, by (currency, month index); BansoError naming the first
    missing (currency, month). A line needs a rate for each month from its start month to its
    end month (or ``last``)."""
    foreign = [c for c in currencies if c != reporting]
    stored: dict[tuple[str, int], Decimal] = {}
    for rate in session.scalars(select(FxRate).where(FxRate.currency.in_(foreign))):
        if MONTH_TEXT.match(rate.month):
            stored[(rate.currency, parse_month(rate.month, "fx_rates.month"))] = Decimal(rate.rate)
    spans = session.execute(
        select(Subscription.currency, Subscription.start_date, Subscription.end_date).where(
            Subscription.currency.in_(foreign)
        )
    )
    needed: dict[str, set[int]] = defaultdict(set)
    for currency, start, end in spans:
        start_idx = month_index(as_date(start))
        end_d = as_date(end)
        stop = min(month_index(end_d), last) if end_d else last
        needed[currency].update(range(start_idx, stop + 1))
    for currency in sorted(needed):
        for m in sorted(needed[currency]):
            if (currency, m) not in stored:
                raise contracts.MissingFxRate(currency, month_label(m), reporting)
    return stored


def decimal_places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -int(exponent))


def largest_factors(
    rates: Mapping[tuple[str, int], Decimal],
    exponents: Mapping[str, int],
    reporting: str,
    scale: Scale,
) -> dict[str, int]:
    """The largest factor of each currency over the months (see :func:`factor_table`)."""
    largest = {reporting: _factor(Decimal(1), reporting, exponents, scale)}
    for (currency, _m), rate in rates.items():
        factor = _factor(rate, currency, exponents, scale)
        largest[currency] = max(largest.get(currency, 0), factor)
    return largest


def factor_table(
    rates: dict[tuple[str, int], Decimal],
    exponents: dict[str, int],
    reporting: str,
    scale: Scale,
    first: int,
    last: int,
) -> pa.Table:
    """(currency, month_idx, factor): the integer each line's ``unit`` is multiplied by."""
    currencies, months, values = [], [], []
    for m in range(first, last + 1):
        currencies.append(reporting)
        months.append(m)
        values.append(_factor(Decimal(1), reporting, exponents, scale))
    for (currency, m), rate in sorted(rates.items()):
        currencies.append(currency)
        months.append(m)
        values.append(_factor(rate, currency, exponents, scale))
    return pa.table(
        {
            "currency": pa.array(currencies, pa.string()),
            "month_idx": pa.array(months, pa.int64()),
            "factor": pa.array(values, pa.int64()),
        }
    )


def steady_factors(
    rates: Mapping[tuple[str, int], Decimal],
    exponents: Mapping[str, int],
    reporting: str,
    scale: Scale,
    first: int,
    last: int,
) -> dict[str, int]:
    """The currencies whose factor (:func:`factor_table`) is one value in every month of
    ``first..last`` that has a rate, with that factor: the reporting currency always, a foreign
    currency when its rate did not move over those months. A line in such a currency is worth
    the same at every month end it is active in the range (a report refuses to run when a
    month a line needs has no rate, :func:`fx_rates`), so ``revenue.metrics.mrr_changes`` counts
    it by its start and end instead of month by month."""
    seen: dict[str, set[int]] = defaultdict(set)
    for (currency, m), rate in rates.items():
        if first <= m <= last and currency != reporting:
            seen[currency].add(_factor(rate, currency, exponents, scale))
    steady = {c: next(iter(f)) for c, f in seen.items() if len(f) == 1}
    steady[reporting] = _factor(Decimal(1), reporting, exponents, scale)
    return steady


def _factor(rate: Decimal, currency: str, exponents: Mapping[str, int], scale: Scale) -> int:
    """The integer a ``currency`` line's ``unit`` is multiplied by at ``rate``: the rate with
    ``scale.rate_decimals`` places as an integer, times the minor-unit gap to the largest one."""
    p, emax = scale.rate_decimals, scale.max_exponent
    return int(rate * 10**p) * 10 ** (emax - exponents[currency])
