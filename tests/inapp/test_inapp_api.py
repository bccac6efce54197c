"""The snippet's public endpoints: the site key works only from the site's origins and only for
its three operations; messages reach only the targeted segment; an NPS answer is kept once per
user per prompt as a ``survey_responses`` row with source ``inapp``; calls are rate-limited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from banso import config
from banso.dates import today
from banso.db import session_scope
from banso.errors import InvalidValue
from banso.inapp import service
from banso.surveys.models import SurveyResponse
from inapp.conftest import ORIGIN, SOURCE
from web.world import World


def _site_with_messages() -> tuple[str, int, int, int]:
    """A site, an announcement for enterprise, one for everyone, an NPS prompt for smb."""
    day = today()
    with session_scope() as s:
        site = service.add_site(s, "Acme App", SOURCE, [ORIGIN + "/", "http://localhost:3000"])
        enterprise = service.add_message(
            s, "Acme App", "announcement", ("新機能のお知らせ", "New feature"),
            ("レポートを出力できます", "Reports can be exported"), ["enterprise"], day, None, "t",
        )  # fmt: skip
        everyone = service.add_message(
            s, "Acme App", "announcement", ("メンテナンス", "Maintenance"), ("", ""), [],
            day - timedelta(days=3), day, "t",
        )  # fmt: skip
        service.add_message(  # over yesterday: never shown
            s, "Acme App", "announcement", ("旧", "Old"), ("", ""), [],
            day - timedelta(days=9), day - timedelta(days=1), "t",
        )  # fmt: skip
        nps = service.add_message(
            s, "Acme App", "nps", ("おすすめ度", "Would you recommend us?"), ("", ""), ["smb"],
            day, None, "t",
        )  # fmt: skip
        return site.site_key, enterprise.id, everyone.id, nps.id


def _titles(client: TestClient, key: str, account: str, user: str, lang: str = "en") -> list[str]:
    response = client.get(
        "/api/inapp/messages",
        params={"site_key": key, "account": account, "user": user, "lang": lang},
        headers={"Origin": ORIGIN},
    )
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == ORIGIN
    return [m["title"] for m in response.json()["messages"]]


def test_messages_reach_only_the_targeted_segment(client: TestClient, world: World) -> None:
    key, *_ids = _site_with_messages()
    assert _titles(client, key, "YAMADA-1", "u-1") == ["Maintenance", "New feature"]
    assert _titles(client, key, "YAMADA-1", "u-1", "ja") == ["メンテナンス", "新機能のお知らせ"]
    assert _titles(client, key, "MIDORI-2", "u-2") == ["Maintenance", "Would you recommend us?"]
    assert _titles(client, key, "NOBODY", "u-3") == []  # unknown to the site's source


def test_a_foreign_origin_or_a_wrong_key_is_refused_without_cors(
    client: TestClient, world: World
) -> None:
    key, *_ids = _site_with_messages()
    params = {"site_key": key, "account": "YAMADA-1", "user": "u-1"}
    for headers in ({"Origin": "https://evil.example"}, {}):
        refused = client.get("/api/inapp/messages", params=params, headers=headers)
        assert refused.status_code == 403
        assert "access-control-allow-origin" not in refused.headers
    wrong = client.get(
        "/api/inapp/messages", params={**params, "site_key": "bsk_guess"},
        headers={"Origin": ORIGIN},
    )  # fmt: skip
    assert wrong.status_code == 403
    preflight = client.options(
        "/api/inapp/events", params={"site_key": key},
        headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"},
    )  # fmt: skip
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    foreign = client.options(
        "/api/inapp/events", params={"site_key": key}, headers={"Origin": "https://evil.example"}
    )
    assert foreign.status_code == 403


def test_the_site_key_opens_nothing_else(client: TestClient, world: World) -> None:
    key, *_ids = _site_with_messages()
    for path in ("/api/accounts", f"/api/accounts/{world.yamada}"):
        response = client.get(path, headers={"Authorization": f"Bearer {key}", "Origin": ORIGIN})
        assert response.status_code == 401
    events = {"events": [{"event_id": "e", "event": "x", "ts": "2026-04-01T00:00:00Z",
                          "account": "YAMADA-1"}]}  # fmt: skip
    assert client.post("/api/events", json=events, params={"site_key": key}).status_code == 401
    # Banso's own account ids are not accepted through a site key
    by_id = {"events": [{"event_id": "e", "event": "x", "ts": "2026-04-01T00:00:00Z",
                         "account_id": world.acme}]}  # fmt: skip
    refused = client.post(
        "/api/inapp/events", json=by_id, params={"site_key": key}, headers={"Origin": ORIGIN}
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "events[0].account_id"


def test_events_through_the_site_key_are_stored_once(client: TestClient, world: World) -> None:
    key, *_ids = _site_with_messages()
    batch = {"events": [{"event_id": "web-1", "event": "report_opened", "user_id": "u-1",
                         "ts": "2026-04-01T09:00:00+09:00", "account": "YAMADA-1"}]}  # fmt: skip
    post = {"json": batch, "params": {"site_key": key}, "headers": {"Origin": ORIGIN}}
    assert client.post("/api/inapp/events", **post).json() == {"received": 1, "stored": 1}  # type: ignore[arg-type]
    assert client.post("/api/inapp/events", **post).json() == {"received": 1, "stored": 0}  # type: ignore[arg-type]
    unknown = {"events": [{**batch["events"][0], "event_id": "web-2", "account": "ZZZ"}]}
    refused = client.post(
        "/api/inapp/events", json=unknown, params={"site_key": key}, headers={"Origin": ORIGIN}
    )
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {"field": "events[0].account", "reason": "No account has the id ZZZ in source product."}
    ]
    assert refused.headers["access-control-allow-origin"] == ORIGIN


def test_an_nps_answer_is_kept_once_per_user_and_prompt(client: TestClient, world: World) -> None:
    key, enterprise, _everyone, nps = _site_with_messages()

    def answer(user: str, score: int, prompt: int = nps) -> dict[str, object]:
        response = client.post(
            "/api/inapp/nps",
            params={"site_key": key},
            json={"prompt": prompt, "account": "MIDORI-2", "user": user, "score": score,
                  "comment": "便利です"},
            headers={"Origin": ORIGIN},
        )  # fmt: skip
        return {"status": response.status_code, **response.json()}

    assert answer("u-2", 9) == {"status": 200, "stored": True}
    assert answer("u-2", 3) == {"status": 200, "stored": False}  # the first answer stays
    assert answer("u-5", 6) == {"status": 200, "stored": True}
    assert answer("u-2", 9, prompt=enterprise)["status"] == 422  # not an NPS prompt
    with session_scope() as s:
        rows = s.execute(
            select(SurveyResponse.account_id, SurveyResponse.source, SurveyResponse.survey_type,
                   SurveyResponse.score, SurveyResponse.comment)
            .where(SurveyResponse.source == "inapp").order_by(SurveyResponse.score)
        ).all()  # fmt: skip
    assert [tuple(r) for r in rows] == [
        (world.midori, "inapp", "nps", 6, "便利です"),
        (world.midori, "inapp", "nps", 9, "便利です"),
    ]
    # the prompt is no longer shown to a user who answered it
    assert _titles(client, key, "MIDORI-2", "u-2") == ["Maintenance"]
    assert _titles(client, key, "MIDORI-2", "u-7") == ["Maintenance", "Would you recommend us?"]


def test_calls_are_limited_per_site_key(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BANSO_INAPP_RATE_PER_MINUTE", "3")
    config.get_settings.cache_clear()
    key, *_ids = _site_with_messages()
    params = {"site_key": key, "account": "YAMADA-1", "user": "rate"}
    statuses = [
        client.get("/api/inapp/messages", params=params, headers={"Origin": ORIGIN})
        for _ in range(4)
    ]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    assert int(statuses[-1].headers["retry-after"]) >= 1


def test_site_and_message_rules(world: World) -> None:
    with session_scope() as s:
        with pytest.raises(InvalidValue, match="not an origin"):
            service.add_site(s, "x", SOURCE, ["app.example.jp"])
        site = service.add_site(s, "Shop", SOURCE, ["HTTPS://Shop.Example.jp:8443"])
        assert site.allowed_origins == "https://shop.example.jp:8443"
        assert site.site_key.startswith("bsk_") and len(site.site_key) > 30
        with pytest.raises(InvalidValue, match="Unknown segments: gold"):
            service.add_message(s, "Shop", "announcement", ("a", "b"), ("", ""), ["gold"],
                                today(), None, "t")  # fmt: skip
        with pytest.raises(InvalidValue, match="before the start"):
            service.add_message(s, "Shop", "announcement", ("a", "b"), ("", ""), [],
                                today(), today() - timedelta(days=1), "t")  # fmt: skip
        service.disable_site(s, "Shop")
        with pytest.raises(service.SiteRefused):
            service.site_for(s, site.site_key, "https://shop.example.jp:8443")
