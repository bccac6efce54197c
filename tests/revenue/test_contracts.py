"""The contract facts of ``banso.revenue.contracts``: the spec's renewal dates, and the same next
renewal from plain Python, SQL on SQLite and PostgreSQL, and Ibis on DuckDB."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction
from itertools import product

import ibis
import pytest
from revenue_examples import (
    EXAMPLE_NAMES,
    EXAMPLES,
    expected,
    load_example,
    read_example_rows,
)
from sqlalchemy import select

from banso import dates, schema
from banso.account_views import accounts_list as views
from banso.accounts.models import Account
from banso.analytics.engines import connect
from banso.db import get_engine, session_scope
from banso.revenue import contracts
from banso.revenue.contracts import Line
from banso.revenue.models import FxRate, Subscription


def line(start: str, end: str | None, period: int, amount: int = 1_200_000) -> Line:
    return Line(
        1,
        date.fromisoformat(start),
        date.fromisoformat(end) if end else None,
        amount,
        "JPY",
        period,
    )


def test_open_ended_annual_contract_renews_every_year_from_its_start() -> None:
    yearly = line("2025-12-24", None, 12)
    assert contracts.next_renewal(yearly, date(2026, 12, 1)) == date(2026, 12, 24)
    assert contracts.next_renewal(yearly, date(2026, 12, 24)) == date(2026, 12, 24)
    assert contracts.next_renewal(yearly, date(2026, 12, 25)) == date(2027, 12, 24)
    assert contracts.next_renewal(yearly, date(2025, 1, 1)) == date(2026, 12, 24)
    assert contracts.account_next_renewal([yearly], date(2026, 12, 1)) == date(2026, 12, 24)


def test_month_end_starts_clamp_and_are_always_counted_from_the_start() -> None:
    monthly = line("2024-01-31", None, 1, 10_000)
    assert contracts.renewals_between(monthly, date(2024, 1, 1), date(2024, 5, 31)) == [
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
        date(2024, 5, 31),
    ]
    assert contracts.add_months(date(2023, 2, 28), 12) == date(2024, 2, 28)
    assert contracts.next_renewal(line("2024-02-29", None, 12), date(2024, 3, 1)) == date(
        2025, 2, 28
    )


def test_a_line_cancelled_before_its_renewal_date_is_never_due_one_ended_on_it_is() -> None:
    cancelled = line("2024-04-01", "2024-09-15", 12)
    assert contracts.next_renewal(cancelled, date(2024, 6, 1)) is None
    leaving = line("2024-04-01", "2025-04-01", 12)
    assert contracts.next_renewal(leaving, date(2025, 1, 1)) == date(2025, 4, 1)
    # an account's renewals are those of its paid lines billed yearly or longer
    assert (
        contracts.account_next_renewal(
            [line("2024-04-01", None, 1, 30_000), line("2024-04-01", None, 12, 0)], date(2025, 1, 1)
        )
        is None
    )


def test_mrr_due_in_a_month_is_the_kpi_renewal_due_mrr() -> None:
    # annual_contracts: ten accounts at 100,000 MRR; four renew in April 2024 (spec §5)
    rows = read_example_rows(EXAMPLES / "annual_contracts" / "subscriptions.csv")
    lines = [
        Line(
            0,
            date.fromisoformat(r["start_date"]),
            date.fromisoformat(r["end_date"]) if r["end_date"] else None,
            int(r["amount"]),
            r["currency"],
            int(r["billing_period_months"]),
        )
        for r in rows
    ]
    fx = contracts.FxTable("JPY", {})
    assert contracts.mrr_due(lines, date(2024, 4, 1), date(2024, 4, 30), fx) == 400_000
    assert contracts.mrr_due(lines, date(2024, 5, 1), date(2024, 5, 31), fx) == 0


def test_account_mrr_converts_at_the_rate_of_the_days_month() -> None:
    lines = [
        Line(1, date(2025, 1, 1), None, 1_200_000, "JPY", 12),
        Line(1, date(2025, 1, 1), None, 120_000, "USD", 12),  # $1,200.00 a year
    ]
    fx = contracts.FxTable(
        "JPY", {("USD", "2026-11"): Fraction(150, 100), ("USD", "2026-12"): Fraction(15025, 10000)}
    )
    assert contracts.account_mrr(lines, date(2026, 11, 30), fx) == 100_000 + 15_000
    assert contracts.account_mrr(lines, date(2026, 12, 1), fx) == 100_000 + 15_025
    try:
        contracts.account_mrr(lines, date(2027, 1, 1), fx)
    except contracts.MissingFxRate as exc:
        assert (exc.currency, exc.month) == ("USD", "2027-01")
    else:
        raise AssertionError("a missing rate must stop the figure")


GRID_STARTS = [
    "2023-02-28", "2024-01-29", "2024-01-30", "2024-01-31", "2024-02-29", "2024-03-31",
    "2024-05-15", "2024-08-31", "2024-12-01", "2025-06-30", "2025-12-24",
]  # fmt: skip
GRID_PERIODS = [1, 3, 6, 12, 24]
GRID_ENDS = [None, "2025-02-28", "2025-08-31", "2026-01-01"]


def _grid() -> list[Line]:
    return [
        line(s, e, p)
        for s, p, e in product(GRID_STARTS, GRID_PERIODS, GRID_ENDS)
        if e is None or e > s
    ]


def _days() -> list[date]:
    first = date(2024, 1, 1)
    return [first + timedelta(days=d) for d in range(0, 800, 7)] + [
        date(2024, 2, 29),
        date(2025, 2, 28),
        date(2025, 3, 1),
        date(2025, 12, 24),
    ]


def test_next_renewal_is_the_same_in_sql_on_every_database(any_db: str) -> None:
    schema.upgrade()
    grid = _grid()
    with session_scope() as s:
        accounts = []
        for i, x in enumerate(grid):  # one account per line: its next renewal is the line's
            account = Account(name=f"grid {i}", normalized_name=f"grid {i}")
            s.add(account)
            s.flush()
            accounts.append(account.id)
            s.add(
                Subscription(
                    account_id=account.id,
                    source="t",
                    external_id=str(i),
                    start_date=x.start_date,
                    end_date=x.end_date,
                    amount=x.amount,
                    currency="JPY",
                    billing_period_months=x.billing_period_months,
                )
            )
        s.flush()
        for day in _days():
            facts = contracts.account_facts_sql(day, {"JPY": Fraction(1)}, term_months=1)
            got = {r.account_id: contracts.day_of_number(r.next_renewal) for r in s.execute(facts)}
            want = {
                a: contracts.next_renewal(x, day)
                for a, x in zip(accounts, grid, strict=True)
                if x.end_date is None or x.end_date >= day
            }
            assert got == want, day


ENGINES = [
    "duckdb",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("spark", marks=[pytest.mark.spark, pytest.mark.xdist_group("spark")]),
]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """The analytics engine; postgres runs on a real PostgreSQL app database."""
    if request.param == "postgres":
        request.getfixturevalue("pg_url")
    return request.param


def test_next_renewal_and_renewal_days_are_the_same_in_ibis_on_every_engine(engine: str) -> None:
    schema.upgrade()
    grid = _grid()
    with session_scope() as s:
        account = Account(name="grid", normalized_name="grid")
        s.add(account)
        s.flush()
        for i, x in enumerate(grid):
            s.add(
                Subscription(
                    account_id=account.id,
                    source="t",
                    external_id=str(i),
                    start_date=x.start_date,
                    end_date=x.end_date,
                    amount=x.amount,
                    currency="JPY",
                    billing_period_months=x.billing_period_months,
                )
            )
    columns = [Subscription.__table__.c[c.key] for c in contracts.SUBSCRIPTION_COLUMNS]
    columns.append(Subscription.__table__.c["external_id"])
    conn = connect(engine, get_engine(), {"subscriptions": columns})
    days = _days()
    subs = conn.table("subscriptions")
    on = ibis.memtable({"on": days}, schema={"on": "date"})
    pairs = subs.cross_join(on)
    got = pairs.select(
        pairs.external_id,
        pairs.on,
        n=contracts.next_renewal_expr(
            pairs.start_date, pairs.end_date, pairs.billing_period_months, pairs.on
        ),
        due=contracts.is_renewal_day_expr(
            pairs.start_date,
            pairs.end_date,
            pairs.billing_period_months,
            pairs.on,
            contracts.months_between_expr(pairs.start_date, pairs.on),
        ),
    ).to_pyarrow()
    found = {(r["external_id"], r["on"]): (r["n"], r["due"]) for r in got.to_pylist()}
    for i, x in enumerate(grid):
        for d in days:
            want = contracts.next_renewal(x, d)
            assert found[(str(i), d)] == (want, want == d), (x, d)


def test_the_list_mrr_in_sql_converts_as_the_kpis_do(any_db: str) -> None:
    schema.upgrade()
    with session_scope() as s:
        account = Account(name="two currencies", normalized_name="two currencies")
        s.add(account)
        s.flush()
        for i, (amount, currency) in enumerate([(1_200_000, "JPY"), (120_000, "USD")]):
            s.add(
                Subscription(
                    account_id=account.id,
                    source="t",
                    external_id=str(i),
                    start_date=date(2025, 1, 1),
                    end_date=None,
                    amount=amount,
                    currency=currency,
                    billing_period_months=12,
                )
            )
        s.add(FxRate(currency="USD", month="2026-12", rate="150.25"))
        s.flush()
        day = date(2026, 12, 1)
        fx = contracts.fx_table(s, day)
        factors = fx.of_month(day)
        row = s.execute(contracts.account_facts_sql(day, factors)).one()
        assert Fraction(int(row.mrr_scaled), contracts.mrr_divisor(factors)) == 100_000 + 15_025
        assert contracts.day_of_number(row.next_renewal) == date(2027, 1, 1)
        lines = [Line.of(x) for x in s.scalars(select(Subscription))]
        assert contracts.account_mrr(lines, day, fx) == 115_025
        # without the month's rate the account's MRR is unknown, not the yen lines alone
        facts = contracts.account_facts_sql(day, {"JPY": Fraction(1)})
        assert s.execute(facts).one().mrr_scaled is None


def _as_date(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_the_worked_examples_due_mrr_and_month_end_mrr_come_from_the_one_definition(
    name: str,
) -> None:
    """Every month of every worked example: Σ ``mrr_due`` over the month is the spec's
    ``renewal_due_mrr`` and Σ exact account MRR on its last day is ``mrr_end``."""
    rows = read_example_rows(EXAMPLES / name / "subscriptions.csv")
    lines = [
        Line(
            0,
            date.fromisoformat(r["start_date"]),
            date.fromisoformat(r["end_date"]) if r["end_date"] else None,
            int(r["amount"]),
            r["currency"],
            int(r["billing_period_months"]),
        )
        for r in rows
    ]
    fx = contracts.FxTable("JPY", {})
    for month in expected(name, "revenue"):
        first = date.fromisoformat(f"{month['month']}-01")
        last = contracts.add_months(first, 1) - timedelta(days=1)
        due = contracts.mrr_due(lines, first, last, fx)
        assert abs(float(due) - float(month["renewal_due_mrr"])) <= 0.01, month["month"]
        active = sum(
            (contracts.line_mrr(x, fx, last) for x in lines if contracts.is_active(x, last)),
            Fraction(0),
        )
        assert abs(float(active) - float(month["mrr_end"])) <= 0.01, month["month"]


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_the_accounts_list_on_a_month_end_sums_to_the_examples_mrr_end(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_example(name)
    for month in expected(name, "revenue")[-3:]:
        first = date.fromisoformat(f"{month['month']}-01")
        last = contracts.add_months(first, 1) - timedelta(days=1)
        monkeypatch.setattr(dates, "today", lambda last=last: last)
        with session_scope() as s:
            listed = [r.mrr or 0 for r in views.iter_accounts(s, views.AccountFilter())]
        # each account's MRR is rounded once to yen, so the sum is within half a yen per account
        assert abs(sum(listed) - float(month["mrr_end"])) <= len(listed) / 2, month["month"]
