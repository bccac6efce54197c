"""A small hand-made world for playbook tests: three customers, their contacts, events."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pyarrow as pa

from banso import schema
from banso.accounts.models import Account, Contact
from banso.db import session_scope
from banso.revenue.models import Subscription
from banso.support.models import Ticket
from banso.surveys.models import SurveyResponse
from banso.team.models import TeamMember
from banso.usage.store import EVENT_SCHEMA, append_events

JST_NOON = 3  # 03:00 UTC is 12:00 in Tokyo: the same calendar day in both


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, JST_NOON, tzinfo=UTC)


def build_world() -> None:
    """Accounts 1 (Alpha, high touch), 2 (Beta, tech touch), 3 (Gamma, high touch, yearly).

    - Alpha uses the product every day to 2025-06-10, then stops: 7 quiet days on 2025-06-17.
    - Beta uses it every day to 2025-06-12: 7 quiet days on 2025-06-19; its champion speaks
      English (``en``) and another Japanese contact is a plain user.
    - Gamma uses it every day of June; answers NPS 3 on 2025-06-15 (a detractor); its champion
      leaves on 2025-06-20; 5 tickets opened 2025-06-21..25; yearly line from 2024-09-01
      renews 2025-09-01 (90 days after 2025-06-03); it downgrades on 2025-06-26.
    """
    schema.upgrade()
    with session_scope() as s:
        s.add_all(
            [
                TeamMember(id=1, name="佐藤 花子", email="sato@vendor.example", team="east"),
                TeamMember(id=2, name="Ken Ito", email="ito@vendor.example", team="east"),
            ]
        )
        s.flush()
        s.add_all(
            [
                Account(id=1, name="Alpha株式会社", normalized_name="alpha", touch_model="high",
                        segment="enterprise", owner_id=1, domain="alpha.example"),
                Account(id=2, name="Beta合同会社", normalized_name="beta", touch_model="tech",
                        segment="smb", owner_id=2, domain="beta.example"),
                Account(id=3, name="Gamma株式会社", normalized_name="gamma", touch_model="high",
                        segment="enterprise", owner_id=1, domain="gamma.example"),
            ]
        )  # fmt: skip
        s.flush()
        s.add_all(
            [
                Contact(id=1, account_id=1, source="t", external_id="c1", name="Alpha Champ",
                        email="champ@alpha.example", role="champion", language="ja"),
                Contact(id=2, account_id=2, source="t", external_id="c2", name="Beth",
                        email="beth@beta.example", role="champion", language="en"),
                Contact(id=3, account_id=2, source="t", external_id="c3", name="田中",
                        email="tanaka@beta.example", role="user", language="ja"),
                Contact(id=4, account_id=3, source="t", external_id="c4", name="鈴木",
                        email="suzuki@gamma.example", role="champion", language="ja",
                        left_at=at(date(2025, 6, 20))),
            ]
        )  # fmt: skip
        s.add_all(
            [
                Subscription(account_id=1, source="t", external_id="s1", plan="pro",
                             start_date=date(2025, 1, 1), amount=100_000, currency="JPY",
                             billing_period_months=1),
                Subscription(account_id=2, source="t", external_id="s2", plan="basic",
                             start_date=date(2025, 6, 2), amount=10_000, currency="JPY",
                             billing_period_months=1),
                Subscription(account_id=3, source="t", external_id="s3", plan="ent",
                             start_date=date(2024, 9, 1), end_date=date(2025, 6, 26),
                             amount=3_600_000, currency="JPY", billing_period_months=12),
                Subscription(account_id=3, source="t", external_id="s3b", plan="ent-small",
                             start_date=date(2025, 6, 26), amount=2_400_000, currency="JPY",
                             billing_period_months=12),
            ]
        )  # fmt: skip
        s.add(
            SurveyResponse(account_id=3, contact_id=4, source="t", external_id="n1",
                           survey_type="nps", score=3, answered_at=at(date(2025, 6, 15)))
        )  # fmt: skip
        for i in range(5):
            s.add(
                Ticket(account_id=3, source="t", external_id=f"t{i}", subject="error",
                       opened_at=at(date(2025, 6, 21) + timedelta(days=i)))
            )  # fmt: skip
    rows = []
    last = {1: date(2025, 6, 10), 2: date(2025, 6, 12), 3: date(2025, 6, 30)}
    for account, until in last.items():
        day = date(2025, 5, 1)
        while day <= until:
            rows.append(
                {"event_id": f"{account}-{day}", "account_id": account, "user_id": "u1",
                 "event": "login", "ts": at(day), "properties": None}
            )  # fmt: skip
            day += timedelta(days=1)
    append_events(pa.Table.from_pylist(rows, schema=EVENT_SCHEMA))
