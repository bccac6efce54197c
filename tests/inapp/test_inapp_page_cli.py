"""The In-app page (ops/admin only, CSRF, audited) and ``banso inapp …``."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy import select

from banso.audit.models import AuditEntry
from banso.db import session_scope
from banso.inapp import service
from web.conftest import sign_in_as
from web.world import EMAILS, World


def test_ops_add_a_site_and_a_message_on_the_page(client: TestClient, world: World) -> None:
    csrf = sign_in_as(client, EMAILS["ops"])
    site = {"csrf_token": csrf, "name": "Acme App", "source": "product",
            "origins": "https://app.example.jp http://localhost:3000"}  # fmt: skip
    assert client.post("/inapp/sites", data=site, follow_redirects=False).status_code == 303
    bad = client.post("/inapp/sites", data={**site, "name": "Other", "origins": "app.example.jp"})
    assert bad.status_code == 400
    assert "app.example.jp is not an origin such as https://app.example.jp." in bad.text
    message = {
        "csrf_token": csrf, "site": "Acme App", "kind": "announcement", "title_ja": "新機能",
        "title_en": "New feature", "body_ja": "", "body_en": "", "segments": ["enterprise"],
        "starts_on": "2026-12-01", "ends_on": "",
    }  # fmt: skip
    assert client.post("/inapp/messages", data=message, follow_redirects=False).status_code == 303
    page = client.get("/inapp")
    assert page.status_code == 200
    assert "/inapp/banso.js" in page.text and "https://app.example.jp" in page.text
    assert "New feature" in page.text and "enterprise" in page.text
    no_csrf = {k: v for k, v in message.items() if k != "csrf_token"}
    assert client.post("/inapp/messages", data=no_csrf).status_code == 403
    with session_scope() as s:
        (added, _site_name), = service.list_messages(s)
        actions = s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert added.segments == "enterprise" and added.ends_on is None
    assert [a for a in actions if a.startswith("inapp.")] == ["inapp.site_add", "inapp.message_add"]
    end = client.post(f"/inapp/messages/{added.id}/end", data={"csrf_token": csrf})
    assert end.status_code == 200  # redirected back to the page
    with session_scope() as s:
        assert service.list_messages(s)[0][0].ended_at is not None


def test_csm_and_viewer_may_not_open_the_page(client: TestClient, world: World) -> None:
    sign_in_as(client, EMAILS["csm"])
    assert client.get("/inapp").status_code == 403


def test_the_commands(cli, world: World) -> None:  # type: ignore[no-untyped-def]
    added = cli("inapp", "site", "add", "Acme App", "--source", "product", "--origin",
                "https://app.example.jp")  # fmt: skip
    assert added.exit_code == 0 and added.stdout.strip().startswith("bsk_")
    listed = json.loads(cli("inapp", "site", "list", "--format", "json").stdout)
    assert listed == [{"name": "Acme App", "site_key": added.stdout.strip(), "source": "product",
                       "origins": ["https://app.example.jp"], "disabled": False}]  # fmt: skip
    announced = cli("inapp", "announce", "--site", "Acme App", "--title-ja", "お知らせ",
                    "--title-en", "News", "--segment", "smb", "--starts", "2026-12-01",
                    "--ends", "2026-12-31", "--nps")  # fmt: skip
    assert announced.exit_code == 0, announced.stderr
    message_id = int(announced.stdout)
    shown = json.loads(cli("--lang", "en", "inapp", "messages", "--format", "json").stdout)
    assert shown == [{"id": message_id, "site": "Acme App", "kind": "nps", "title": "News",
                      "segments": ["smb"], "starts_on": "2026-12-01", "ends_on": "2026-12-31",
                      "ended": False}]  # fmt: skip
    unknown = cli("inapp", "announce", "--site", "Acme App", "--title-ja", "a", "--title-en",
                  "b", "--segment", "gold")  # fmt: skip
    assert unknown.exit_code == 2 and "Unknown segments: gold" in unknown.stderr
    assert cli("inapp", "end", str(message_id)).exit_code == 0
    assert cli("inapp", "site", "disable", "Acme App").exit_code == 0
    assert json.loads(cli("inapp", "site", "list", "--format", "json").stdout)[0]["disabled"]
