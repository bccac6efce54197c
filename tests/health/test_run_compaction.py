"""``banso run`` compacts the event store first when enough small files have piled up, says so,
and scores the day exactly as it would have without compacting."""

from __future__ import annotations

from datetime import timedelta

import pyarrow as pa
import pytest

from banso.usage.store import EVENT_SCHEMA, append_events, event_files
from health.test_health_service import D, score, utc, world  # noqa: F401  (the fixture)


def _late_single_events() -> None:
    """One event per append (the API's smallest batch) on D, D-1, D-2 and D-3: D and D-2
    already hold a file, so two files could be merged away."""
    for i in range(4):
        row = {"event_id": f"x{i}", "account_id": 1, "user_id": "u2", "event": "report.view",
               "ts": utc(D - timedelta(days=i), hour=5), "properties": None}  # fmt: skip
        assert append_events(pa.Table.from_pylist([row], schema=EVENT_SCHEMA)) == 1


def test_run_compacts_past_the_threshold_and_scores_the_same(
    cli,  # type: ignore[no-untyped-def]
    world: None,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _late_single_events()
    files = len(event_files())
    before = score([D])
    monkeypatch.setenv("BANSO_EVENTS_COMPACT_FILES", "1")

    result = cli("run", "--as-of", D.isoformat(), "--no-send")

    assert result.exit_code == 0, result.stderr
    assert "Event store: 4 files of 2 days compacted into one per day (4 events)." in (
        result.stdout
    )
    assert len(event_files()) == files - 2
    assert score([D]) == before


def test_run_leaves_the_store_alone_under_the_threshold(cli, world: None) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    _late_single_events()
    files = event_files()
    result = cli("run", "--as-of", D.isoformat(), "--no-send")
    assert result.exit_code == 0, result.stderr
    assert "Event store" not in result.stdout
    assert event_files() == files
