"""``POST /api/events`` with the product's own account ids (the API token's identity source),
per-event errors for unknown ids, and 429 with ``Retry-After`` while the store is busy."""

from __future__ import annotations

import fcntl

import duckdb
import pytest
from fastapi.testclient import TestClient

from banso import config
from banso.db import session_scope
from banso.usage import store
from banso.users.tokens import create_token
from inapp.conftest import SOURCE
from web.world import EMAILS, World


def _token(source: str | None) -> dict[str, str]:
    with session_scope() as s:
        _row, value = create_token(s, EMAILS["ops"], "product", ["events"], None, source=source)
    return {"Authorization": f"Bearer {value}"}


def _stored() -> list[tuple[str, int, str | None]]:
    files = [str(f) for f in store.event_files()]
    if not files:
        return []
    sql = "SELECT event_id, account_id, user_id FROM read_parquet($f) ORDER BY event_id"
    return [tuple(r) for r in duckdb.connect().execute(sql, {"f": files}).fetchall()]  # type: ignore[misc]


def _event(event_id: str, **naming: object) -> dict[str, object]:
    return {"event_id": event_id, "event": "login", "ts": "2026-04-01T09:30:00+09:00", **naming}


def test_events_named_by_the_products_ids_land_on_the_banso_accounts(
    client: TestClient, world: World
) -> None:
    batch = {
        "events": [
            _event("p-1", account="YAMADA-1", user_id="u-1"),
            _event("p-2", account="MIDORI-2", user_id="u-9"),
            _event("p-3", account_id=world.midori),  # Banso's id still works
        ]
    }
    auth = _token(SOURCE)
    first = client.post("/api/events", json=batch, headers=auth)
    assert first.status_code == 200, first.text
    assert first.json() == {"received": 3, "stored": 3}
    assert client.post("/api/events", json=batch, headers=auth).json() == {
        "received": 3,
        "stored": 0,
    }
    assert _stored() == [
        ("p-1", world.yamada, "u-1"),
        ("p-2", world.midori, "u-9"),
        ("p-3", world.midori, None),
    ]


def test_unknown_product_ids_reject_the_batch_naming_each_event(
    client: TestClient, world: World
) -> None:
    batch = {
        "events": [
            _event("ok", account="YAMADA-1"),
            _event("unknown", account="NOPE-7"),
            _event("both", account="YAMADA-1", account_id=world.yamada),
            _event("neither"),
        ]
    }
    response = client.post("/api/events", json=batch, headers=_token(SOURCE))
    assert response.status_code == 422
    either = "Give either account_id (Banso's id) or account (the product's id)."
    assert response.json()["errors"] == [
        {"field": "events[1].account", "reason": "No account has the id NOPE-7 in source product."},
        {"field": "events[2].account", "reason": either},
        {"field": "events[3].account", "reason": either},
    ]
    assert _stored() == []


def test_a_token_without_a_source_cannot_use_product_ids(client: TestClient, world: World) -> None:
    response = client.post(
        "/api/events", json={"events": [_event("x", account="YAMADA-1")]}, headers=_token(None)
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "events[0].account"
    assert "--source" in response.json()["errors"][0]["reason"]
    # an identity of another source does not count either
    other = client.post(
        "/api/events", json={"events": [_event("x", account="YAMADA-1")]}, headers=_token("crm")
    )
    assert other.json()["errors"] == [
        {"field": "events[0].account", "reason": "No account has the id YAMADA-1 in source crm."}
    ]


def test_a_busy_store_answers_429_with_retry_after_and_stores_nothing(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BANSO_EVENTS_STORE_WAIT", "0.2")
    config.get_settings.cache_clear()
    base = store.store_dir()
    base.mkdir(parents=True, exist_ok=True)
    batch = {"events": [_event("busy-1", account="YAMADA-1")]}
    auth = _token(SOURCE)
    with open(base / ".lock", "a+b") as held:  # another writer (an import) holds the store
        fcntl.flock(held, fcntl.LOCK_EX)
        busy = client.post("/api/events", json=batch, headers=auth)
        fcntl.flock(held, fcntl.LOCK_UN)
    assert busy.status_code == 429
    assert busy.headers["retry-after"] == "1"
    assert busy.json()["detail"] == "The event store is busy; send again shortly."
    assert _stored() == []
    again = client.post("/api/events", json=batch, headers=auth)
    assert again.json() == {"received": 1, "stored": 1}
    assert _stored() == [("busy-1", world.yamada, None)]
