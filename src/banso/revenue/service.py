"""Revenue reports: the library API the CLI, the web app and the EBR reports call.

Each report runs the Ibis definitions of :mod:`banso.revenue.metrics` on the chosen engine,
then takes the exact ratios in Python. Values are exact (``Fraction`` money in major units of the
reporting currency, ``Fraction`` rates, ``int`` counts, ``None`` where the spec says null);
:func:`rounded` applies the output contract's rounding.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

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
from banso.revenue.metrics import BREAKDOWNS, KPI_KINDS, MONEY, RATE, Scale
from banso.revenue.models import FxRate, Subscription
from banso.team.models import TeamMember

Row = dict[str, Any]
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class MonthRange:
    """Inclusive range of calendar months as month indices (year*12 + month - 1)."""

    first: int
    last: int

    def labels(self) -> list[str]:
        return [month_label(m) for m in range(self.first, self.last + 1)]


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


@dataclass
class PeriodSummary:
    """Whole-period figures of one fiscal period and the averages of its monthly rates."""

    label: str
    months: MonthRange
    complete: bool
    figures: Row
    monthly: list[Row] = field(default_factory=list)


def parse_month(text: str, option: str) -> int:
    """``YYYY-MM`` -> month index; a BansoError naming the option when malformed."""
    match = _MONTH.match(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise BansoError(
            _(
                "{option} must be a month written YYYY-MM, such as 2024-04; got {value!r}.",
                option=option,
                value=text,
            )
        )
    return int(match.group(1)) * 12 + int(match.group(2)) - 1


def month_label(idx: int) -> str:
    """Month index -> ``YYYY-MM``."""
    year, month0 = divmod(idx, 12)
    return f"{year:04d}-{month0 + 1:02d}"


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


def default_last_month(session: Session) -> str:
    """The default ``--to``: the last month in which any start or end date falls, capped at the
    current month in the company time zone."""
    return month_label(_data_bounds(session)[1])


def revenue_report(
    session: Session,
    *,
    start: str | None = None,
    end: str | None = None,
    engine: str = "duckdb",
    by: str | None = None,
) -> RevenueReport:
    """Monthly revenue KPIs (spec §2-§7) for ``start..end`` (``YYYY-MM``, inclusive).

    Defaults: ``end`` = :func:`default_last_month`, ``start`` = 11 months before ``end``.
    ``by`` (plan, segment, owner, industry) splits every month by the account's attribute.
    """
    months = _resolve_range(session, start, end, default_span=12)
    if by is not None and by not in BREAKDOWNS:
        raise BansoError(
            _(
                "Unknown breakdown {by}; choose one of {choices}.",
                by=by,
                choices=", ".join(BREAKDOWNS),
            )
        )
    # month ends from M-13 on: mrr_start needs M-1, NRR/GRR need M-12
    prepared = _prepare(
        session, engine, months, with_accounts=by is not None, history_from=months.first - 13
    )
    keys = (
        metrics.breakdown_keys(
            prepared.conn.table("accounts"), prepared.conn.table("team_members"), by
        )
        if by is not None
        else None
    )
    last = months.last
    snapshot = prepared.snapshot
    aggregates = [
        metrics.movements(snapshot, keys, last),
        metrics.renewals(prepared.renewal_due(last), prepared.lines, prepared.fx, keys),
        metrics.retention_12m(snapshot, keys, last),
    ]
    per_group: dict[tuple[int, Any], dict[str, int]] = defaultdict(dict)
    for expr in aggregates:
        for record in _records(expr):
            group = (record.pop("month_idx"), record.pop("key", None))
            per_group[group].update({k: _int(v) for k, v in record.items()})
    gross_margin = Fraction(Decimal(str(get_settings().gross_margin)))
    group_keys = sorted({k for (_m, k) in per_group}, key=_key_order) if by else [None]
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


def cohort_report(
    session: Session,
    *,
    start: str | None = None,
    end: str | None = None,
    engine: str = "duckdb",
) -> CohortReport:
    """The cohort retention table (spec §8) for cohorts from ``start`` to ``end`` (``YYYY-MM``).

    Defaults: ``end`` = :func:`default_last_month`; ``start`` = every cohort.
    """
    months = _resolve_range(session, start, end, default_span=None)
    prepared = _prepare(session, engine, months, with_accounts=False)
    counts: dict[int, dict[int, tuple[int, int]]] = defaultdict(dict)
    sizes: dict[int, int] = {}
    for record in _records(metrics.cohort_counts(prepared.snapshot, months.last)):
        cohort, m = int(record["cohort_idx"]), int(record["month_idx"])
        counts[cohort][m] = (_int(record["retained"]), _int(record["mrr"]))
        if m == cohort:
            sizes[cohort] = _int(record["retained"])
    rows: list[Row] = []
    for cohort in sorted(c for c in counts if months.first <= c <= months.last):
        by_age = [counts[cohort].get(m, (0, 0)) for m in range(cohort, months.last + 1)]
        rows.extend(metrics.cohort_rows(month_label(cohort), sizes[cohort], by_age, prepared.scale))
    return CohortReport(months, prepared.currency, rows)


def fiscal_periods(
    fiscal_year: int, quarter: int | None, start_month: int
) -> list[tuple[str, MonthRange]]:
    """The fiscal year ``fiscal_year`` (starting in ``start_month`` of that calendar year) or one of
    its quarters, as labelled month ranges: Q1..Q4 then the year, or only quarter ``quarter``."""
    first = fiscal_year * 12 + start_month - 1
    quarters = [
        (f"FY{fiscal_year} Q{q}", MonthRange(first + 3 * (q - 1), first + 3 * q - 1))
        for q in range(1, 5)
    ]
    if quarter is not None:
        if not 1 <= quarter <= 4:
            raise BansoError(_("--quarter must be 1, 2, 3 or 4; got {value}.", value=quarter))
        return [quarters[quarter - 1]]
    return [*quarters, (f"FY{fiscal_year}", MonthRange(first, first + 11))]


def fiscal_summary(
    session: Session,
    *,
    fiscal_year: int | None = None,
    quarter: int | None = None,
    engine: str = "duckdb",
    reports: Callable[..., RevenueReport] | None = None,
) -> list[PeriodSummary]:
    """Whole-period figures per fiscal period (the year and its quarters, or one quarter).

    Default year: the fiscal year containing :func:`default_last_month`. Periods are cut at that
    month (``complete`` false) and periods that start after it are left out. Whole-period figures:
    MRR and customers at the period's start and end, movements summed, churn rates on the
    period-start base (``Σ churned / start``), renewal churn ``Σ lost / Σ due``, NRR/GRR of the last
    month; ``avg_monthly_*`` are the means of the monthly rates (null months left out).
    ``reports`` replaces :func:`revenue_report` as the source of the monthly rows (the cache).
    """
    settings = get_settings()
    last_data = _data_bounds(session)[1]
    if fiscal_year is None:
        fiscal_year = (last_data - (settings.fiscal_year_start - 1)) // 12
    periods = [
        (label, MonthRange(r.first, min(r.last, last_data)), r.last <= last_data)
        for label, r in fiscal_periods(fiscal_year, quarter, settings.fiscal_year_start)
        if r.first <= last_data
    ]
    if not periods:
        raise BansoError(
            _(
                "Fiscal year {year} starts after the last month with data ({month}).",
                year=fiscal_year,
                month=month_label(last_data),
            )
        )
    first = min(r.first for _l, r, _c in periods)
    last = max(r.last for _l, r, _c in periods)
    start, end = month_label(first), month_label(last)
    if reports is None:
        report = revenue_report(session, start=start, end=end, engine=engine)
    else:
        report = reports(session, start=start, end=end)
    by_month = {row["month"]: row for row in report.rows}
    summaries = []
    for label, months, complete in periods:
        monthly = [by_month[m] for m in months.labels()]
        summaries.append(PeriodSummary(label, months, complete, period_figures(monthly), monthly))
    return summaries


PERIOD_RATES = (
    "logo_churn_rate",
    "mrr_churn_rate",
    "gross_mrr_churn_rate",
    "net_mrr_churn_rate",
    "renewal_churn_rate",
    "nrr_1m",
)
"""Monthly rates whose mean over a period is reported as ``avg_monthly_<rate>``."""


def period_figures(monthly: list[Row]) -> Row:
    """Whole-period figures from consecutive exact monthly rows (see :func:`fiscal_summary`)."""
    head, tail = monthly[0], monthly[-1]

    def total(key: str) -> Any:
        return sum(
            (row[key] for row in monthly), start=0 if KPI_KINDS[key] != MONEY else Fraction(0)
        )

    churned, shrank, grew = total("churned_mrr"), total("contraction_mrr"), total("expansion_mrr")
    gained = total("new_mrr") + total("reactivation_mrr") + grew
    mrr_start = head["mrr_start"]
    figures: Row = {
        "from": head["month"],
        "to": tail["month"],
        "months": len(monthly),
        "mrr_start": mrr_start,
        "mrr_end": tail["mrr_end"],
        "customers_start": head["customers_start"],
        "customers_end": tail["customers_end"],
    }
    for key in (
        "new_mrr",
        "expansion_mrr",
        "contraction_mrr",
        "churned_mrr",
        "reactivation_mrr",
        "new_customers",
        "expansion_customers",
        "contraction_customers",
        "churned_customers",
        "reactivated_customers",
        "renewal_due_mrr",
        "renewal_churned_mrr",
    ):
        figures[key] = total(key)
    figures.update(
        {
            "logo_churn_rate": metrics._ratio(
                figures["churned_customers"], head["customers_start"]
            ),
            "mrr_churn_rate": metrics._ratio(churned, mrr_start),
            "gross_mrr_churn_rate": metrics._ratio(churned + shrank, mrr_start),
            "net_mrr_churn_rate": metrics._ratio(churned + shrank - grew, mrr_start),
            "renewal_churn_rate": metrics._ratio(
                figures["renewal_churned_mrr"], figures["renewal_due_mrr"]
            ),
            "nrr_12m": tail["nrr_12m"],
            "grr_12m": tail["grr_12m"],
            "arpa": tail["arpa"],
            "quick_ratio": metrics._ratio(gained, churned + shrank),
        }
    )
    for key in PERIOD_RATES:
        values = [row[key] for row in monthly if row[key] is not None]
        figures[f"avg_monthly_{key}"] = sum(values, Fraction(0)) / len(values) if values else None
    return figures


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
    snapshot: ibis.Table
    periods: list[int]
    span: int

    def renewal_due(self, last: int) -> ibis.Table:
        """Lines due for renewal up to month ``last``, materialized (they are read twice)."""
        offsets = ibis.memtable(metrics.renewal_offsets(self.periods, self.span))
        due = metrics.renewal_due_lines(self.lines, self.months, offsets, self.fx, last)
        return self.conn.materialize("renewal_due", due)


def _prepare(
    session: Session,
    engine: str,
    months: MonthRange,
    *,
    with_accounts: bool,
    history_from: int | None = None,
) -> _Prepared:
    """Connect ``engine``, build the scale, FX factors and the month-end MRR snapshot (from
    month ``history_from`` on when given, else from the first month of the data)."""
    check_engine(engine)
    first_data, _last = _data_bounds(session)
    settings = get_settings()
    reporting = settings.reporting_currency
    kinds = session.execute(
        select(Subscription.billing_period_months, Subscription.currency).distinct()
    ).all()
    periods = sorted({bpm for bpm, _c in kinds})
    currencies = sorted({currency for _b, currency in kinds})
    exponents = {c: contracts.minor_exponent(c) for c in {*currencies, reporting}}
    factors: pa.Table | None = None
    if currencies == [reporting]:
        scale = Scale.for_periods(periods, 0, exponents[reporting])
        _check_fits_64_bits(session, scale, {reporting: 1}, reporting)
    else:
        rates = _fx_rates(session, reporting, currencies, months.last)
        decimals = max((_decimals(r) for r in rates.values()), default=0)
        scale = Scale.for_periods(periods, decimals, max(exponents.values()))
        _check_fits_64_bits(
            session, scale, _largest_factors(rates, exponents, reporting, scale), reporting
        )
        factors = _factor_table(
            rates, exponents, reporting, scale, min(first_data, months.first), months.last
        )
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
        tables["accounts"] = [
            Account.__table__.c[n] for n in ("id", "plan", "segment", "industry", "owner_id")
        ]
        tables["team_members"] = [TeamMember.__table__.c[n] for n in ("id", "email")]
    conn = connect(engine, session.get_bind(), tables)
    first_month = min(first_data, months.first)
    if history_from is not None:
        first_month = max(first_month, history_from)
    dimension = month_dimension(first_month, months.last)
    months_t = ibis.memtable(dimension)
    fx = ibis.memtable(factors) if factors is not None else None
    lines = conn.materialize(
        "subscription_lines",
        metrics.subscription_lines(conn.table("subscriptions"), scale),
        projection=True,
    )
    snapshot = conn.materialize("mrr_snapshot", metrics.month_end_mrr(lines, months_t, fx))
    span = months.last - min(first_data, months.first) + 1
    return _Prepared(conn, scale, reporting, lines, months_t, fx, snapshot, periods, span)


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


def _resolve_range(
    session: Session, start: str | None, end: str | None, default_span: int | None
) -> MonthRange:
    """The requested month range with defaults; BansoError when malformed or inverted."""
    first_data, last_data = _data_bounds(session)
    last = parse_month(end, "--to") if end else last_data
    if start:
        first = parse_month(start, "--from")
    elif default_span is None:
        first = min(first_data, last)
    else:
        first = last - (default_span - 1)
    if first > last:
        raise BansoError(
            _(
                "--from {start} is after --to {end}; give the earlier month first.",
                start=month_label(first),
                end=month_label(last),
            )
        )
    return MonthRange(first, last)


def _data_bounds(session: Session) -> tuple[int, int]:
    """(first start month, default last month) of the subscriptions; BansoError when none."""
    bind = session.get_bind()
    missing_file = bind.dialect.name == "sqlite" and not Path(bind.url.database or "").exists()
    if missing_file or not inspect(bind).has_table(Subscription.__tablename__):
        raise BansoError(_("The database is not initialised; run `banso init` first."))
    # one aggregate per query: each is then one step down a date index, not a table scan
    first = session.scalar(select(func.min(Subscription.start_date)))
    last_start = session.scalar(select(func.max(Subscription.start_date)))
    last_end = session.scalar(select(func.max(Subscription.end_date)))
    if first is None:
        raise BansoError(_("No subscriptions to report on; run `banso import subscriptions FILE`."))
    latest = max(d for d in (_as_date(last_start), _as_date(last_end)) if d is not None)
    today = datetime.now(get_settings().tz).date()
    return month_index(_as_date(first)), min(month_index(latest), month_index(today))


def _as_date(value: date | str | None) -> date | None:
    """SQLite returns aggregates of date columns as ISO strings."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -int(exponent))


