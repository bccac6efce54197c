"""Health end to end on a hand-made world: raw values, exact scores, overrides, explanations."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from banso import schema
from banso.accounts.models import Account, Contact
from banso.activities.models import Activity
from banso.db import session_scope
from banso.flows.merge import merge_accounts
from banso.health import service, snapshots
from banso.health.models import HealthCurrent
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


def current_rows() -> dict[int, tuple]:
    with session_scope() as s:
        return {
            h.account_id: (h.day, round(h.score, 4), h.band, h.overridden, h.trend_7d, h.trend_28d)
            for h in s.scalars(select(HealthCurrent))
        }


def test_health_current_follows_the_newest_day_only(any_db: str, world: None) -> None:
    with session_scope() as s:
        service.score_days(s, [D - timedelta(days=28), D])
    assert current_rows() == {
        1: (D, 66.6667, "yellow", False, None, "up"),
        2: (D, 25.0, "red", False, None, "down"),
    }
    with session_scope() as s:
        service.set_override(s, 2, 80.0, "new sponsor", expires_on=D + timedelta(days=1),
                             starts_on=D - timedelta(days=3))  # fmt: skip
        service.score_days(s, [D - timedelta(days=1)])  # an older day: current stays D's
    assert snapshots.read(account_id=2, start=D - timedelta(days=1), end=D - timedelta(days=1))[
        "score"
    ].to_pylist() == [80.0]
    assert current_rows()[2] == (D, 25.0, "red", False, None, "down")
    with session_scope() as s:
        service.score_days(s, [D - timedelta(days=7)])  # the day the 7-day trend compares with
    assert current_rows()[2][4] == service.account_health(2).trend_7d == "down"  # type: ignore[union-attr]
    with session_scope() as s:
        service.score_days(s, [D])
    assert current_rows()[2] == (D, 80.0, "green", True, "up", "up")


def test_explain_reads_two_days_and_equals_the_full_range(world: None) -> None:
    days = [D - timedelta(days=28), D - timedelta(days=14), D]
    with session_scope() as s:
        service.score_days(s, days)
    rows = snapshots.read(account_id=2, start=days[0], end=days[-1]).to_pylist()
    first, last = rows[0], rows[-1]
    # a range starting on an unscored day starts on the first scored day in it
    assert service.explain(2, D - timedelta(days=20), D).day_from == days[1]
    # the day in between is not read: a broken file there changes nothing
    middle = snapshots.snapshot_dir() / f"date={days[1].isoformat()}" / "scores.parquet"
    middle.write_bytes(b"not parquet")
    e = service.explain(2, days[0], days[-1])
    assert (e.day_from, e.day_to) == (days[0], days[-1])
    assert (e.score_from, e.score_to) == (first["computed_score"], last["computed_score"])
    expected = {
        m: last[f"weight__{m}"] * (last[f"score__{m}"] or 0.0)
        - first[f"weight__{m}"] * (first[f"score__{m}"] or 0.0)
        for m in ("active_days_28d", "tickets_30d", "latest_nps")
    }
    assert {c.measure: c.points for c in e.changes} == expected
    assert sum(expected.values()) == pytest.approx(e.score_to - e.score_from)
    assert e.renormalised == []


def test_snapshot_is_sorted_in_row_groups_and_read_by_account(banso_home: Path) -> None:
    ids = list(range(25_000, 0, -1))  # written in reverse: the file is sorted anyway
    table = pa.table(
        {
            "account_id": pa.array(ids, pa.int64()),
            "day": pa.array([D] * len(ids), pa.date32()),
            "score": pa.array([i / 1000 for i in ids], pa.float64()),
        }
    )
    path = snapshots.write_day(D, table)
    meta = pq.ParquetFile(path).metadata
    ranges = [
        (meta.row_group(g).column(0).statistics.min, meta.row_group(g).column(0).statistics.max)
        for g in range(meta.num_row_groups)
    ]
    assert ranges == [(1, 10_000), (10_001, 20_000), (20_001, 25_000)]
    assert snapshots.read_account_day(12_345, D) == {
        "account_id": 12_345,
        "day": D,
        "score": 12.345,
    }
    assert snapshots.read_account_day(25_001, D) is None
    rescored = table.set_column(2, "score", pa.array([1.0] * len(ids), pa.float64()))
    snapshots.write_day(D, rescored)  # a rescored day is read afresh, not from the cache
    assert snapshots.read_account_day(12_345, D) == {"account_id": 12_345, "day": D, "score": 1.0}
    assert snapshots.read_account_day(1, D + timedelta(days=1)) is None


def test_merging_an_account_drops_its_current_health(any_db: str, world: None) -> None:
    with session_scope() as s:
        service.score_days(s, [D])
    with session_scope() as s:
        merge_accounts(s, 1, 2)
    assert set(current_rows()) == {1}
