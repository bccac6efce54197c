"""With events.yaml naming the company's own Parquet files, ``POST /api/events`` and
``banso import events`` refuse with one sentence and store nothing (their pipeline owns the
events)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from banso.config import get_settings
from banso.db import session_scope
from banso.usage import store
from banso.users.tokens import create_token
from inapp.conftest import SOURCE
from web.world import EMAILS, World

EVENTS_YAML = """\
source: parquet
path: /nowhere/events
columns: {account: tenant, account_source: product, event: action, timestamp: at}
"""
REFUSED = "Banso does not store events itself"


def _external() -> None:
    config = get_settings().config_path
    config.mkdir(parents=True, exist_ok=True)
    (config / "events.yaml").write_text(EVENTS_YAML, encoding="utf-8")


def test_the_events_api_refuses_with_a_problem(client: TestClient, world: World) -> None:
    _external()
    with session_scope() as s:
        _row, value = create_token(s, EMAILS["ops"], "product", ["events"], None, source=SOURCE)
    batch = {"events": [{"event_id": "p-1", "event": "login", "account": "YAMADA-1",
                         "ts": "2026-04-01T09:30:00+09:00"}]}  # fmt: skip
    answer = client.post("/api/events", json=batch, headers={"Authorization": f"Bearer {value}"})
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert REFUSED in answer.json()["detail"]
    assert store.event_files() == []


def test_the_import_refuses_before_reading(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").exit_code == 0
    _external()
    path = tmp_path / "e.csv"
    path.write_text(
        "event_id,account_id,event,timestamp\ne1,K1,login,2024-04-01T10:00:00Z\n", "utf-8"
    )
    result = cli("import", "events", str(path))
    assert result.exit_code != 0
    assert REFUSED in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr
    assert store.event_files() == []
