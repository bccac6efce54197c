"""``POST /api/events``: the store refuses implausible times, and the API answers 422 naming the
event and field; an id sent again with another day is not stored twice."""

from __future__ import annotations

from fastapi.testclient import TestClient

from banso.usage.store import event_files
from web.test_api import _token
from web.world import World


def _event(event_id: str, account: int, ts: str) -> dict[str, object]:
    return {"event_id": event_id, "account_id": account, "event": "login", "ts": ts}


def test_a_time_outside_the_window_is_422_with_index_and_field(
    client: TestClient, world: World
) -> None:
    batch = {"events": [_event("ok", world.midori, "2026-04-01T09:30:00+09:00"),
                        _event("old", world.midori, "0001-01-01T00:00:00+00:00")]}  # fmt: skip
    response = client.post("/api/events", json=batch, headers=_token("ops"))
    assert response.status_code == 422
    [problem] = response.json()["errors"]
    assert problem["field"] == "events[1].ts"
    assert "1990-01-01" in problem["reason"]
    assert event_files() == []


def test_a_time_with_no_utc_instant_is_422_too(client: TestClient, world: World) -> None:
    for ts in ("0001-01-01T00:00:00+09:00", "9999-12-31T23:00:00-05:00"):
        batch = {"events": [_event("edge", world.midori, ts)]}
        response = client.post("/api/events", json=batch, headers=_token("ops"))
        assert response.status_code == 422, ts
        assert response.json()["errors"][0]["field"] == "events[0].ts"


def test_an_id_sent_again_with_another_day_is_stored_once(client: TestClient, world: World) -> None:
    auth = _token("ops")
    first = {"events": [_event("e-1", world.midori, "2026-04-01T09:30:00+09:00")]}
    assert client.post("/api/events", json=first, headers=auth).json()["stored"] == 1
    later = {"events": [_event("e-1", world.midori, "2026-04-03T09:30:00+09:00")]}
    assert client.post("/api/events", json=later, headers=auth).json() == {
        "received": 1, "stored": 0}  # fmt: skip
    assert [f.parent.name for f in event_files()] == ["date=2026-04-01"]