def _fx_rates(
    session: Session, reporting: str, currencies: list[str], last: int
) -> dict[tuple[str, int], Decimal]:
    """FX rates needed by the report, by (currency, month index); BansoError naming the first
    missing (currency, month). A line needs a rate for each month from its start month to its
    end month (or ``last``)."""
    foreign = [c for c in currencies if c != reporting]
    stored: dict[tuple[str, int], Decimal] = {}
    for rate in session.scalars(select(FxRate).where(FxRate.currency.in_(foreign))):
        if _MONTH.match(rate.month):
            stored[(rate.currency, parse_month(rate.month, "fx_rates.month"))] = Decimal(rate.rate)
    spans = session.execute(
        select(Subscription.currency, Subscription.start_date, Subscription.end_date).where(
            Subscription.currency.in_(foreign)
        )
    )
    needed: dict[str, set[int]] = defaultdict(set)
    for currency, start, end in spans:
        start_idx = month_index(_as_date(start))
        end_d = _as_date(end)
        stop = min(month_index(end_d), last) if end_d else last
        needed[currency].update(range(start_idx, stop + 1))
    for currency in sorted(needed):
        for m in sorted(needed[currency]):
            if (currency, m) not in stored:
                raise contracts.MissingFxRate(currency, month_label(m), reporting)
    return stored


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
        largest = session.execute(
            select(per_account.c.currency, per_account.c.billing_period_months,
                   func.max(per_account.c.total))
            .group_by(per_account.c.currency, per_account.c.billing_period_months)
        ).all()  # fmt: skip
    except DBAPIError as exc:  # SQLite's SUM stops at 2**63 - 1 with "integer overflow"
        if "overflow" not in str(exc).lower():
            raise
        largest = [(reporting, 1, INT64_MAX + 1)]
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


