"""A write the API acknowledges is committed before the answer leaves: a commit that fails is
an error answer, never a 201 for a row that is not there."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from banso.activities.models import Activity
from banso.db import get_engine, session_scope
from banso.users.tokens import create_token
from web.world import EMAILS, World


def _activities(account_id: int) -> int:
    with session_scope() as s:
        return s.scalar(select(func.count()).where(Activity.account_id == account_id)) or 0


def test_a_write_whose_commit_fails_is_not_acknowledged(client: TestClient, world: World) -> None:
    with session_scope() as s:
        _row, token = create_token(s, EMAILS["admin"], "test", ["read", "write"], None)
    auth = {"Authorization": f"Bearer {token}"}
    url = f"/api/accounts/{world.yamada}/activities"
    before = _activities(world.yamada)
    first = client.post(url, json={"kind": "note", "summary": "first"}, headers=auth)
    assert first.status_code == 201
    assert _activities(world.yamada) == before + 1  # on disk once the 201 is out

    def disk_fails(connection: Any) -> None:
        raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

    engine = get_engine()
    event.listen(engine, "commit", disk_fails)
    try:
        with TestClient(client.app, raise_server_exceptions=False) as fresh:
            answer = fresh.post(url, json={"kind": "note", "summary": "second"}, headers=auth)
    finally:
        event.remove(engine, "commit", disk_fails)
    assert answer.status_code >= 500
    assert _activities(world.yamada) == before + 1
