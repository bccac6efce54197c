"""The month-end MRR built from its changes (``revenue.metrics.mrr_changes``) gives the figures
of the spec month by month: a worked example with FX on every engine, and random histories in
three currencies checked against a plain-Python month-by-month reading of the contract facts
(``revenue.contracts``: a line active on a day, its MRR at that month's rate).

The changes approach counts a line in a steady currency by its start and end and a line in a
currency whose rate moves month by month; the examples cover both, accounts constant for
months between changes, lines starting and ending mid-month or inside one month, open ends,
free lines, history before the report (counted from 13 months before it) and returns.
"""

from __future__ import annotations

import calendar
import tempfile
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from revenue_examples import insert_subscriptions
from sqlalchemy import select

from banso import schema
from banso.accounts.models import Account
from banso.db import dispose_engines, session_scope
from banso.revenue import contracts, service
from banso.revenue.fx import set_fx_rate
from banso.revenue.models import Subscription

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


def _row(
    account: str, sid: str, start: str, end: str, amount: int, currency: str = "JPY"
) -> dict[str, str]:
    return {
        "account_id": account,
        "subscription_id": sid,
        "plan": "p",
        "start_date": start,
        "end_date": end,
        "amount": str(amount),
        "currency": currency,
        "billing_period_months": "1",
    }


# --- a worked example with FX, on every engine ------------------------------------------------

WORKED = [
    # Yen: ¥10,000 from June 2022 (before the 13 months of history a 2024 report reads), plus
    # ¥2,000 from 15 Mar 2023 to 1 Apr 2024: 10,000 → 12,000 (Mar 2023) → 10,000 (Apr 2024)
    _row("Yen", "Y1", "2022-06-10", "", 10000),
    _row("Yen", "Y2", "2023-03-15", "2024-04-01", 2000),
    # Dollar: $100.00 a month from 20 Jan to 5 Apr 2024, back on 10 May: the rate moves it
    _row("Dollar", "D1", "2024-01-20", "2024-04-05", 10000, "USD"),
    _row("Dollar", "D2", "2024-05-10", "", 10000, "USD"),
    # Euro: €50.00 a month from 1 Feb 2024 at a rate that never moves (160): 8,000 every month
    _row("Euro", "E1", "2024-02-01", "", 5000, "EUR"),
    # Mixed: ¥5,000 from January, plus $20.00 in March and April (ends 1 May)
    _row("Mixed", "M1", "2024-01-01", "", 5000),
    _row("Mixed", "M2", "2024-03-01", "2024-05-01", 2000, "USD"),
    # Blip: $10.00 from 3 to 25 Feb 2024 is never active at a month end; Free pays nothing
    _row("Blip", "B1", "2024-02-03", "2024-02-25", 1000, "USD"),
    _row("Free", "F1", "2023-01-01", "", 0),
]
USD = {"2024-01": "150", "2024-02": "151.5", "2024-03": "151.5", "2024-04": "149", "2024-05": "148"}


def _load_worked() -> None:
    schema.upgrade()
    insert_subscriptions(WORKED)
    with session_scope() as session:
        for month, rate in USD.items():
            set_fx_rate(session, "USD", month, rate)
        for month in ("2024-02", "2024-03", "2024-04", "2024-05"):
            set_fx_rate(session, "EUR", month, "160")