def _largest_factors(
    rates: Mapping[tuple[str, int], Decimal],
    exponents: Mapping[str, int],
    reporting: str,
    scale: Scale,
) -> dict[str, int]:
    """The largest factor of each currency over the months (see :func:`_factor_table`)."""
    emax, p = scale.max_exponent, scale.rate_decimals
    largest = {reporting: 10**p * 10 ** (emax - exponents[reporting])}
    for (currency, _m), rate in rates.items():
        factor = int(rate * 10**p) * 10 ** (emax - exponents[currency])
        largest[currency] = max(largest.get(currency, 0), factor)
    return largest


def _factor_table(
    rates: dict[tuple[str, int], Decimal],
    exponents: dict[str, int],
    reporting: str,
    scale: Scale,
    first: int,
    last: int,
) -> pa.Table:
    """(currency, month_idx, factor): the integer each line's ``unit`` is multiplied by."""
    currencies, months, values = [], [], []
    emax, p = scale.max_exponent, scale.rate_decimals
    for m in range(first, last + 1):
        currencies.append(reporting)
        months.append(m)
        values.append(10**p * 10 ** (emax - exponents[reporting]))
    for (currency, m), rate in sorted(rates.items()):
        scaled = rate * 10**p
        currencies.append(currency)
        months.append(m)
        values.append(int(scaled) * 10 ** (emax - exponents[currency]))
    return pa.table(
        {
            "currency": pa.array(currencies, pa.string()),
            "month_idx": pa.array(months, pa.int64()),
            "factor": pa.array(values, pa.int64()),
        }
    )
