"""A late import into an old day marks exactly the days and accounts whose health it changes, and
``banso run`` rescores only those: the snapshots then equal a full recomputation row for row."""

from __future__ import annotations

from datetime import date, timedelta

import pyarrow as pa

from banso.db import session_scope
from banso.flows.daily_run import run_pipeline
from banso.health import service, snapshots
from banso.usage import changes
from banso.usage.store import EVENT_SCHEMA, append_events, event_files
from health.test_health_service import D, utc, world  # noqa: F401  (the fixture)

FIRST = D - timedelta(days=40)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _late(event_id: str, account: int, day: date) -> None:
    row = {"event_id": event_id, "account_id": account, "user_id": "late", "event": "api.call",
           "ts": utc(day), "properties": None}  # fmt: skip
    assert append_events(pa.Table.from_pylist([row], schema=EVENT_SCHEMA)) == 1


def _snapshot_rows(days: list[date]) -> dict[date, list[dict]]:
    out = {}
    for day in days:
        table = snapshots.day_table(day)
        assert table is not None, day
        rows = [{k: v for k, v in r.items()} for r in table.to_pylist()]
        out[day] = sorted(rows, key=lambda r: r["account_id"])
    return out


def _scored_world() -> None:
    """41 days scored, then the day's run twice (the first sets segments after scoring, so the
    second scores the day again) and a third that keeps it: the ledger of seen files is set."""
    with session_scope() as s:
        service.score_days(s, _days(FIRST, D))
    for _ in range(2):
        run_pipeline(D, send=False)
    summary = run_pipeline(D, send=False)
    assert (summary.health_unchanged, summary.rescored) == (True, {})


def test_a_late_import_marks_exactly_the_days_its_accounts_change(world: None) -> None:  # noqa: F811
    _scored_world()
    before = event_files()
    # a (id 1) was active every other day from D-18 to D; D-11 is not one of them, and its
    # next active day is D-10, so only the 56-day windows change: D-11..D (D is the last day)
    _late("late-a", 1, D - timedelta(days=11))
    # b (id 2) was last active on D-40: an event on D-30 changes its windows D-30..D
    _late("late-b", 2, D - timedelta(days=30))
    fresh = changes.new_files({changes.key(f) for f in before}, event_files())
    stale = changes.stale_days(fresh, "Asia/Tokyo", D, {})
    assert stale == {
        **{d: {2} for d in _days(D - timedelta(days=30), D - timedelta(days=12))},
        **{d: {1, 2} for d in _days(D - timedelta(days=11), D)},
    }
    # an event 100 days before D for a, inactive then until D-18: its windows D-100..D-45,
    # and its days since last activity up to the day before the next active day, D-19
    old = D - timedelta(days=100)
    _late("older-a", 1, old)
    fresh = changes.new_files({changes.key(f) for f in before}, event_files())
    marked = changes.stale_days(fresh, "Asia/Tokyo", D, {})
    assert sorted(d for d, a in marked.items() if 1 in a and d < D - timedelta(days=11)) == (
        _days(old, D - timedelta(days=19))
    )


def test_the_run_rescores_only_those_and_equals_a_full_recomputation(world: None) -> None:  # noqa: F811
    _scored_world()
    _late("late-a", 1, D - timedelta(days=11))
    _late("late-b", 2, D - timedelta(days=30))

    summary = run_pipeline(D, send=False)

    # b is scored (a customer), c churned before D: account-days of a and b only
    expected = {d: 1 for d in _days(D - timedelta(days=30), D - timedelta(days=12))}
    expected |= {d: 2 for d in _days(D - timedelta(days=11), D)}
    assert summary.rescored == expected
    assert summary.scored_days == [] and summary.health_unchanged  # D was rescored in part
    incremental = _snapshot_rows(_days(FIRST, D))
    with session_scope() as s:
        service.score_days(s, _days(FIRST, D))
    full = _snapshot_rows(_days(FIRST, D))
    assert incremental == full
    # the late events did change the health of the marked days
    assert full[D - timedelta(days=11)][0]["raw__active_days_28d"] == 5
    # and nothing is left to do
    summary = run_pipeline(D, send=False)
    assert (summary.rescored, summary.scored_days, summary.health_unchanged) == ({}, [], True)


def test_a_compaction_changes_no_health(world: None) -> None:  # noqa: F811
    from banso.usage import compact

    _scored_world()
    # a late event's file beside the day's own, then both merged before the next run
    _late("late-a", 1, D - timedelta(days=2))
    run_pipeline(D, send=False)
    kept = _snapshot_rows([D])
    assert compact.compact(grace=0).days == 1

    summary = run_pipeline(D, send=False)

    assert (summary.rescored, summary.scored_days, summary.health_unchanged) == ({}, [], True)
    assert _snapshot_rows([D]) == kept


def test_events_set_aside_score_the_day_whole(world: None) -> None:  # noqa: F811
    _scored_world()
    [gone] = [f for f in event_files() if f.parent.name == f"date={D - timedelta(days=2)}"]
    gone.write_bytes(b"not parquet")  # the listing quarantines it: its rows go away

    summary = run_pipeline(D, send=False)

    assert summary.scored_days == [D] and not summary.health_unchanged
