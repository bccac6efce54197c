"""Sessions end server-side; tokens are scoped, expiring, revocable; admin token and audit pages."""

from __future__ import annotations

import json
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from banso.audit.models import AuditEntry
from banso.db import session_scope, utcnow
from banso.server.app import SESSION_COOKIE
from banso.users import service
from banso.users.tokens import create_token
from web.conftest import csrf_of, sign_in_as
from web.world import EMAILS, PASSWORD, World


def _bearer(role: str, scopes: list[str], days: int | None = 30) -> dict[str, str]:
    expires = utcnow() + timedelta(days=days) if days is not None else None
    with session_scope() as s:
        _row, value = create_token(s, EMAILS[role], "test", scopes, expires)
    return {"Authorization": f"Bearer {value}"}


def _audit(action: str) -> list[tuple[str, str, str | None]]:
    with session_scope() as s:
        rows = s.execute(
            select(AuditEntry.actor, AuditEntry.target, AuditEntry.address)
            .where(AuditEntry.action == action)
            .order_by(AuditEntry.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_a_copy_of_the_cookie_taken_before_sign_out_is_refused_after(
    client: TestClient, world: World
) -> None:
    token = sign_in_as(client, EMAILS["viewer"])
    copied = client.cookies.get(SESSION_COOKIE)
    assert client.get("/api/accounts").status_code == 200
    assert client.post("/sign-out", data={"csrf_token": token}).status_code == 200
    with TestClient(client.app, base_url="http://testserver") as thief:
        thief.cookies.set(SESSION_COOKIE, copied or "")
        assert thief.get("/api/accounts").status_code == 401
        assert thief.get("/accounts", follow_redirects=False).status_code == 303
    assert _audit("sign_out") == [(EMAILS["viewer"], EMAILS["viewer"], "testclient")]


def test_password_change_ends_every_session_of_the_user(client: TestClient, world: World) -> None:
    sign_in_as(client, EMAILS["ops"])
    with TestClient(client.app, base_url="http://testserver") as laptop:
        sign_in_as(laptop, EMAILS["ops"])
        assert laptop.get("/api/accounts").status_code == 200
        with session_scope() as s:
            service.set_password(s, EMAILS["ops"], "a-new-password")
        assert laptop.get("/api/accounts").status_code == 401
    assert client.get("/api/accounts").status_code == 401
    sign_in_as(client, EMAILS["ops"], "a-new-password")
    assert client.get("/api/accounts").status_code == 200


def test_role_change_applies_at_once(client: TestClient, world: World) -> None:
    sign_in_as(client, EMAILS["ops"])
    assert client.get("/data").status_code == 200
    with session_scope() as s:
        service.set_role(s, EMAILS["ops"], "viewer")
    assert client.get("/data", follow_redirects=False).status_code == 303  # signed out
    sign_in_as(client, EMAILS["ops"])
    response = client.post("/data", data={"csrf_token": csrf_of(client), "kind": "accounts"},
                           files={"file": ("a.csv", "id,name\nK1,x\n", "text/csv")})  # fmt: skip
    assert response.status_code == 403


def test_revoked_and_expired_tokens_get_401(client: TestClient, world: World) -> None:
    live = _bearer("viewer", ["read"])
    expired = _bearer("viewer", ["read"], days=-1)
    assert client.get("/api/accounts", headers=live).status_code == 200
    assert client.get("/api/accounts", headers=expired).status_code == 401
    with session_scope() as s:
        from banso.users.tokens import list_tokens, revoke_token

        [listing] = [t for t in list_tokens(s) if t.token.expires_at is not None]
        revoke_token(s, listing.token.id)
    assert client.get("/api/accounts", headers=live).status_code == 401


def test_scopes_limit_what_a_token_may_do(client: TestClient, world: World) -> None:
    note = {"kind": "note", "summary": "API から記録"}
    url = f"/api/accounts/{world.yamada}/activities"
    read = _bearer("ops", ["read"])
    assert client.get("/api/accounts", headers=read).status_code == 200
    refused = client.post(url, json=note, headers=read)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "This API token's scopes do not allow this request."
    assert refused.json()["status"] == 403
    events = _bearer("ops", ["events"])
    batch = {"events": [{"event_id": "e-1", "account_id": world.yamada, "event": "login",
                         "ts": "2026-04-01T09:30:00+09:00"}]}  # fmt: skip
    assert client.post("/api/events", json=batch, headers=events).status_code == 200
    assert client.get("/api/accounts", headers=events).status_code == 403
    assert client.post(url, json=note, headers=events).status_code == 403
    write = _bearer("ops", ["write"])
    assert client.post(url, json=note, headers=write).status_code in (200, 201)
    # the scope narrows the role, never widens it
    viewer_write = _bearer("viewer", ["read", "write"])
    assert client.post(url, json=note, headers=viewer_write).status_code == 403


def test_admin_creates_a_token_once_lists_and_revokes_it(client: TestClient, world: World) -> None:
    csrf = sign_in_as(client, EMAILS["admin"])
    created = client.post(
        "/admin/tokens",
        data={"csrf_token": csrf, "email": EMAILS["ops"], "name": "BI export",
              "scopes": ["read", "events"], "days": "30"},
    )  # fmt: skip
    assert created.status_code == 200 and created.headers["cache-control"] == "no-store"
    marker = "<p><code>"
    start = created.text.index(marker) + len(marker)
    value = created.text[start : created.text.index("<", start)]
    assert value.startswith("bns_")
    listing = client.get("/admin/tokens").text
    assert value not in listing and "BI export" in listing and "Read, Usage events" in listing
    assert (
        client.get("/api/accounts", headers={"Authorization": f"Bearer {value}"}).json()["total"]
        == 59  # Acme has churned
    )
    with session_scope() as s:
        from banso.users.models import ApiToken

        token_id = s.scalar(select(ApiToken.id).where(ApiToken.name == "BI export"))
    revoked = client.post(f"/admin/tokens/{token_id}/revoke", data={"csrf_token": csrf})
    assert revoked.status_code == 200 and "<td>Revoked</td>" in revoked.text
    assert (
        client.get("/api/accounts", headers={"Authorization": f"Bearer {value}"}).status_code == 401
    )
    assert [a for a, _t, _addr in _audit("token.create")] == [EMAILS["admin"]]
    assert _audit("token.revoke") == [(EMAILS["admin"], EMAILS["ops"], "testclient")]


def test_only_admins_see_the_token_and_audit_pages(client: TestClient, world: World) -> None:
    sign_in_as(client, EMAILS["ops"])
    assert client.get("/admin/tokens").status_code == 403
    assert client.get("/admin/users").status_code == 403
    assert client.get("/admin/audit").status_code == 403
    assert "/admin/audit" not in client.get("/accounts").text


def test_audit_page_lists_sign_ins_and_a_web_import(client: TestClient, world: World) -> None:
    bad = client.post("/sign-in", data={"email": EMAILS["ops"], "password": "nope-nope",
                                        "csrf_token": csrf_of(client)})  # fmt: skip
    assert bad.status_code == 401
    csrf = sign_in_as(client, EMAILS["admin"])
    body = "id,name\nK9,株式会社テスト\n"
    imported = client.post("/data", data={"kind": "accounts", "source": "crm", "csrf_token": csrf},
                           files={"file": ("accounts.csv", body, "text/csv")})  # fmt: skip
    assert imported.status_code == 200
    page = client.get("/admin/audit").text
    for action in ("sign_in.failure", "sign_in.success", "data.import"):
        assert f"<td>{action}</td>" in page
    assert "/admin/audit" in client.get("/accounts").text  # admins have the link
    only = client.get("/admin/audit", params={"action": "data.import"}).text
    assert "<td>accounts.csv</td>" in only and "<td>sign_in.failure</td>" not in only
    with session_scope() as s:
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "data.import"))
        assert entry is not None
        assert (entry.actor, entry.target, entry.address) == (
            EMAILS["admin"], "accounts.csv", "testclient")  # fmt: skip
        assert json.loads(entry.detail)["inserted"] == 1


