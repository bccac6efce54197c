"""/api/opportunities: a CSM opens, changes and closes one (audited, as that person); a viewer
reads but may not write (403, nothing audited); mistakes are 404/422, never 500; the
operations are in the OpenAPI document."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from banso.audit.models import AuditEntry
from banso.db import session_scope, utcnow
from banso.users.tokens import create_token
from web.world import EMAILS, World


def _token(role: str) -> dict[str, str]:
    with session_scope() as s:
        _row, value = create_token(s, EMAILS[role], "t", ["read", "write"],
                                   utcnow() + timedelta(days=1))  # fmt: skip
    return {"Authorization": f"Bearer {value}"}


def _audit() -> list[tuple[str, str, str]]:
    with session_scope() as s:
        return [
            tuple(r)  # type: ignore[misc]
            for r in s.execute(
                select(AuditEntry.actor, AuditEntry.action, AuditEntry.target)
                .where(AuditEntry.action.startswith("opportunity."))
                .order_by(AuditEntry.id)
            )
        ]


def test_a_csm_opens_changes_and_closes_an_opportunity(client: TestClient, world: World) -> None:
    auth = _token("csm")
    created = client.post(
        "/api/opportunities", headers=auth,
        json={"account_id": world.yamada, "kind": "upsell", "expected_mrr": 50_000,
              "close_date": "2030-03-31", "notes": "10 more seats"},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    body = created.json()
    assert {k: body[k] for k in ("account_name", "kind", "expected_mrr", "stage", "status",
                                 "close_date", "owner", "owner_id", "source")} == {
        "account_name": "株式会社山田製作所", "kind": "upsell", "expected_mrr": 50_000,
        "stage": "identified", "status": "open", "close_date": "2030-03-31",
        "owner": "sato@example.jp", "owner_id": world.sato_member, "source": "manual",
    }  # fmt: skip
    oid = body["id"]
    changed = client.patch(f"/api/opportunities/{oid}", headers=auth,
                           json={"stage": "proposal", "owner_id": world.tanaka_member})  # fmt: skip
    assert (changed.json()["stage"], changed.json()["owner"]) == ("proposal", "tanaka@example.jp")
    listed = client.get("/api/opportunities?kind=upsell&stage=proposal", headers=auth).json()
    assert [o["id"] for o in listed] == [oid]
    assert client.get("/api/opportunities?kind=seats", headers=auth).json() == []
    closed = client.post(f"/api/opportunities/{oid}/close", headers=auth,
                         json={"outcome": "won", "close_date": "2030-03-15",
                               "expected_mrr": 45_000})  # fmt: skip
    assert closed.status_code == 200, closed.text
    assert (closed.json()["stage"], closed.json()["status"], closed.json()["close_date"],
            closed.json()["expected_mrr"]) == ("won", "closed", "2030-03-15", 45_000)  # fmt: skip
    assert client.get("/api/opportunities", headers=auth).json() == []
    assert [o["id"] for o in client.get("/api/opportunities?status=", headers=auth).json()] == [oid]
    target = f"opportunity:{oid}"
    assert _audit() == [
        ("sato@example.jp", "opportunity.create", target),
        ("sato@example.jp", "opportunity.update", target),
        ("sato@example.jp", "opportunity.close", target),
    ]
    again = client.post(f"/api/opportunities/{oid}/close", headers=auth, json={"outcome": "lost"})
    assert again.status_code == 400 and "already closed" in again.text
    assert client.patch("/api/opportunities/999999", headers=auth, json={}).status_code == 404
    bad = client.post("/api/opportunities", headers=auth,
                      json={"account_id": world.yamada, "kind": "resell"})  # fmt: skip
    assert bad.status_code == 422
    seats = {"account_id": world.yamada, "kind": "seats", "stage": "nope"}
    stage = client.post("/api/opportunities", headers=auth, json=seats)
    assert stage.status_code == 400 and "Unknown stage nope" in stage.text


def test_a_csm_writes_only_on_the_accounts_they_own(client: TestClient, world: World) -> None:
    csm, ops = _token("csm"), _token("ops")  # the CSM owns Yamada, not Midori
    other = {"account_id": world.midori, "kind": "cross_sell"}
    denied = client.post("/api/opportunities", headers=csm, json=other)
    assert denied.status_code == 403, denied.text
    oid = client.post("/api/opportunities", headers=ops, json=other).json()["id"]
    before = _audit()
    for method, path, body in (
        ("PATCH", f"/api/opportunities/{oid}", {"stage": "qualified"}),
        ("POST", f"/api/opportunities/{oid}/close", {"outcome": "won"}),
    ):
        answer = client.request(method, path, json=body, headers=csm)
        assert answer.status_code == 403, (path, answer.text)
    assert _audit() == before
    mine = {"account_id": world.yamada, "kind": "upsell"}
    assert client.post("/api/opportunities", headers=csm, json=mine).status_code == 201


def test_a_viewer_reads_but_may_not_write(client: TestClient, world: World) -> None:
    writer = _token("csm")
    body = {"account_id": world.yamada, "kind": "cross_sell"}
    oid = client.post("/api/opportunities", headers=writer, json=body).json()["id"]
    before = _audit()
    auth = _token("viewer")
    assert [o["id"] for o in client.get("/api/opportunities", headers=auth).json()] == [oid]
    for method, path, body in (
        ("POST", "/api/opportunities", {"account_id": world.yamada, "kind": "upsell"}),
        ("PATCH", f"/api/opportunities/{oid}", {"stage": "qualified"}),
        ("POST", f"/api/opportunities/{oid}/close", {"outcome": "won"}),
    ):
        answer = client.request(method, path, json=body, headers=auth)
        assert answer.status_code == 403, (path, answer.text)
    assert _audit() == before


def test_the_report_and_the_operations_are_in_openapi(client: TestClient, world: World) -> None:
    auth = _token("viewer")
    paths = client.get("/api/openapi.json", headers=auth).json()["paths"]
    assert {"/api/opportunities", "/api/opportunities/{opportunity_id}",
            "/api/opportunities/{opportunity_id}/close",
            "/api/opportunities/report"} <= set(paths)  # fmt: skip
    rows = client.get("/api/opportunities/report?from=2025-01&to=2025-03", headers=auth)
    assert rows.status_code == 200, rows.text
    assert [r["month"] for r in rows.json()] == ["2025-01", "2025-02", "2025-03"]
    assert client.get("/api/opportunities/report?from=2025-04&to=2025-01",
                      headers=auth).status_code == 400  # fmt: skip


def test_an_unknown_account_is_a_422_on_account_id(client: TestClient, world: World) -> None:
    answer = client.post(
        "/api/opportunities", headers=_token("csm"), json={"account_id": 999_999, "kind": "seats"}
    )
    assert answer.status_code == 422
    assert answer.json()["errors"] == [
        {"field": "account_id", "reason": "No account with id 999999."}
    ]
