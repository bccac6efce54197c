"""Usage features on hand-made events: exact values for each window and trend."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pytest

from banso.usage.metrics import UsageWindow
from banso.usage.service import compute_features
from banso.usage.store import EVENT_SCHEMA, append_events

AS_OF = date(2024, 3, 31)


def jst(day: date, hour: int = 10) -> datetime:
    """``hour`` o'clock Tokyo time on ``day``, as a UTC instant."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - timedelta(hours=9)


def events(rows: list[tuple[int, str | None, str, datetime]]) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {
                # unique in the store, which keeps one event per id across every append
                "event_id": f"e{i}-{a}-{ts.isoformat()}",
                "account_id": a,
                "user_id": u,
                "event": e,
                "ts": ts,
                "properties": None,
            }
            for i, (a, u, e, ts) in enumerate(rows)
        ],
        schema=EVENT_SCHEMA,
    )


@pytest.fixture
def store() -> None:
    d = AS_OF
    rows = [
        # account 1: two users this week, one of them also earlier in the 28 days
        (1, "u1", "login", jst(d)),
        (1, "u1", "report.view", jst(d, 11)),
        (1, "u2", "login", jst(d - timedelta(days=6))),
        (1, "u2", "workflow.run", jst(d - timedelta(days=6), 12)),
        (1, "u1", "login", jst(d - timedelta(days=20))),
        # prior 28 days (D-55 .. D-28): three logins by u1 on two days
        (1, "u1", "login", jst(d - timedelta(days=28))),
        (1, "u1", "login", jst(d - timedelta(days=28), 15)),
        (1, "u1", "login", jst(d - timedelta(days=55))),
        # outside every window
        (1, "u3", "login", jst(d - timedelta(days=56))),
        # 00:30 on 1 April in Tokyo is still 31 March in UTC but after the as-of day: excluded
        (1, "u4", "login", datetime(2024, 3, 31, 15, 30, tzinfo=UTC)),
        # 08:00 on 25 March in Tokyo (23:00 UTC on the 24th) is inside the 7 days
        (2, "v1", "api.call", datetime(2024, 3, 24, 23, 0, tzinfo=UTC)),
        # account 3: last seen 40 days ago
        (3, "w1", "login", jst(d - timedelta(days=40))),
    ]
    append_events(events(rows))


def by_account(table: pa.Table) -> dict[int, dict[str, object]]:
    return {row["account_id"]: row for row in table.to_pylist()}


def test_windows_counts_and_trends(store: None) -> None:
    f = by_account(compute_features(AS_OF))
    a = f[1]
    assert a["active_users_7d"] == 2
    assert a["active_users_28d"] == 2
    assert a["active_days_7d"] == 2
    assert a["active_days_28d"] == 3
    assert a["wau_mau"] == 1.0
    assert a["logins_7d"] == 2
    assert a["logins_28d"] == 3
    assert a["events_28d"] == 5
    assert a["distinct_features_28d"] == 2  # report.view, workflow.run
    assert a["advanced_features_28d"] == 1
    assert a["advanced_events_28d"] == 1
    assert a["events_per_active_user_28d"] == 2.5
    assert a["days_since_last_activity"] == 0
    assert a["logins_28d_prior28d"] == 3
    assert a["logins_28d_trend"] == 0.0
    assert a["active_days_28d_prior28d"] == 2
    assert a["active_days_28d_trend"] == 0.5
    assert a["active_users_28d_trend"] == 1.0
    assert a["events_28d_trend"] == pytest.approx(2 / 3)
    assert a["distinct_features_28d_trend"] is None  # no features in the prior window


def test_local_day_boundaries_in_tokyo(store: None) -> None:
    f = by_account(compute_features(AS_OF))
    b = f[2]
    assert b["active_days_7d"] == 1
    assert b["advanced_events_28d"] == 1
    assert b["days_since_last_activity"] == 6  # 25 March in Tokyo
    assert b["logins_7d"] == 0


def test_inactive_account_has_zero_counts_and_days_since(store: None) -> None:
    c = by_account(compute_features(AS_OF))[3]
    assert c["active_users_28d"] == 0
    assert c["wau_mau"] is None
    assert c["events_per_active_user_28d"] is None
    assert c["days_since_last_activity"] == 40
    assert c["active_users_28d_prior28d"] == 1
    assert c["active_users_28d_trend"] == -1.0


def test_empty_store_gives_no_rows() -> None:
    assert compute_features(AS_OF).num_rows == 0


def test_window_bounds_are_local_midnights() -> None:
    w = UsageWindow(AS_OF, "Asia/Tokyo")
    assert w.end == datetime(2024, 3, 31, 15, 0, tzinfo=UTC)
    assert w.start(7) == datetime(2024, 3, 24, 15, 0, tzinfo=UTC)
    assert w.utc_offset_seconds == 9 * 3600


@pytest.mark.spark
@pytest.mark.xdist_group("spark")
def test_spark_gives_the_same_features(store: None) -> None:
    duck = compute_features(AS_OF, engine="duckdb")
    spark = compute_features(AS_OF, engine="spark")
    assert spark.sort_by("account_id").to_pylist() == duck.to_pylist()


def test_many_days_at_once_equal_one_day_at_a_time(store: None) -> None:
    import ibis

    from banso.usage.metrics import active_day_spans, daily_activity, usage_features_for_days
    from banso.usage.service import duckdb_connection, events_table

    con = duckdb_connection()
    events = events_table(con)
    days = [AS_OF - timedelta(days=k) for k in (0, 3, 30, 45)]
    numbers = [(d - date(1970, 1, 1)).days for d in days]
    offset = 9 * 3600
    daily = daily_activity(events, min(numbers) - 55, max(numbers), offset)
    spans = active_day_spans(events, max(numbers), offset)
    as_of = ibis.memtable({"as_of": numbers})
    many = usage_features_for_days(daily, spans, as_of).to_pyarrow().to_pylist()
    for d, n in zip(days, numbers, strict=True):
        one = compute_features(d).to_pylist()
        batch = [{k: v for k, v in r.items() if k != "as_of"} for r in many if r["as_of"] == n]
        assert batch == one, d


def test_events_of_a_merged_account_count_for_the_account_it_was_merged_into(
    store: None,
) -> None:
    from banso.usage.service import duckdb_connection, events_table, resolve_merges

    assert resolve_merges({3: 2, 2: 1}) == {3: 1, 2: 1}
    con = duckdb_connection()
    events = events_table(con, merges={3: 2, 2: 1})
    rows = events.group_by("account_id").aggregate(n=events.count()).to_pyarrow().to_pylist()
    assert rows == [{"account_id": 1, "n": 12}]


def test_last_activity_looks_back_365_days(store: None) -> None:
    append_events(
        events(
            [
                (4, "x1", "login", jst(AS_OF - timedelta(days=364))),
                (5, "y1", "login", jst(AS_OF - timedelta(days=365))),
            ]
        )
    )
    f = by_account(compute_features(AS_OF))
    assert f[4]["days_since_last_activity"] == 364
    assert 5 not in f
