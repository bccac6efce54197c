"""The strategic KPIs of a scorecard on fixed data, by hand: the book's health on the period's
last scored day, and the share of its renewals forecast right before their date."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from fractions import Fraction
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import select

from banso.accounts.models import Account
from banso.db import session_scope
from banso.evaluation.strategic import strategic_values
from banso.health import snapshots
from banso.renewals.models import RenewalForecast

FIRST, LAST = date(2025, 4, 1), date(2025, 6, 30)  # FY2025 Q1
LINES = [
    # account, id, start, end, amount a year (annual lines)
    ("E", "E1", "2024-04-15", "2025-04-15", 1200000),  # not renewed on 15 April 2025
    ("F", "F1", "2024-05-10", "", 1200000),  # renewed on 10 May 2025
    ("G", "G1", "2024-06-01", "", 600000),  # renewed on 1 June 2025
    ("H", "H1", "2024-06-20", "", 600000),  # renewed on 20 June 2025, never forecast
]


@pytest.fixture
def ids(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BANSO_TODAY", "2025-07-15")
    path = tmp_path / "subscriptions.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["account_id", "subscription_id", "plan", "start_date", "end_date", "amount",
             "currency", "billing_period_months"]
        )  # fmt: skip
        for row in LINES:
            account, sid, start, end, amount = row
            writer.writerow([account, sid, "p", start, end, amount, "JPY", 12])
    assert cli("init").exit_code == 0
    assert cli("import", "subscriptions", str(path)).exit_code == 0
    with session_scope() as session:
        return {a.name: a.id for a in session.scalars(select(Account))}


def _scores(day: date, scores: dict[int, float]) -> None:
    snapshots.write_day(
        day,
        pa.table(
            {
                "account_id": pa.array(list(scores), pa.int64()),
                "day": pa.array([day] * len(scores), pa.date32()),
                "score": pa.array(list(scores.values()), pa.float64()),
                "band": pa.array(["green"] * len(scores), pa.string()),
            }
        ),
    )


def test_health_of_the_book_is_the_mean_on_the_last_scored_day(ids: dict[str, int]) -> None:
    e, f, g, h = (ids[n] for n in "EFGH")
    _scores(date(2025, 6, 10), {e: 10.0, f: 10.0, g: 10.0})
    _scores(date(2025, 6, 28), {e: 50.0, f: 80.0, g: 65.0})  # H was not scored
    _scores(date(2025, 7, 3), {e: 99.0, f: 99.0, g: 99.0, h: 99.0})  # after the quarter
    books = {1: [e, f, g, h], 2: [h], 3: []}
    with session_scope() as session:
        values = strategic_values(session, "health", books, FIRST, LAST)
    # (50 + 80 + 65) / 3 on 28 June; H has no score, so book 2 has no figure
    assert values == {1: Fraction(65), 2: None, 3: None}


def test_renewal_forecast_accuracy_counts_forecasts_set_before_the_date(
    ids: dict[str, int],
) -> None:
    e, f, g, h = (ids[n] for n in "EFGH")

    def forecast(account: int, renewal: date, status: str, set_at: datetime) -> RenewalForecast:
        return RenewalForecast(account_id=account, renewal_date=renewal, status=status,
                               set_by="sato@example.jp", set_at=set_at)  # fmt: skip

    with session_scope() as session:
        session.add_all(
            [
                # right: E was said at risk and left
                forecast(e, date(2025, 4, 15), "at_risk", datetime(2025, 3, 1, tzinfo=UTC)),
                # right: F was committed and renewed
                forecast(f, date(2025, 5, 10), "commit", datetime(2025, 4, 1, tzinfo=UTC)),
                # wrong: G was said lost and renewed; the change on the day after does not count
                forecast(g, date(2025, 6, 1), "lost", datetime(2025, 5, 1, tzinfo=UTC)),
                forecast(g, date(2025, 6, 1), "commit", datetime(2025, 6, 2, tzinfo=UTC)),
            ]
        )
    books = {1: [e, f, g, h], 2: [g], 3: [h]}
    with session_scope() as session:
        values = strategic_values(session, "renewal_forecast_accuracy", books, FIRST, LAST)
    # H renewed without a forecast: not judged
    assert values == {1: Fraction(2, 3), 2: Fraction(0), 3: None}