def test_worked_example_with_fx_on_every_engine(engine: str) -> None:
    """Month-end MRR (yen): Yen 12,000 until Mar 2024, then 10,000; Dollar 15,000 (Jan, at
    150), 15,150 (Feb and Mar at 151.5), 0 (Apr), 14,800 (May at 148); Euro 8,000 from Feb;
    Mixed 5,000, 5,000, 5,000 + 3,030 = 8,030, 5,000 + 2,980 = 7,980, 5,000."""
    _load_worked()
    with session_scope() as session:
        rows = service.revenue_report(session, start="2024-01", end="2024-05", engine=engine).rows
        cohorts = service.cohort_report(session, end="2024-05", engine=engine).rows
    figures = {
        r["month"]: (
            r["mrr_start"],
            r["mrr_end"],
            r["new_mrr"],
            r["expansion_mrr"],
            r["contraction_mrr"],
            r["churned_mrr"],
            r["reactivation_mrr"],
            r["customers_start"],
            r["customers_end"],
            r["nrr_12m"],
            r["grr_12m"],
        )
        for r in rows
    }
    f = Fraction
    assert figures == {
        # new: Dollar 15,000 and Mixed 5,000; NRR: Yen 10,000 (Jan 2023) → 12,000
        "2024-01": (12000, 32000, 20000, 0, 0, 0, 0, 1, 3, f(6, 5), 1),
        # new: Euro 8,000; expansion: Dollar's rate 150 → 151.5 (+150)
        "2024-02": (32000, 40150, 8000, 150, 0, 0, 0, 3, 4, f(6, 5), 1),
        # expansion: Mixed's dollar line (+3,030); Dollar unchanged at the same rate
        "2024-03": (40150, 43180, 0, 3030, 0, 0, 0, 4, 4, 1, 1),
        # churn: Dollar 15,150; contraction: Yen 2,000, Mixed 50 (rate 151.5 → 149)
        "2024-04": (43180, 25980, 0, 0, 2050, 15150, 0, 4, 3, f(5, 6), f(5, 6)),
        # contraction: Mixed 2,980; reactivation: Dollar 14,800 (rate 148)
        "2024-05": (25980, 37800, 0, 0, 2980, 0, 14800, 3, 4, f(5, 6), f(5, 6)),
    }
    assert [r["contraction_customers"] for r in rows] == [0, 0, 0, 2, 1]
    assert [r["reactivated_customers"] for r in rows] == [0, 0, 0, 0, 1]
    by_cohort = defaultdict(list)
    for r in cohorts:
        by_cohort[r["cohort"]].append((r["customers"], r["logo_retention"], r["mrr"]))
    assert sorted(by_cohort) == ["2022-06", "2024-01", "2024-02"]
    # Yen alone, 23 months: 10,000 for 9 months, 12,000 for 13 (Mar 2023 to Mar 2024), 10,000
    assert [m for _n, _l, m in by_cohort["2022-06"]] == [10000] * 9 + [12000] * 13 + [10000] * 2
    assert by_cohort["2024-01"] == [
        (2, 1, 20000),
        (2, 1, 20150),
        (2, 1, 23180),
        (2, f(1, 2), 7980),
        (2, 1, 19800),
    ]
    assert by_cohort["2024-02"] == [(1, 1, 8000)] * 4


def test_churn_and_expansion_per_account_come_from_the_same_changes() -> None:
    """``lost_by_account`` and ``expansion_by_account`` (churn reasons, won opportunities) read
    the same movements per account as the report."""
    _load_worked()
    with session_scope() as session:
        names = dict(session.execute(select(Account.id, Account.name)).all())
        _months, _currency, lost = service.lost_by_account(session, start="2024-01", end="2024-05")
        _months, grown = service.expansion_by_account(session, start="2024-01", end="2024-05")
    assert [
        (r["month"], names[r["account_id"]], r["churned_mrr"], r["contraction_mrr"]) for r in lost
    ] == [
        ("2024-04", "Yen", 0, 2000),  # by month, then account (Yen was imported first)
        ("2024-04", "Dollar", 15150, 0),
        ("2024-04", "Mixed", 0, 50),
        ("2024-05", "Mixed", 0, 2980),
    ]
    assert {(m, names[a]): v for (m, a), v in grown.items()} == {
        ("2024-02", "Dollar"): 150,
        ("2024-03", "Mixed"): 3030,
    }


# --- random histories against the month-by-month reading ------------------------------------

FIRST_DAY = date(2022, 1, 1)
FIRST_MONTH, LAST_MONTH = 2021 * 12 + 11, 2025 * 12 + 5  # 2021-12 (a month-end start) .. 2025-06
REPORT = ("2024-01", "2025-06")


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[dict[str, str]], dict[str, str]]:
    """Up to 16 lines over 5 accounts from 2022 to mid-2025 in yen, dollars and euros (monthly,
    quarterly, annual; free lines, open ends, month-end starts, lines inside one month,
    replacements on the end date), and a dollar rate per month that moves."""
    rows: list[dict[str, str]] = []
    for n in range(draw(st.integers(1, 16))):
        account = f"A{draw(st.integers(0, 4))}"
        start = FIRST_DAY + timedelta(days=draw(st.integers(0, 1275)))
        if draw(st.booleans()):
            start = start.replace(day=1) - timedelta(days=1)  # a month-end start
        end = None
        if draw(st.booleans()):
            end = start + timedelta(days=draw(st.integers(1, 700)))
        currency = draw(st.sampled_from(["JPY", "JPY", "USD", "EUR"]))
        amount = draw(st.sampled_from([0, 980, 9800, 120000]))
        bpm = draw(st.sampled_from([1, 1, 3, 12]))
        rows.append(_line(account, f"S{n}", start, end, amount, currency, bpm))
        if end is not None and draw(st.integers(0, 3)) == 0:
            rows.append(_line(account, f"S{n}r", end, None, 29800, currency, bpm))
    usd = {
        _label(m): draw(st.sampled_from(["149.5", "150", "151.25"]))
        for m in range(FIRST_MONTH, LAST_MONTH + 1)
    }
    return rows, usd


