"""/api/success-plans: a CSM adds, changes and reviews an objective on the account they own
(audited as that person, kept in its history); the list pages and filters like /api/accounts;
a viewer reads but gets 403 on every write (nothing stored); another CSM's account is 403;
mistakes are 4xx, never 500."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from banso.audit.models import AuditEntry
from banso.db import session_scope, utcnow
from banso.success.models import ObjectiveEntry, SuccessObjective
from banso.users.tokens import create_token
from web.world import EMAILS, World


def _token(role: str) -> dict[str, str]:
    with session_scope() as s:
        _row, value = create_token(s, EMAILS[role], "t", ["read", "write"],
                                   utcnow() + timedelta(days=1))  # fmt: skip
    return {"Authorization": f"Bearer {value}"}


def _audit() -> list[tuple[str, str]]:
    with session_scope() as s:
        return [
            (r[0], r[1])
            for r in s.execute(
                select(AuditEntry.actor, AuditEntry.action)
                .where(AuditEntry.action.startswith("objective."))
                .order_by(AuditEntry.id)
            )
        ]


def test_a_csm_adds_changes_and_reviews_an_objective(client: TestClient, world: World) -> None:
    auth = _token("csm")
    created = client.post(
        "/api/success-plans", headers=auth,
        json={"account_id": world.yamada, "title": "月次決算を3日で締める",
              "kpi_name": "Days to close", "baseline": 8, "target": 3,
              "due_date": "2030-03-31", "status": "on_track"},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    body = created.json()
    oid = body["id"]
    assert {k: body[k] for k in ("account_name", "kind", "owner", "progress", "status")} == {
        "account_name": "株式会社山田製作所", "kind": "kpi", "owner": "sato@example.jp",
        "progress": None, "status": "on_track",
    }  # fmt: skip
    changed = client.patch(f"/api/success-plans/{oid}", headers=auth, json={"value": 6})
    assert changed.status_code == 200, changed.text
    # (6 - 8) / (3 - 8) = 0.4
    assert (changed.json()["current"], changed.json()["progress"]) == (6.0, 0.4)
    reviewed = client.post(f"/api/success-plans/{oid}/reviews", headers=auth,
                           json={"note": "AP joins in May", "status": "at_risk"})  # fmt: skip
    assert reviewed.status_code == 200, reviewed.text
    history = reviewed.json()["history"]
    assert [(h["kind"], h["status"], h["actor"]) for h in history] == [
        ("reviewed", "at_risk", "sato@example.jp"),
        ("changed", "on_track", "sato@example.jp"),
        ("created", "on_track", "sato@example.jp"),
    ]
    assert history[0]["note"] == "AP joins in May"
    assert _audit() == [
        ("sato@example.jp", "objective.create"),
        ("sato@example.jp", "objective.update"),
        ("sato@example.jp", "objective.review"),
    ]
    listed = client.get("/api/success-plans?status=at_risk&owner=me", headers=auth).json()
    assert (listed["total"], listed["pages"], [o["id"] for o in listed["items"]]) == (1, 1, [oid])
    assert client.get("/api/success-plans?status=achieved", headers=auth).json()["total"] == 0
    assert client.get("/api/success-plans?q=決算", headers=auth).json()["total"] == 1
    assert client.get("/api/success-plans?page=2", headers=auth).json()["items"] == []
    # mistakes: 4xx with a sentence, nothing stored
    bad = client.post("/api/success-plans", headers=auth,
                      json={"account_id": world.yamada, "title": "x", "measure": "nope",
                            "baseline": 1, "target": 2})  # fmt: skip
    assert bad.status_code == 400 and "Unknown measure nope" in bad.text
    same = client.patch(f"/api/success-plans/{oid}", headers=auth, json={"target": 8})
    assert same.status_code == 400 and "must differ from the baseline" in same.text
    assert client.patch("/api/success-plans/999999", headers=auth, json={}).status_code == 404
    missing = client.post("/api/success-plans", headers=auth,
                          json={"account_id": 999999, "kpi_name": "k", "baseline": 0,
                                "target": 1, "title": "t"})  # fmt: skip
    assert missing.status_code == 422
    assert client.get("/api/success-plans?status=done", headers=auth).status_code == 422


def test_a_viewer_reads_but_may_not_write_and_a_csm_only_on_own_accounts(
    client: TestClient, world: World
) -> None:
    csm = _token("csm")
    oid = client.post(
        "/api/success-plans", headers=csm,
        json={"account_id": world.yamada, "title": "Daily use", "kpi_name": "Users",
              "baseline": 0, "target": 20},
    ).json()["id"]  # fmt: skip
    viewer = _token("viewer")
    assert client.get("/api/success-plans", headers=viewer).json()["total"] == 1
    for response in (
        client.post("/api/success-plans", headers=viewer,
                    json={"account_id": world.yamada, "title": "t", "kpi_name": "k",
                          "baseline": 0, "target": 1}),
        client.patch(f"/api/success-plans/{oid}", headers=viewer, json={"status": "achieved"}),
        client.post(f"/api/success-plans/{oid}/reviews", headers=viewer, json={"note": "n"}),
        # Midori is 田中's account, not 佐藤's
        client.post("/api/success-plans", headers=csm,
                    json={"account_id": world.midori, "title": "t", "kpi_name": "k",
                          "baseline": 0, "target": 1}),
    ):  # fmt: skip
        assert response.status_code == 403, response.text
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(SuccessObjective)) == 1
        assert s.scalar(select(func.count()).select_from(ObjectiveEntry)) == 1
        assert s.get(SuccessObjective, oid).status == "not_started"  # type: ignore[union-attr]
    assert _audit() == [("sato@example.jp", "objective.create")]


def test_the_operations_are_in_the_openapi_document(client: TestClient, world: World) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    assert set(paths["/api/success-plans"]) == {"get", "post"}
    assert set(paths["/api/success-plans/{objective_id}"]) == {"patch"}
    assert set(paths["/api/success-plans/{objective_id}/reviews"]) == {"post"}
