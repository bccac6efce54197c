"""``banso run`` on a day whose inputs have not changed since it was scored keeps the day's
health as it is, without computing a single feature; any write to what the score reads (an app
table, an event file of the look-back, a scorecard) makes it score the day again."""

from __future__ import annotations

from datetime import timedelta

import pyarrow as pa

from banso.db import session_scope
from banso.flows.daily_run import run_pipeline
from banso.health import service, snapshots
from banso.health.models import CsmPulse
from banso.usage.store import EVENT_SCHEMA, append_events
from health.test_health_service import CARD, D, utc, world  # noqa: F401  (the fixture)


def _snapshot_identity() -> tuple[int, int]:
    stat = (snapshots.snapshot_dir() / f"date={D}" / "scores.parquet").stat()
    return stat.st_ino, stat.st_mtime_ns


def _event(event_id: str, day_offset: int) -> None:
    row = {"event_id": event_id, "account_id": 1, "user_id": "u9", "event": "report.view",
           "ts": utc(D + timedelta(days=day_offset)), "properties": None}  # fmt: skip
    assert append_events(pa.Table.from_pylist([row], schema=EVENT_SCHEMA)) == 1


def _run() -> tuple[bool, list]:
    summary = run_pipeline(D, send=False)
    return summary.health_unchanged, summary.scored_days


def _first_runs() -> None:
    """The day's first run, then a second: the first sets the accounts' segments and stages
    after scoring, a write to a table the score reads, so the second scores the day again."""
    unchanged, scored = _run()
    assert not unchanged and D in scored
    assert _run() == (False, [D])


def test_a_day_with_nothing_new_is_not_scored_again(world: None, monkeypatch) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    _first_runs()
    kept = _snapshot_identity()

    def no_features(*_args: object, **_kw: object) -> None:
        raise AssertionError("features computed for a day with nothing new")

    monkeypatch.setattr(service.HealthInputs, "raw_values", no_features)
    assert _run() == (True, [])
    assert _snapshot_identity() == kept


def test_each_kind_of_change_scores_the_day_again(world: None) -> None:  # noqa: F811
    _first_runs()
    assert _run() == (True, [])

    # a write to an app table the score reads
    with session_scope() as s:
        s.add(CsmPulse(account_id=1, rating=2, rated_on=D, expires_on=D + timedelta(days=30)))
    assert _run() == (False, [D])
    assert _run() == (True, [])

    # a late event 200 days back: a's next active day (D-18) comes before D's windows, so
    # D's health cannot change; the day is kept (with its inputs' new fingerprint)
    _event("late", -200)
    assert _run() == (True, [])
    # a late event inside D's windows: only its account is rescored on D, nothing scored whole
    _event("late-2", -3)
    summary = run_pipeline(D, send=False)
    assert (summary.rescored[D], summary.scored_days) == (1, [])
    assert _run() == (True, [])

    # events after the day cannot change it
    _event("later", 3)
    assert _run() == (True, [])

    # a changed scorecard
    path = snapshots.snapshot_dir().parent / "config" / "scorecards" / "small.yaml"
    path.write_text(CARD.replace("name:", "# edited\nname:", 1), encoding="utf-8")
    assert _run() == (False, [D])
    assert _run() == (True, [])