def _line(
    account: str, sid: str, start: date, end: date | None, amount: int, currency: str, bpm: int
) -> dict[str, str]:
    return {
        **_row(account, sid, start.isoformat(), end.isoformat() if end else "", amount, currency),
        "billing_period_months": str(bpm),
    }


def _label(m: int) -> str:
    return f"{m // 12:04d}-{m % 12 + 1:02d}"


def _month_end(m: int) -> date:
    year, month = m // 12, m % 12 + 1
    return date(year, month, calendar.monthrange(year, month)[1])


def _eur(m: int) -> str:
    """The euro's rate: 158 until Nov 2022, then 160.5 — steady over the months a 2024 report
    reads (from Dec 2022), not over the whole history the cohort report reads."""
    return "158" if m < 2022 * 12 + 11 else "160.5"


@pytest.mark.slow
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(history=histories())
def test_reports_equal_the_month_by_month_reading_of_the_contracts(
    history: tuple[list[dict[str, str]], dict[str, str]],
) -> None:
    rows, usd = history
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'banso.db'}"
        schema.upgrade(url)
        insert_subscriptions(rows, url=url)
        with session_scope(url) as session:
            for m in range(FIRST_MONTH, LAST_MONTH + 1):
                set_fx_rate(session, "USD", _label(m), usd[_label(m)])
                set_fx_rate(session, "EUR", _label(m), _eur(m))
        with session_scope(url) as session:
            lines = [contracts.Line.of(s) for s in session.scalars(select(Subscription))]
            fx = contracts.fx_table(session, date(2021, 12, 1), _month_end(LAST_MONTH))
            report = service.revenue_report(session, start=REPORT[0], end=REPORT[1]).rows
            books = service.revenue_report(
                session,
                start=REPORT[0],
                end=REPORT[1],
                books=select(Account.id, (Account.id % 2).label("book")),
            ).rows
            cohorts = service.cohort_report(session, end=REPORT[1]).rows
            _m, _c, lost = service.lost_by_account(session, start=REPORT[0], end=REPORT[1])
            _m, grown = service.expansion_by_account(session, start=REPORT[0], end=REPORT[1])
        dispose_engines()

    # MRR(a, M) in yen, exactly, month by month: the lines active on the month's last day, each
    # at the month's rate (contracts.line_mrr); the yen has no minor unit, so these are major units
    mrr: dict[int, dict[int, Fraction]] = defaultdict(lambda: defaultdict(Fraction))
    for m in range(FIRST_MONTH, LAST_MONTH + 1):
        day = _month_end(m)
        for x in lines:
            if contracts.is_active(x, day):
                mrr[x.account_id][m] += contracts.line_mrr(x, fx, day)
    cohort = {
        a: min(m for m, v in by.items() if v > 0) for a, by in mrr.items() if any(by.values())
    }

    def want(m: int, accounts: list[int]) -> dict[str, object]:
        out: dict[str, object] = defaultdict(int)
        base = kept = gross = Fraction(0)
        for a in accounts:
            p, c = mrr[a][m - 1], mrr[a][m]
            out["mrr_start"] += p
            out["mrr_end"] += c
            out["customers_start"] += p > 0
            out["customers_end"] += c > 0
            if p == 0 < c:
                kind = "new" if cohort[a] == m else "reactivation"
                out[f"{kind}_mrr"] += c
                out["new_customers" if kind == "new" else "reactivated_customers"] += 1
            elif 0 < p < c:
                out["expansion_mrr"] += c - p
                out["expansion_customers"] += 1
            elif 0 < c < p:
                out["contraction_mrr"] += p - c
                out["contraction_customers"] += 1
            elif p > 0 == c:
                out["churned_mrr"] += p
                out["churned_customers"] += 1
            then = mrr[a][m - 12]
            if then > 0:
                base += then
                kept += c
                gross += min(c, then)
        out["nrr_12m"] = kept / base if base else None
        out["grr_12m"] = gross / base if base else None
        return out

    accounts = sorted(mrr)
    first = 2024 * 12
    keys = [
        "mrr_start",
        "mrr_end",
        "customers_start",
        "customers_end",
        "new_mrr",
        "reactivation_mrr",
        "expansion_mrr",
        "contraction_mrr",
        "churned_mrr",
        "new_customers",
        "reactivated_customers",
        "expansion_customers",
        "contraction_customers",
        "churned_customers",
        "nrr_12m",
        "grr_12m",
    ]
    for row, m in zip(report, range(first, LAST_MONTH + 1), strict=True):
        expected = want(m, accounts)
        assert {k: row[k] for k in keys} == {k: expected[k] for k in keys}, row["month"]

    # per book (account id odd or even): the same figures over that book's accounts; a book
    # with a customer in the range has rows
    for row in books:
        m = int(row["month"][:4]) * 12 + int(row["month"][5:]) - 1
        expected = want(m, [a for a in accounts if a % 2 == row["book"]])
        assert {k: row[k] for k in keys} == {k: expected[k] for k in keys}, row["month"]
    for book in (0, 1):
        mine = [a for a in accounts if a % 2 == book]
        active = any(
            mrr[a][m] > 0 or mrr[a][m - 1] > 0 for a in mine for m in range(first, LAST_MONTH + 1)
        )
        assert not active or any(r["book"] == book for r in books)

    # cohorts: every cohort, each month from it to the last, retained accounts and their MRR
    got = {
        (r["cohort"], r["age"]): (r["customers"], r["logo_retention"], r["mrr"]) for r in cohorts
    }
    expected_cohorts = {}
    for c in sorted(set(cohort.values())):
        members = [a for a in accounts if cohort.get(a) == c]
        for age in range(LAST_MONTH - c + 1):
            retained = [a for a in members if mrr[a][c + age] > 0]
            expected_cohorts[(_label(c), age)] = (
                len(members),
                Fraction(len(retained), len(members)),
                sum((mrr[a][c + age] for a in retained), Fraction(0)),
            )
    assert got == expected_cohorts

    # per account: churn and contraction (churn reasons), expansion (opportunities)
    want_lost, want_grown = [], {}
    for m in range(first, LAST_MONTH + 1):
        for a in accounts:
            p, c = mrr[a][m - 1], mrr[a][m]
            if p > 0 == c or 0 < c < p:
                want_lost.append(
                    (_label(m), a, p if c == 0 else Fraction(0), p - c if c > 0 else Fraction(0))
                )
            if 0 < p < c:
                want_grown[(_label(m), a)] = c - p
    assert [
        (r["month"], r["account_id"], r["churned_mrr"], r["contraction_mrr"]) for r in lost
    ] == want_lost
    assert grown == want_grown


def test_a_rate_unchanged_over_the_report_counts_lines_by_start_and_end() -> None:
    """``fx.steady_factors``: the reporting currency always; a foreign currency only when its
    rate is one value over the months asked (the euro above: steady from Dec 2022 on)."""
    from banso.revenue.fx import steady_factors
    from banso.revenue.metrics import Scale

    rates = {("EUR", m): Decimal(_eur(m)) for m in range(FIRST_MONTH, LAST_MONTH + 1)}
    rates.update({("USD", m): Decimal("150") for m in range(FIRST_MONTH, LAST_MONTH + 1)})
    rates[("USD", LAST_MONTH)] = Decimal("151.25")
    scale = Scale(1, 2, 2)  # rates to 2 places, cents: a yen is 10**4 units, a cent 10**2 × rate
    exponents = {"JPY": 0, "EUR": 2, "USD": 2}
    assert steady_factors(rates, exponents, "JPY", scale, FIRST_MONTH, LAST_MONTH) == {"JPY": 10**4}
    assert steady_factors(rates, exponents, "JPY", scale, 2022 * 12 + 11, LAST_MONTH - 1) == {
        "JPY": 10**4,
        "EUR": 16050,
        "USD": 15000,
    }
