"""Health end to end on a hand-made world: raw values, exact scores, overrides, explanations."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from banso import schema
from banso.accounts.models import Account, Contact
from banso.activities.models import Activity
from banso.db import session_scope
from banso.health import service, snapshots
from banso.revenue.models import Subscription
from banso.support.models import Ticket
from banso.surveys.models import SurveyResponse
from banso.usage.store import EVENT_SCHEMA, append_events

D = date(2024, 6, 30)

CARD = """\
name: small
groups:
  usage:
    weight: 2
    measures:
      active_days_28d: {linear: [[0, 0], [20, 100]]}
  support:
    weight: 1
    measures:
      tickets_30d: {linear: [[0, 100], [4, 0]]}
  surveys:
    weight: 1
    measures:
      latest_nps:
        thresholds:
          - {min: 9, score: 100}
          - {min: 7, score: 50}
          - {score: 0}
"""


def utc(day: date, hour: int = 3) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture
def world(banso_home: Path) -> None:
    schema.upgrade()
    (banso_home / "config" / "scorecards").mkdir(parents=True)
    (banso_home / "config" / "scorecards" / "small.yaml").write_text(CARD, encoding="utf-8")
    with session_scope() as s:
        a = Account(name="株式会社さくら", normalized_name="さくら")
        b = Account(name="株式会社みなと", normalized_name="みなと")
        c = Account(name="株式会社ふじ", normalized_name="ふじ")  # churned before D
        s.add_all([a, b, c])
        s.flush()
        for acc, end in ((a, None), (b, None), (c, date(2024, 5, 1))):
            s.add(
                Subscription(
                    account_id=acc.id,
                    source="t",
                    external_id=f"S{acc.id}",
                    plan="pro",
                    start_date=date(2024, 1, 1),
                    end_date=end,
                    amount=30000,
                    currency="JPY",
                    billing_period_months=1,
                )
            )
        # b: 2 tickets in the last 30 days, 1 older; NPS 6 then 8 (latest counts)
        for i, opened in enumerate(
            [D - timedelta(days=3), D - timedelta(days=20), D - timedelta(days=60)]
        ):
            s.add(
                Ticket(
                    account_id=b.id,
                    source="t",
                    external_id=f"T{i}",
                    opened_at=utc(opened),
                    closed_at=utc(opened + timedelta(days=1)),
                    priority="normal",
                    status="closed",
                )
            )
        s.add(
            SurveyResponse(
                account_id=b.id,
                source="t",
                external_id="N1",
                survey_type="nps",
                score=6,
                answered_at=utc(D - timedelta(days=100)),
            )
        )
        s.add(
            SurveyResponse(
                account_id=b.id,
                source="t",
                external_id="N2",
                survey_type="nps",
                score=8,
                answered_at=utc(D - timedelta(days=10)),
            )
        )
        s.add(
            Contact(
                account_id=b.id,
                source="t",
                external_id="C1",
                role="champion",
                left_at=utc(D - timedelta(days=5)),
            )
        )
        s.add(
            Activity(
                account_id=a.id,
                source="t",
                external_id="A1",
                kind="meeting",
                occurred_at=utc(D - timedelta(days=30)),
            )
        )
    rows = []
    # a: active on 10 distinct days in the last 28 days; b: on 5 days 10 days before D-28 only
    for i in range(10):
        rows.append((1, "u1", "login", utc(D - timedelta(days=i * 2))))
    for i in range(5):
        rows.append((2, "v1", "login", utc(D - timedelta(days=40 + i))))
    append_events(
        pa.Table.from_pylist(
            [
                {
                    "event_id": f"e{i}",
                    "account_id": acc,
                    "user_id": u,
                    "event": e,
                    "ts": ts,
                    "properties": None,
                }
                for i, (acc, u, e, ts) in enumerate(rows)
            ],
            schema=EVENT_SCHEMA,
        )
    )


def score(days: list[date]) -> dict[int, dict]:
    with session_scope() as s:
        service.score_days(s, days)
    return {r["account_id"]: r for r in snapshots.read(start=days[-1], end=days[-1]).to_pylist()}


def test_raw_values_and_exact_scores(world: None) -> None:
    rows = score([D])
    assert set(rows) == {1, 2}  # account 3 is no longer a customer
    a, b = rows[1], rows[2]
    # a: active_days 10 -> 50; no tickets -> 100; no NPS -> skipped; (2*50 + 1*100) / 3
    assert a["raw__active_days_28d"] == 10
    assert a["raw__tickets_30d"] == 0
    assert a["raw__latest_nps"] is None
    assert a["score"] == pytest.approx(200 / 3)
    assert a["band"] == "yellow"
    assert a["weight__latest_nps"] == 0.0
    assert a["weight__active_days_28d"] == pytest.approx(2 / 3)
    # b: no usage in 28 days -> 0; 2 tickets -> 50; NPS 8 -> 50; (2*0 + 50 + 50) / 4 = 25
    assert b["raw__active_days_28d"] == 0
    assert b["raw__tickets_30d"] == 2
    assert b["raw__latest_nps"] == 8
    assert b["score"] == 25.0
    assert b["band"] == "red"
    assert b["mrr"] == 30000


def test_override_applies_until_it_expires(world: None) -> None:
    with session_scope() as s:
        service.set_override(
            s,
            2,
            80.0,
            "新経営陣と合意済み / new exec sponsor",
            expires_on=D,
            starts_on=D - timedelta(days=7),
        )
    before = score([D - timedelta(days=1)])[2]
    assert before["score"] == 80.0 and before["band"] == "green" and before["overridden"]
    assert before["computed_score"] is not None and before["computed_score"] < 50
    on_expiry = score([D])[2]
    assert on_expiry["overridden"] is False
    assert on_expiry["score"] == 25.0


def test_explain_sums_to_the_score_change(world: None) -> None:
    days = [D - timedelta(days=28), D]
    with session_scope() as s:
        service.score_days(s, days)
    e = service.explain(2, days[0], days[1])
    assert e.day_from == days[0] and e.day_to == days[1]
    total = sum(c.points for c in e.changes)
    assert total == pytest.approx(e.score_to - e.score_from)
    usage = next(c for c in e.changes if c.measure == "active_days_28d")
    assert usage.raw_from == 5 and usage.raw_to == 0
    assert usage.points < 0


def test_rescoring_a_day_replaces_it_whole(world: None) -> None:
    score([D])
    score([D])
    assert snapshots.read(start=D, end=D).num_rows == 2
    assert snapshots.scored_days() == [D]


def test_account_health_trend_compares_with_7_and_28_days_before(world: None) -> None:
    with session_scope() as s:
        service.score_days(s, [D - timedelta(days=28), D])
    h = service.account_health(2)
    assert h is not None and h.day == D
    assert h.score == 25.0
    # 28 days before: active days 5 -> 25, no tickets in 30 days -> 100, NPS 6 -> 0
    assert h.trend_28d == "down"
    assert h.trend_7d is None  # D-7 was not scored
    assert h.measures["latest_nps"]["raw"] == 8
