"""``programs_attended_90d``: programmes an account's contacts attended in the 90 days before
the end of the scoring day; later sessions, no-shows and older sessions do not count."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from banso import schema
from banso.accounts.models import Account
from banso.attendance.models import ProgramEnrolment, ProgramSession
from banso.db import get_engine, session_scope
from banso.health.inputs import HealthInputs
from banso.revenue.models import Subscription

D = date(2026, 5, 29)


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 3, tzinfo=UTC)  # noon in Tokyo


def test_programmes_attended_in_90_days_as_of_each_day():
    schema.upgrade()
    with session_scope() as s:
        s.add(Account(id=1, name="Acme", normalized_name="acme"))
        s.add(Subscription(account_id=1, source="t", external_id="S1", plan="pro",
                           start_date=date(2025, 1, 1), amount=30000, currency="JPY",
                           billing_period_months=1))  # fmt: skip
        sessions = [
            ("admin-training", -20, "attended"),
            ("admin-training", -10, "attended"),  # same programme: counts once
            ("user-meetup", -5, "no_show"),
            ("getting-started-webinar", -100, "attended"),  # older than 90 days
            ("dashboards-guide", 5, "attended"),  # after D: not known on D
        ]
        for i, (program, offset, status) in enumerate(sessions, 1):
            s.add(ProgramSession(id=i, program=program, starts_at=_at(D + timedelta(offset))))
            s.flush()
            s.add(ProgramEnrolment(session_id=i, account_id=1, status=status))
    table = HealthInputs(get_engine()).raw_values([D, D + timedelta(days=10)])
    got = dict(zip(table["day"].to_pylist(), table["programs_attended_90d"].to_pylist(),
                   strict=True))  # fmt: skip
    assert got == {D: 1, D + timedelta(days=10): 2}
