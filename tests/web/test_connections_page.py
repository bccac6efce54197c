"""The Connections page: ops and admin see each connection's objects, test it and sync it now;
a CSM or a viewer gets 403; both languages."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.connectors.replay import serve
from tests.connectors.test_hubspot import _world

from banso.accounts.models import Account
from banso.connectors import service
from banso.db import session_scope


def test_ops_syncs_now_and_sees_the_log(client: TestClient, sign_in, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HUBSPOT_TOKEN", "t")
    world = _world()
    with session_scope() as s:
        accounts_before = s.scalar(select(func.count()).select_from(Account))
    with serve(world) as base:
        with session_scope() as s:
            service.add(s, "crm", "hubspot", base, secret_env="HUBSPOT_TOKEN")
        token = sign_in("ops")
        page = client.get("/connections", headers={"Accept-Language": "en"})
        assert page.status_code == 200
        assert "crm" in page.text and "HubSpot" in page.text and "never" in page.text
        tested = client.post("/connections/crm/test", data={"csrf_token": token})
        assert tested.status_code == 200 and "crm: OK" in tested.text
        synced = client.post("/connections/crm/sync", data={"csrf_token": token})
        assert synced.status_code == 200
        assert "crm: 8 records in, 7 new, 0 updated, 0 objects failed" in synced.text
        with session_scope() as s:
            assert s.scalar(select(func.count()).select_from(Account)) == accounts_before + 3
        ja = client.get("/connections", headers={"Accept-Language": "ja"})
        assert "接続" in ja.text and "今すぐ同期" in ja.text
        missing = client.post("/connections/nope/sync", data={"csrf_token": token})
        assert missing.status_code == 404


def test_a_csm_and_a_viewer_get_403(client: TestClient, sign_in) -> None:  # type: ignore[no-untyped-def]
    for role in ("csm", "viewer"):
        token = sign_in(role)
        assert client.get("/connections").status_code == 403
        assert client.post("/connections/x/sync", data={"csrf_token": token}).status_code == 403


def test_an_object_waiting_for_its_mapping_says_so(client: TestClient, sign_in) -> None:  # type: ignore[no-untyped-def]
    with session_scope() as s:
        service.add(s, "sf", "salesforce", "https://example.my.salesforce.com", secret_env="SF")
    sign_in("ops")
    en = client.get("/connections", headers={"Accept-Language": "en"}).text
    assert "not synced: map its amount" in en
    ja = client.get("/connections", headers={"Accept-Language": "ja"}).text
    assert "未同期: amount の項目対応が必要です" in ja
