"""Revenue stays exact up to the documented 64-bit bound per account and says so beyond it.

Each account's MRR in the report's scaled units (``Σ |amount| × L / bpm × FX factor``) is held
in 64 bits; the sums over accounts are exact decimals. At the edge: two accounts of exactly
the largest allowed MRR sum to more than 2**63 - 1 units and still report exactly; one unit
more per account is refused with a sentence, never a wrong figure or a traceback.
"""

from __future__ import annotations

from fractions import Fraction

import pytest
from revenue_examples import insert_subscriptions

from banso import schema
from banso.db import session_scope
from banso.revenue import service
from banso.revenue.fx import set_fx_rate

ENGINES = [
    "duckdb",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("spark", marks=[pytest.mark.spark, pytest.mark.xdist_group("spark")]),
]
INT64_MAX = 2**63 - 1
# USD lines in a JPY report at a rate of 2: the factor is 2 (cents and yen differ by 10**2,
# which the denominator 100 absorbs), so the largest allowed monthly amount is (2**63 - 1) // 2
EDGE = INT64_MAX // 2


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres":
        request.getfixturevalue("pg_url")
    return request.param


def _book(*amounts: int) -> None:
    schema.upgrade()
    insert_subscriptions(
        {
            "account_id": f"a{i}",
            "subscription_id": f"s{i}",
            "plan": "",
            "amount": str(amount),
            "start_date": "2024-01-01",
            "end_date": "2024-03-01",
            "currency": "USD",
            "billing_period_months": "1",
        }  # fmt: skip
        for i, amount in enumerate(amounts)
    )
    with session_scope() as session:
        for month in ("2024-01", "2024-02", "2024-03"):
            set_fx_rate(session, "USD", month, "2")


def test_two_accounts_at_the_bound_report_exactly(engine: str) -> None:
    _book(EDGE, EDGE)
    with session_scope() as session:
        report = service.revenue_report(session, start="2024-01", end="2024-03", engine=engine)
    january = report.rows[0]
    # 2 × 4611686018427387903 cents × 2 JPY/USD = 18446744073709551612 / 100 yen
    assert january["mrr_end"] == Fraction(2 * EDGE * 2, 100)
    assert january["mrr_end"] * 100 > INT64_MAX
    assert january["new_mrr"] == january["mrr_end"]
    march = report.rows[2]
    assert (march["mrr_start"], march["churned_mrr"]) == (Fraction(4 * EDGE, 100),) * 2
    assert march["mrr_end"] == 0


def test_one_unit_over_the_bound_is_refused_in_a_sentence(cli) -> None:  # type: ignore[no-untyped-def]
    _book(EDGE + 1, 1)
    result = cli("metrics", "revenue", "--from", "2024-01", "--to", "2024-03")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: Amounts too large to report exactly: one account's MRR in the report's units "
        f"(1/100 JPY) can reach {(EDGE + 1) * 2}, over the 64-bit limit {INT64_MAX}; store the "
        "FX rates with fewer decimal places.\n"
    )