def test_wrong_password_answers_the_same_for_known_and_unknown_emails(
    client: TestClient, world: World
) -> None:
    answers = []
    for email in (EMAILS["viewer"], "nobody@example.jp"):
        response = client.post("/sign-in", data={"email": email, "password": PASSWORD + "x",
                                                 "csrf_token": csrf_of(client)})  # fmt: skip
        answers.append((response.status_code, response.text.replace(email, "EMAIL")))
    assert answers[0] == answers[1]
    assert answers[0][0] == 401


def test_admin_changes_a_role_on_the_users_page(client: TestClient, world: World) -> None:
    with TestClient(client.app, base_url="http://testserver") as ops:
        sign_in_as(ops, EMAILS["ops"])
        assert ops.get("/data").status_code == 200
        csrf = sign_in_as(client, EMAILS["admin"])
        page = client.get("/admin/users").text
        assert EMAILS["ops"] in page and "Change role" in page
        with session_scope() as s:
            from banso.users.models import User

            ops_id = s.scalar(select(User.id).where(User.email == EMAILS["ops"]))
        changed = client.post(f"/admin/users/{ops_id}/role",
                              data={"csrf_token": csrf, "role": "viewer"})  # fmt: skip
        assert changed.status_code == 200
        assert ops.get("/data", follow_redirects=False).status_code == 303
    assert _audit("user.role") == [(EMAILS["admin"], EMAILS["ops"], "testclient")]
    bad = client.post(f"/admin/users/{ops_id}/role", data={"csrf_token": csrf, "role": "boss"})
    assert bad.status_code == 400 and "Role must be one of" in bad.text
