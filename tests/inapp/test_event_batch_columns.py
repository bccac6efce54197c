"""The column-at-a-time check of a good events batch (``_resolve_good_batch``, the API's fast
path) gives the same accounts and UTC times as the per-event check, and hands every batch with
a problem to the per-event check (which words the errors)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from banso.db import session_scope
from banso.ingest.event_batches import (
    EventIn,
    _resolve_good_batch,
    _table,
    _utc_times,
    resolve_batch,
)
from inapp.conftest import SOURCE
from web.world import World


def _events(*rows: dict[str, object]) -> list[EventIn]:
    return [EventIn.model_validate({"event": "login", **row}) for row in rows]


def test_a_good_batch_by_product_ids_resolves_like_the_per_event_check(world: World) -> None:
    events = _events(
        {"event_id": "a", "account": "YAMADA-1", "ts": "2026-04-01T09:30:00.123456+09:00"},
        {"event_id": "b", "account": "MIDORI-2", "ts": "2026-04-01T00:30:00Z", "user_id": "u"},
        {"event_id": "c", "account": "YAMADA-1", "ts": "2026-03-31T19:30:00-05:00",
         "properties": {"b": 1, "a": "日本"}},
    )  # fmt: skip
    with session_scope() as s:
        accounts, times = _resolve_good_batch(s, events, SOURCE)
        slow_accounts, problems = resolve_batch(s, events, SOURCE)
    assert problems == []
    assert accounts == slow_accounts == [world.yamada, world.midori, world.yamada]
    assert times is not None
    assert times.to_pylist() == [
        datetime(2026, 4, 1, 0, 30, 0, 123456, tzinfo=UTC),
        datetime(2026, 4, 1, 0, 30, tzinfo=UTC),
        datetime(2026, 4, 1, 0, 30, tzinfo=UTC),
    ]
    assert times.equals(_utc_times(events))
    table = _table(events, accounts, times)
    assert table["properties"].to_pylist() == [None, None, '{"a": "日本", "b": 1}']
    assert table["user_id"].to_pylist() == [None, "u", None]


def test_a_good_batch_by_banso_ids_resolves_too(world: World) -> None:
    events = _events(
        {"event_id": "a", "account_id": world.midori, "ts": "2026-04-01T09:30:00+09:00"},
        {"event_id": "b", "account_id": world.yamada, "ts": "2026-04-01T09:30:00+09:00"},
    )
    with session_scope() as s:
        accounts, times = _resolve_good_batch(s, events, None)
    assert accounts == [world.midori, world.yamada]
    assert times is not None
    assert times.to_pylist() == [datetime(2026, 4, 1, 0, 30, tzinfo=UTC)] * 2
    assert _table(events, accounts, times)["properties"].null_count == 2


@pytest.mark.parametrize(
    "rows",
    [
        [{"account": "NOPE-7", "ts": "2026-04-01T09:30:00+09:00"}],  # unknown product id
        [{"account_id": 999_999, "ts": "2026-04-01T09:30:00+09:00"}],  # unknown Banso id
        [{"ts": "2026-04-01T09:30:00+09:00"}],  # neither
        [{"account": "YAMADA-1", "account_id": 1, "ts": "2026-04-01T09:30:00+09:00"}],  # both
        [{"account": "YAMADA-1", "ts": "2026-04-01T09:30:00"}],  # no time zone
        [{"account": "YAMADA-1", "ts": "1989-12-31T23:59:59Z"}],  # before the window
        [{"account": "YAMADA-1", "ts": "0001-01-01T00:00:00+09:00"}],  # no UTC instant
        [{"account": "YAMADA-1", "ts": "9999-12-31T23:00:00-09:00"}],  # after year 9999 in UTC
    ],
)
def test_a_batch_with_a_problem_goes_to_the_per_event_check(
    world: World, rows: list[dict[str, object]]
) -> None:
    events = _events(*({"event_id": f"e{i}", **row} for i, row in enumerate(rows)))
    with session_scope() as s:
        assert _resolve_good_batch(s, events, SOURCE) == (None, None)
        _accounts, problems = resolve_batch(s, events, SOURCE)
    assert problems  # worded per event, as before


def test_product_ids_without_a_source_go_to_the_per_event_check(world: World) -> None:
    events = _events({"event_id": "a", "account": "YAMADA-1", "ts": "2026-04-01T09:30:00Z"})
    with session_scope() as s:
        assert _resolve_good_batch(s, events, None) == (None, None)
        assert resolve_batch(s, events, None)[1][0]["field"] == "events[0].account"
