"""What the web answers to bad, oversized or too frequent requests: one problem document with
each bad field for the API, a friendly page for the browser, never a 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from banso import config
from banso.db import session_scope
from banso.users.tokens import create_token
from web.world import EMAILS, World


def _token(role: str) -> dict[str, str]:
    with session_scope() as s:
        _row, value = create_token(s, EMAILS[role], "test", ["read", "write"], None)
        return {"Authorization": f"Bearer {value}"}


def _errors(response) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert set(body) == {"type", "title", "status", "detail", "errors"}
    assert body["status"] == response.status_code
    return [(e["field"], e["reason"]) for e in body["errors"]]


@pytest.mark.parametrize(
    ("params", "field", "reason"),
    [
        (
            {"band": "purple"},
            "band",
            "Choose one of: '', 'green', 'yellow', 'red', 'at_risk' or 'none'.",
        ),
        (
            {"sort": "bogus"},
            "sort",
            "Choose one of: 'name', 'kana', 'plan', 'segment', "
            "'owner', 'lifecycle', 'score', 'mrr' or 'renewal'.",
        ),  # fmt: skip
        (
            {"owner": "nobody"},
            "owner",
            "The value does not have the expected form (^(me|[0-9]{1,19})?$).",
        ),  # fmt: skip
        ({"owner": "4242"}, "owner", "There is no team member with id 4242."),
        (
            {"owner": "99999999999999999999"},
            "owner",
            "The value does not have the expected form (^(me|[0-9]{1,19})?$).",
        ),  # fmt: skip
        (
            {"owner": "9999999999999999999"},
            "owner",
            "There is no team member with id 9999999999999999999.",
        ),  # fmt: skip
        ({"renewal": "9999"}, "renewal", "Give a value of at most 3650."),
        ({"page": "0"}, "page", "Give a value of at least 1."),
        ({"page": str(2**64)}, "page", "Give a value of at most 1000000."),
        ({"page": "two"}, "page", "Give a whole number."),
        ({"q": "x" * 201}, "q", "Give at most 200 characters."),
    ],
)
def test_bad_list_parameters_are_422_with_the_field(
    client: TestClient, world: World, params: dict[str, str], field: str, reason: str
) -> None:
    response = client.get("/api/accounts", params=params, headers=_token("viewer"))
    assert response.status_code == 422
    assert _errors(response) == [(field, reason)]


def test_a_page_past_the_last_is_empty_not_the_last_page(client: TestClient, world: World) -> None:
    body = client.get("/api/accounts", params={"page": 9999}, headers=_token("viewer")).json()
    # 59: Acme has churned and is left out by default
    assert (body["total"], body["pages"], body["page"], body["items"]) == (59, 2, 9999, [])
    last = client.get("/api/accounts", params={"page": 2}, headers=_token("viewer")).json()
    assert (last["page"], len(last["items"])) == (2, 9)


def test_ids_beyond_64_bits_and_missing_accounts(client: TestClient, world: World) -> None:
    auth = _token("admin")
    huge = client.get(f"/api/accounts/{2**64}", headers=auth)
    assert huge.status_code == 422
    assert _errors(huge) == [("account_id", "Give a value of at most 9223372036854775807.")]
    assert _errors(client.get("/api/accounts/0", headers=auth)) == [
        ("account_id", "Give a value of at least 1.")
    ]
    for url in ("/api/accounts/999999", "/api/accounts/999999/subscriptions"):
        missing = client.get(url, headers=auth)
        assert missing.status_code == 404 and _errors(missing) == []
        assert missing.json()["detail"] == "There is no account with id 999999."
    note = client.post(
        "/api/accounts/999999/activities", json={"kind": "note", "summary": "x"}, headers=auth
    )
    assert note.status_code == 404


def test_activity_times_need_a_zone_and_sane_years(client: TestClient, world: World) -> None:
    url = f"/api/accounts/{world.yamada}/activities"
    auth = _token("admin")
    naive = client.post(
        url, json={"kind": "note", "summary": "x", "occurred_at": "2026-04-01T09:00:00"},
        headers=auth,
    )  # fmt: skip
    assert _errors(naive) == [
        ("occurred_at", "The time needs a time zone, such as 2026-04-01T09:30:00+09:00.")
    ]
    ancient = client.post(
        url, json={"kind": "note", "summary": "x", "occurred_at": "0001-01-01T00:00:00+09:00"},
        headers=auth,
    )  # fmt: skip
    assert ancient.status_code == 422
    assert _errors(ancient)[0][1].startswith("Give a time from 1990-01-01T00:00:00+00:00 to ")
    ok = client.post(
        url, json={"kind": "call", "summary": "更新", "occurred_at": "2026-04-01T09:00:00+09:00"},
        headers=auth,
    )  # fmt: skip
    assert ok.status_code == 201 and ok.json()["occurred_at"] == "2026-04-01T00:00:00Z"
    # stored without a zone by SQLite, every date-time comes back as aware UTC
    acts = client.get(url, headers=auth).json()
    assert all(a["occurred_at"].endswith("Z") for a in acts)
    timeline = client.get(f"/api/accounts/{world.yamada}", headers=auth).json()["timeline"]
    assert timeline and all(t["at"].endswith("Z") for t in timeline)


def test_event_timestamps_out_of_range_are_422_and_nothing_is_stored(
    client: TestClient, world: World
) -> None:
    def event(ts: str) -> dict[str, object]:
        return {"event_id": ts, "account_id": world.yamada, "event": "login", "ts": ts}

    batch = {"events": [event("0001-01-01T00:00:00+09:00"), event("9999-12-31T23:59:59Z")]}
    response = client.post("/api/events", json=batch, headers=_token("ops"))
    assert response.status_code == 422
    assert [field for field, _reason in _errors(response)] == ["events[0].ts", "events[1].ts"]
    too_big = client.post(
        "/api/events",
        json={"events": [{**event("2026-04-01T00:00:00Z"), "account_id": 2**64}]},
        headers=_token("ops"),
    )
    assert _errors(too_big) == [
        ("events[0].account_id", "Give a value of at most 9223372036854775807.")
    ]


def test_event_posts_are_rate_limited_per_token(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BANSO_EVENTS_RATE_PER_MINUTE", "2")
    config.get_settings.cache_clear()
    batch = {"events": []}
    ops, admin = _token("ops"), _token("admin")
    assert [client.post("/api/events", json=batch, headers=ops).status_code for _ in range(2)] == [
        200,
        200,
    ]
    refused = client.post("/api/events", json=batch, headers=ops)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json()["detail"].startswith("At most 2 event batches a minute")
    assert client.post("/api/events", json=batch, headers=admin).status_code == 200


def test_bodies_over_the_limit_are_413_before_they_are_read(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BANSO_MAX_BODY_BYTES", "1000")
    config.get_settings.cache_clear()
    events = [
        {"event_id": f"e{i}", "account_id": world.yamada, "event": "login",
         "ts": "2026-04-01T00:00:00Z"}
        for i in range(20)
    ]  # fmt: skip
    response = client.post("/api/events", json={"events": events}, headers=_token("ops"))
    assert response.status_code == 413
    assert response.json()["detail"] == "The request is larger than the limit of 0.000954 MB."

    def chunked():  # type: ignore[no-untyped-def]
        yield b'{"events": ['
        for _ in range(100):
            yield b'{"event_id": "x", "account_id": 1, "event": "a", "ts": "2026-04-01T00:00:00Z"},'

    streamed = client.post(
        "/api/events",
        content=chunked(),
        headers={**_token("ops"), "Content-Type": "application/json"},
    )
    assert streamed.status_code == 413


def test_pages_show_a_friendly_page_for_bad_input(
    client: TestClient, sign_in, world: World
) -> None:  # type: ignore[no-untyped-def]
    sign_in("viewer")
    for url, status, text in [
        ("/accounts?band=purple", 422, "<code>band</code>"),
        ("/accounts?page=0", 422, "<code>page</code>"),
        (f"/accounts/{2**64}", 422, "<code>account_id</code>"),
        ("/accounts/999999", 404, "There is no account with id 999999."),
        ("/no-such-page", 404, "There is nothing at this address."),
    ]:
        page = client.get(url)
        assert page.status_code == status, url
        assert page.headers["content-type"].startswith("text/html")
        assert text in page.text and "Traceback" not in page.text


def test_pulse_and_activity_on_a_missing_account_are_404(
    client: TestClient, sign_in, world: World
) -> None:  # type: ignore[no-untyped-def]
    token = sign_in("admin")
    pulse = client.post("/accounts/999999/pulse", data={"rating": 3, "csrf_token": token})
    assert pulse.status_code == 404
    assert "There is no account with id 999999." in pulse.text
    note = client.post(
        "/accounts/999999/activities", data={"kind": "note", "summary": "x", "csrf_token": token}
    )
    assert note.status_code == 404


def test_every_response_carries_the_security_headers(client: TestClient, world: World) -> None:
    for url in ("/sign-in", "/api/openapi.json", "/static/banso.css", "/api/accounts"):
        headers = client.get(url).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("style-src")[0]
        assert "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "same-origin"
    assert client.get("/api/accounts").headers["cache-control"] == "no-store"


def test_no_template_has_inline_script() -> None:
    import re

    from banso.web.templating import TEMPLATE_DIRS

    inline_handler = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
    for folder in TEMPLATE_DIRS:
        for path in folder.rglob("*.html"):
            text = path.read_text(encoding="utf-8")
            assert not inline_handler.search(text), path
            for tag in re.findall(r"<script\b[^>]*>", text):
                assert "src=" in tag or 'type="application/json"' in tag, (path, tag)


def test_openapi_declares_security_schemes_and_the_problem_responses(client: TestClient) -> None:
    document = client.get("/api/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["token"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token from `banso users token EMAIL`.",
    }
    assert (schemes["session"]["in"], schemes["session"]["name"]) == ("cookie", "banso_session")
    assert document["security"] == [{"token": []}, {"session": []}]
    problem = {"$ref": "#/components/schemas/Problem"}
    events = document["paths"]["/api/events"]["post"]["responses"]
    assert set(events) == {"200", "400", "401", "403", "413", "422", "429"}
    assert events["422"]["content"] == {"application/problem+json": {"schema": problem}}
    one = document["paths"]["/api/accounts/{account_id}"]["get"]["responses"]
    assert set(one) == {"200", "400", "401", "404", "422"}
    assert "HTTPValidationError" not in document["components"]["schemas"]
    fields = document["components"]["schemas"]["Problem"]["properties"]
    assert set(fields) == {"type", "title", "status", "detail", "errors"}


def test_problems_speak_the_callers_language(client: TestClient, world: World) -> None:
    headers = {**_token("viewer"), "Accept-Language": "ja"}
    bad = client.get("/api/accounts", params={"page": "0", "band": "purple"}, headers=headers)
    body = bad.json()
    assert body["title"] == "リクエストの内容が正しくありません"
    assert ("page", "1 以上の値を指定してください。") in _errors(bad)
    missing = client.get("/api/accounts/999999", headers=headers).json()
    assert (missing["title"], missing["detail"]) == (
        "見つかりません",
        "ID 999999 の顧客はありません。",
    )


def test_the_api_choices_are_the_lists_of_the_domain() -> None:
    from typing import get_args

    from banso.account_views import accounts_list, routes
    from banso.activities.service import LOGGABLE_KINDS

    assert get_args(routes.SortKey) == accounts_list.SORTS
    assert get_args(routes.BandChoice) == (
        "",
        *accounts_list.BANDS,
        accounts_list.AT_RISK,
        accounts_list.NOT_SCORED,
    )
    kind = routes.ActivityIn.model_fields["kind"].annotation
    assert get_args(kind) == LOGGABLE_KINDS


def test_an_unexpected_error_is_a_problem_with_the_security_headers(world: World) -> None:
    from banso.server.app import create_app

    app = create_app()

    @app.get("/api/broken")
    def broken() -> None:
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/broken")
    assert response.status_code == 500
    assert response.json()["detail"] == (
        "Something went wrong on our side; the error has been logged."
    )
    assert "a bug" not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
