"""Hypothesis properties of the revenue KPIs on random subscription histories (DuckDB).

Identities every month, the bounds the spec states, and invariance under the order of the input
rows and under splitting them across several imports.
"""

from __future__ import annotations

import csv
import random
import tempfile
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from banso import schema
from banso.db import dispose_engines, session_scope
from banso.ingest.importer import import_file
from banso.revenue import service

FIRST_DAY = date(2023, 1, 1)
RANGE = ("2023-01", "2025-06")


@st.composite
def subscription_rows(draw: st.DrawFn) -> list[dict[str, str]]:
    """Up to 14 lines over 6 accounts between 2023 and mid-2025: monthly, quarterly and annual,
    free lines, open ends, month-end starts, replacements on a renewal date."""
    rows: list[dict[str, str]] = []
    for n in range(draw(st.integers(1, 14))):
        account = f"A{draw(st.integers(0, 5))}"
        start = FIRST_DAY + timedelta(days=draw(st.integers(0, 880)))
        if draw(st.booleans()):
            start = start.replace(day=1) - timedelta(days=1)  # a month-end start
        bpm = draw(st.sampled_from([1, 1, 3, 12]))
        end = None
        if draw(st.booleans()):
            end = start + timedelta(days=draw(st.integers(1, 500)))
        amount = draw(st.sampled_from([0, 9800, 29800, 85000, 1200000]))
        rows.append(_row(account, f"S{n}", start, end, amount, bpm))
        if end is not None and draw(st.integers(0, 3)) == 0:
            new_amount = draw(st.sampled_from([4980, 29800, 2400000]))
            rows.append(_row(account, f"S{n}r", end, None, new_amount, bpm))
    return rows


def _row(
    account: str, sid: str, start: date, end: date | None, amount: int, bpm: int
) -> dict[str, str]:
    return {
        "account_id": account,
        "subscription_id": sid,
        "plan": "p",
        "start_date": start.isoformat(),
        "end_date": end.isoformat() if end else "",
        "amount": str(amount),
        "currency": "JPY",
        "billing_period_months": str(bpm),
    }


def _reports(batches: list[list[dict[str, str]]]) -> tuple[list[dict], list[dict]]:
    """Revenue and cohort rows (exact) after importing each batch as its own CSV file with
    ``banso import subscriptions``' service, on a fresh database."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'banso.db'}"
        schema.upgrade(url)
        for n, batch in enumerate(batches):
            if not batch:
                continue
            path = Path(tmp) / f"batch{n}.csv"
            with path.open("w", encoding="utf-8", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=list(batch[0]))
                writer.writeheader()
                writer.writerows(batch)
            with session_scope(url) as session:
                import_file(session, "subscriptions", path)
        with session_scope(url) as session:
            revenue = service.revenue_report(session, start=RANGE[0], end=RANGE[1]).rows
            cohorts = service.cohort_report(session, end=RANGE[1]).rows
        dispose_engines()
    return revenue, cohorts


@pytest.mark.slow
@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=subscription_rows(), seed=st.integers(0, 10**6))
def test_identities_bounds_and_order_invariance(rows: list[dict[str, str]], seed: int) -> None:
    revenue, cohorts = _reports([rows])
    for row in revenue:
        assert row["mrr_end"] == (
            row["mrr_start"]
            + row["new_mrr"]
            + row["reactivation_mrr"]
            + row["expansion_mrr"]
            - row["contraction_mrr"]
            - row["churned_mrr"]
        ), row["month"]
        assert row["customers_end"] == (
            row["customers_start"]
            + row["new_customers"]
            + row["reactivated_customers"]
            - row["churned_customers"]
        ), row["month"]
        for key in (
            "logo_churn_rate",
            "mrr_churn_rate",
            "gross_mrr_churn_rate",
            "renewal_churn_rate",
        ):
            assert row[key] is None or 0 <= row[key] <= 1, (row["month"], key, row[key])
        assert (row["nrr_12m"] is None) == (row["grr_12m"] is None)
        if row["grr_12m"] is not None:
            assert 0 <= row["grr_12m"] <= 1
            assert row["grr_12m"] <= row["nrr_12m"]
        if row["nrr_1m"] is not None:
            assert row["nrr_1m"] == 1 - row["net_mrr_churn_rate"]
        assert row["renewal_churned_mrr"] <= row["renewal_due_mrr"]
    for previous, row in zip(revenue, revenue[1:], strict=False):
        assert row["mrr_start"] == previous["mrr_end"]
        assert row["customers_start"] == previous["customers_end"]
    for row in cohorts:
        assert 0 <= row["logo_retention"] <= 1
        assert row["age"] > 0 or row["revenue_retention"] == Fraction(1)

    shuffled = rows[:]
    random.Random(seed).shuffle(shuffled)
    cut = random.Random(seed + 1).randint(0, len(shuffled))
    assert _reports([shuffled[:cut], shuffled[cut:]]) == (revenue, cohorts)
