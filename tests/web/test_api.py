"""The JSON API: token or session auth, roles, CSRF for cookie callers, OpenAPI schema."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from banso.db import session_scope
from banso.revenue.cache import ReportCache
from banso.users.tokens import create_token
from web.world import EMAILS, World


def _token(role: str) -> dict[str, str]:
    with session_scope() as s:
        _row, value = create_token(s, EMAILS[role], "test", ["read", "write"], None)
        return {"Authorization": f"Bearer {value}"}


def test_api_needs_a_session_or_a_valid_token(client: TestClient) -> None:
    anonymous = client.get("/api/accounts")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    forged = client.get("/api/accounts", headers={"Authorization": "Bearer bns_nope"})
    assert forged.status_code == 401
    assert client.get("/api/accounts", headers=_token("viewer")).json()["total"] == 59


def test_search_by_kana_kanji_romaji_domain(client: TestClient) -> None:
    auth = _token("viewer")

    def names(q: str) -> list[str]:
        body = client.get("/api/accounts", params={"q": q}, headers=auth).json()
        return [item["name"] for item in body["items"]]

    assert names("やまだ") == ["株式会社山田製作所"]  # hiragana finds katakana kana
    assert names("ﾔﾏﾀﾞ") == ["株式会社山田製作所"]  # half-width katakana
    assert names("ミドリ") == ["みどり商事株式会社"]  # katakana finds hiragana kana
    assert names("山田製作") == ["株式会社山田製作所"]
    assert names("midori-shoji") == ["みどり商事株式会社"]
    assert names("ACME") == []  # churned: listed only with churned=true
    churned = client.get("/api/accounts", params={"q": "ACME", "churned": "true"}, headers=auth)
    assert [item["name"] for item in churned.json()["items"]] == ["Acme Japan K.K."]
    assert names("100%") == []


def test_filters_owner_and_renewal_window(client: TestClient, world: World) -> None:
    auth = _token("viewer")
    mine = client.get("/api/accounts", params={"owner": world.sato_member}, headers=auth).json()
    assert [i["name"] for i in mine["items"]] == ["株式会社山田製作所"]
    params = {"owner": world.sato_member, "churned": "true"}
    mine = client.get("/api/accounts", params=params, headers=auth).json()
    assert [i["name"] for i in mine["items"]] == ["Acme Japan K.K.", "株式会社山田製作所"]
    soon = client.get("/api/accounts", params={"renewal": 180}, headers=auth).json()
    assert [(i["name"], i["mrr"]) for i in soon["items"]] == [("株式会社山田製作所", 130000)]


def test_account_360_json(client: TestClient, world: World) -> None:
    body = client.get(f"/api/accounts/{world.yamada}", headers=_token("viewer")).json()
    assert body["account"]["mrr"] == 130000 and body["mrr_by_currency"] == {"JPY": 130000}
    assert [c["role"] for c in body["contacts"]] == ["champion", "decision_maker"]
    assert {t["kind"] for t in body["timeline"]} == {"activity", "ticket", "survey", "subscription"}
    missing = client.get("/api/accounts/9999", headers=_token("viewer"))
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json() == {
        "type": "about:blank",
        "title": "Not found",
        "status": 404,
        "detail": "There is no account with id 9999.",
        "errors": [],
    }


def test_roles_are_enforced_for_token_callers(client: TestClient, world: World) -> None:
    note = {"kind": "note", "summary": "API から記録"}
    url_own, url_other = (
        f"/api/accounts/{world.yamada}/activities",
        f"/api/accounts/{world.midori}/activities",
    )
    assert client.post(url_own, json=note, headers=_token("viewer")).status_code == 403
    assert client.post(url_other, json=note, headers=_token("csm")).status_code == 403
    created = client.post(url_own, json=note, headers=_token("csm"))
    assert created.status_code == 201 and created.json()["summary"] == "API から記録"
    assert client.post(url_other, json=note, headers=_token("ops")).status_code == 201
    bad = client.post(url_own, json={"kind": "party", "summary": "x"}, headers=_token("admin"))
    assert bad.status_code == 422
    assert bad.json()["errors"] == [
        {"field": "kind", "reason": "Choose one of: 'note', 'call', 'meeting' or 'email'."}
    ]


def test_cookie_callers_of_the_api_need_the_csrf_header(
    client: TestClient,
    sign_in,
    world: World,  # type: ignore[no-untyped-def]
) -> None:
    token = sign_in("admin")
    url = f"/api/accounts/{world.yamada}/activities"
    note = {"kind": "note", "summary": "from the page"}
    assert client.post(url, json=note).status_code == 403
    assert client.post(url, json=note, headers={"X-CSRF-Token": token}).status_code == 201


def test_openapi_schema_describes_the_api_only(client: TestClient) -> None:
    schema = client.get("/api/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Banso API"
    paths = set(schema["paths"])
    assert {
        "/api/accounts",
        "/api/accounts/{account_id}",
        "/api/accounts/{account_id}/activities",
    } <= paths
    assert all(p.startswith("/api/") for p in paths)
    for path in schema["paths"].values():
        for operation in path.values():
            for response in operation["responses"].values():
                ref = (
                    response.get("content", {})
                    .get("application/json", {})
                    .get("schema", {})
                    .get("$ref")
                )
                if ref:
                    assert ref.split("/")[-1] in schema["components"]["schemas"]
    docs = client.get("/api/docs")
    assert "/static/vendor/swagger-ui-bundle.js" in docs.text
    assert client.get("/static/vendor/swagger-ui-bundle.js").status_code == 200


def _stored_events() -> list[tuple[str, int, str]]:
    import pyarrow.parquet as pq

    from banso.usage.store import event_files

    rows: list[tuple[str, int, str]] = []
    for path in event_files():
        t = pq.read_table(path)
        rows += list(
            zip(
                t["event_id"].to_pylist(),
                t["account_id"].to_pylist(),
                t["ts"].cast("string").to_pylist(),
                strict=True,
            )
        )
    return sorted(rows)


def test_event_batch_is_stored_once_however_often_it_is_sent(
    client: TestClient, world: World
) -> None:
    batch = {
        "events": [
            {
                "event_id": "e-1",
                "account_id": world.yamada,
                "user_id": "u-7",
                "event": "login",
                "ts": "2026-04-01T09:30:00+09:00",
            },
            {
                "event_id": "e-2",
                "account_id": world.yamada,
                "event": "export_csv",
                "ts": "2026-04-02T10:00:00+09:00",
                "properties": {"rows": 120},
            },
            {
                "event_id": "e-2",
                "account_id": world.yamada,
                "event": "export_csv",
                "ts": "2026-04-02T10:00:00+09:00",
                "properties": {"rows": 120},
            },
        ]
    }
    auth = _token("ops")
    first = client.post("/api/events", json=batch, headers=auth)
    assert first.status_code == 200 and first.json() == {"received": 3, "stored": 2}
    again = client.post("/api/events", json=batch, headers=auth)
    assert again.json() == {"received": 3, "stored": 0}
    assert _stored_events() == [
        ("e-1", world.yamada, "2026-04-01 00:30:00.000000Z"),
        ("e-2", world.yamada, "2026-04-02 01:00:00.000000Z"),
    ]


def test_a_bad_event_rejects_the_whole_batch_with_index_and_field(
    client: TestClient, world: World
) -> None:
    batch = {
        "events": [
            {
                "event_id": "ok",
                "account_id": world.midori,
                "event": "login",
                "ts": "2026-04-01T09:30:00+09:00",
            },
            {"event_id": "bad", "account_id": 9999, "event": "login", "ts": "2026-04-01T09:30:00"},
        ]
    }
    response = client.post("/api/events", json=batch, headers=_token("admin"))
    assert response.status_code == 422
    assert response.json()["detail"] == "The batch was not stored."
    assert response.json()["errors"] == [
        {"field": "events[1].account_id", "reason": "There is no account with id 9999."},
        {
            "field": "events[1].ts",
            "reason": "The time needs a time zone, such as 2026-04-01T09:30:00+09:00.",
        },
    ]
    assert _stored_events() == []


def test_only_admin_and_ops_send_events(client: TestClient, world: World) -> None:
    batch = {
        "events": [
            {
                "event_id": "x",
                "account_id": world.yamada,
                "event": "login",
                "ts": "2026-04-01T00:00:00Z",
            }
        ]
    }
    assert client.post("/api/events", json=batch, headers=_token("csm")).status_code == 403
    assert client.post("/api/events", json=batch, headers=_token("viewer")).status_code == 403
    assert client.post("/api/events", json=batch).status_code == 401


def test_subscriptions_health_and_revenue_metrics(client: TestClient, world: World) -> None:
    auth = _token("viewer")
    subs = client.get(f"/api/accounts/{world.yamada}/subscriptions", headers=auth).json()
    assert [(s["external_id"], s["amount"], s["billing_period_months"]) for s in subs] == [
        ("S-1", 1_200_000, 12),
        ("S-2", 30_000, 1),
    ]
    assert client.get(f"/api/accounts/{world.yamada}/health", headers=auth).json() is None
    revenue = client.get("/api/metrics/revenue", headers=auth).json()
    assert revenue["currency"] == "JPY" and len(revenue["months"]) == 12
    assert revenue["months"][-1]["mrr_end"] == 180000.0
    bad = client.get("/api/metrics/revenue", params={"end": "2026-13"}, headers=auth)
    assert bad.status_code == 422
    assert bad.json()["errors"] == [
        {"field": "end", "reason": "Give a month written YYYY-MM, such as 2024-04."}
    ]
    year_zero = client.get("/api/metrics/revenue", params={"end": "0000-01"}, headers=auth)
    assert year_zero.status_code == 422 and year_zero.json()["errors"][0]["field"] == "end"
    early = client.get("/api/metrics/revenue", params={"start": "1989-12"}, headers=auth)
    assert early.status_code == 422 and early.json()["errors"][0]["field"] == "start"
    assert early.json()["errors"][0]["reason"].startswith("Give a month from 1990-01 to ")


def test_contacts_and_activities_of_an_account(client: TestClient, world: World) -> None:
    auth = _token("viewer")
    contacts = client.get(f"/api/accounts/{world.yamada}/contacts", headers=auth).json()
    assert [(c["name"], c["role"]) for c in contacts] == [
        ("山田 太郎", "champion"),
        ("鈴木 次郎", "decision_maker"),
    ]
    client.post(
        f"/api/accounts/{world.yamada}/activities",
        json={"kind": "call", "summary": "更新の確認"},
        headers=_token("ops"),
    )
    acts = client.get(f"/api/accounts/{world.yamada}/activities", headers=auth).json()
    assert [(a["kind"], a["summary"]) for a in acts] == [
        ("call", "更新の確認"),
        ("meeting", "四半期ビジネスレビューを実施"),
    ]
    assert client.get("/api/accounts/999/contacts", headers=auth).status_code == 404
    assert client.get("/api/accounts/999/activities", headers=auth).status_code == 404
    assert client.get("/api/accounts/999/health", headers=auth).status_code == 404


def test_a_token_request_keeps_the_report_it_computed(client: TestClient, world: World) -> None:
    """Reading a token writes nothing in the request's transaction, so the report computed for
    it can be cached from another connection (on SQLite the token's ``last_used_at`` write held
    the lock: the cache waited 30 s and gave up)."""
    auth = _token("viewer")
    assert client.get("/api/metrics/revenue", headers=auth).status_code == 200
    with session_scope() as s:
        assert (s.scalar(select(func.count()).select_from(ReportCache)) or 0) > 0
