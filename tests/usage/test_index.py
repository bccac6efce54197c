"""The kept month summaries of the last activity give exactly what the events give."""

from __future__ import annotations

import os
import random
import time
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa
import pytest

from banso.usage import index
from banso.usage.metrics import DEFAULT_ADVANCED_FEATURES, UsageWindow, usage_features
from banso.usage.service import compute_features, duckdb_connection, events_table
from banso.usage.store import EVENT_SCHEMA, append_events

AS_OF = date(2025, 6, 30)


def _events(rows: list[tuple[int, datetime]], tag: str) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {"event_id": f"{tag}{i}", "account_id": a, "user_id": f"u{a}", "event": "login",
             "ts": ts, "properties": None}
            for i, (a, ts) in enumerate(rows)
        ],
        schema=EVENT_SCHEMA,
    )  # fmt: skip


def _raw_features(merges: dict[int, int] | None = None) -> list[dict]:
    """The features from the events alone: no summaries, no file pruning."""
    con = duckdb_connection()
    events = events_table(con, merges=merges or {})
    window = UsageWindow(AS_OF, "Asia/Tokyo")
    return usage_features(events, window, DEFAULT_ADVANCED_FEATURES).to_pyarrow().to_pylist()


@pytest.fixture
def history() -> None:
    """A year and a half of sparse events, many on UTC month edges and Tokyo midnights."""
    rng = random.Random(11)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    rows = [
        (rng.randint(1, 40), start + timedelta(seconds=rng.randint(0, 540 * 86400)))
        for _ in range(3000)
    ]
    edges = [
        (41, datetime(2025, 1, 31, 23, 59, 59, tzinfo=UTC)),  # last second of a UTC month
        (42, datetime(2025, 2, 1, 0, 0, 0, tzinfo=UTC)),  # first second of the next
        (43, datetime(2024, 12, 31, 15, 0, 0, tzinfo=UTC)),  # Tokyo midnight on New Year
        (44, datetime(2024, 7, 1, 0, 0, 0, tzinfo=UTC)),  # just inside the 365 days
        (44, datetime(2024, 6, 30, 14, 59, 59, tzinfo=UTC)),  # just outside
    ]
    append_events(_events(rows + edges, "h"))


def test_features_from_summaries_equal_features_from_events(history: None) -> None:
    kept = compute_features(AS_OF).to_pylist()
    assert kept == _raw_features()
    assert {r["account_id"] for r in kept} >= {41, 42, 43, 44}
    assert len(list(index.index_dir().glob("month=*/*.parquet"))) >= 10


def test_a_late_import_into_an_old_month_is_seen(history: None) -> None:
    compute_features(AS_OF)
    summary = index.month_summary(date(2024, 9, 1))
    assert summary is not None
    # an account last seen long ago turns out to have been active in September 2024
    append_events(
        _events(
            [(41, datetime(2024, 9, 15, 3, tzinfo=UTC)), (99, datetime(2024, 9, 2, tzinfo=UTC))],
            "late",
        )
    )
    fresh = index.month_summary(date(2024, 9, 1))
    assert fresh != summary
    assert summary.exists()  # a reader may have listed it a moment ago
    os.utime(summary, (time.time() - index.STALE_SUMMARY_SECONDS - 1,) * 2)
    assert index.month_summary(date(2024, 9, 1)) == fresh
    assert not summary.exists()  # gone once no reader can still be using it
    features = {r["account_id"]: r for r in compute_features(AS_OF).to_pylist()}
    assert features == {r["account_id"]: r for r in _raw_features()}
    assert features[99]["days_since_last_activity"] == (AS_OF - date(2024, 9, 2)).days


def test_merged_accounts_take_the_latest_of_both(
    history: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from banso.usage import service

    monkeypatch.setattr(service, "merged_accounts", lambda: {44: 43, 42: 41})
    kept = compute_features(AS_OF).to_pylist()
    assert kept == _raw_features({44: 43, 42: 41})
    assert {42, 44}.isdisjoint(r["account_id"] for r in kept)


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (
            datetime(2024, 7, 1, tzinfo=UTC),
            datetime(2024, 9, 1, tzinfo=UTC),
            [date(2024, 7, 1), date(2024, 8, 1)],
        ),
        (
            datetime(2024, 6, 30, 15, tzinfo=UTC),
            datetime(2024, 8, 31, 15, tzinfo=UTC),
            [date(2024, 7, 1)],
        ),
        (datetime(2024, 7, 2, tzinfo=UTC), datetime(2024, 8, 30, tzinfo=UTC), []),
        (datetime(2024, 12, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC), [date(2024, 12, 1)]),
    ],
)
def test_whole_months_lie_inside_the_range(
    start: datetime, end: datetime, months: list[date]
) -> None:
    assert index.whole_months(start, end) == months
