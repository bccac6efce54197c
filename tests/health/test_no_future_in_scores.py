"""A past day's health inputs hold only what was known on that day: a ticket's CSAT counts once
the ticket has closed, and a contract line's end recorded after the day does not change the
day's next renewal."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from banso import schema
from banso.accounts.models import Account
from banso.db import get_engine, session_scope
from banso.health.inputs import HealthInputs
from banso.revenue.models import Subscription
from banso.support.models import Ticket

D = date(2024, 6, 30)


def utc(day: date, hour: int = 3) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture
def world(any_db: str) -> None:
    schema.upgrade()
    with session_scope() as s:
        a = Account(name="Sakura KK", normalized_name="sakura")
        b = Account(name="Minato KK", normalized_name="minato")
        s.add_all([a, b])
        s.flush()
        # a: a yearly line from 2024-01-15 (renews 2025-01-15), cut short on 2024-09-01: on D
        # that end was not known yet
        s.add(
            Subscription(
                account_id=a.id,
                source="t",
                external_id="S1",
                plan="pro",
                start_date=date(2024, 1, 15),
                end_date=date(2024, 9, 1),
                amount=360000,
                currency="JPY",
                billing_period_months=12,
            )
        )
        # b: monthly from 2024-01-10, open
        s.add(
            Subscription(
                account_id=b.id,
                source="t",
                external_id="S2",
                plan="pro",
                start_date=date(2024, 1, 10),
                end_date=None,
                amount=30000,
                currency="JPY",
                billing_period_months=1,
            )
        )
        # b's tickets: one closed before D rated 5, one opened before D and closed (rated 1)
        # after it, one still open
        for ext, opened, closed, csat in (
            ("T1", D - timedelta(days=20), D - timedelta(days=18), 5),
            ("T2", D - timedelta(days=5), D + timedelta(days=3), 1),
            ("T3", D - timedelta(days=2), None, None),
        ):
            s.add(
                Ticket(
                    account_id=b.id,
                    source="t",
                    external_id=ext,
                    opened_at=utc(opened),
                    closed_at=utc(closed) if closed else None,
                    priority="normal",
                    status="closed" if closed else "open",
                    csat=csat,
                )
            )


def raw(days: list[date]) -> dict[tuple[int, date], dict]:
    table = HealthInputs(get_engine()).raw_values(days)
    return {(r["account_id"], r["day"]): r for r in table.to_pylist()}


def test_a_past_day_sees_only_what_was_known_then(world: None) -> None:
    later = D + timedelta(days=10)
    rows = raw([D, later])
    # CSAT: on D only the ticket closed by then; ten days later both closed tickets
    assert rows[(2, D)]["ticket_csat_90d"] == 5
    assert rows[(2, later)]["ticket_csat_90d"] == 3
    assert rows[(2, D)]["open_tickets"] == 2
    # renewal: on D the yearly line renews on 2025-01-15, its later end unknown
    assert rows[(1, D)]["days_to_renewal"] == (date(2025, 1, 15) - D).days
    assert rows[(1, later)]["days_to_renewal"] == (date(2025, 1, 15) - later).days
    # the monthly line renews on the 10th of next month
    assert rows[(2, D)]["days_to_renewal"] == (date(2024, 7, 10) - D).days
