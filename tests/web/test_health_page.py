"""Health on the pages: band counts and trend, the 360 score, the empty state before scoring."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from fastapi.testclient import TestClient

from banso.accounts.views_service import company_today
from banso.db import session_scope
from banso.health import service as health_service
from web.world import World


def test_before_scoring_the_health_page_says_how_to_score(
    client: TestClient,
    sign_in,  # type: ignore[no-untyped-def]
) -> None:
    sign_in("viewer")
    page = client.get("/health")
    assert page.status_code == 200
    assert "it appears after `banso health score` has run" in page.text


def test_scored_accounts_show_their_band_everywhere(
    client: TestClient,
    sign_in,  # type: ignore[no-untyped-def]
    world: World,
) -> None:
    yesterday = company_today() - timedelta(days=1)
    with session_scope() as s:
        # The two accounts with a live subscription are scored: 山田 healthy, みどり caution.
        assert health_service.score_days(s, [yesterday - timedelta(days=7), yesterday]) == 4
    sign_in("viewer")
    page = client.get("/health").text
    assert 'data-testid="band-green">1<' in page
    assert 'data-testid="band-yellow">1<' in page
    assert 'data-testid="band-red">0<' in page
    assert "No account is at risk." in page
    account = client.get(f"/accounts/{world.yamada}").text
    assert 'data-testid="health-score">89<' in account and ">Healthy<" in account
    assert "Why it changed" in account
    api = client.get(f"/api/accounts/{world.midori}/health").json()
    assert (round(api["score"]), api["band"], api["day"]) == (72, "yellow", str(yesterday))
    assert 'id="health-bands"' in client.get("/").text


def test_accounts_list_filters_and_sorts_by_health_in_both_languages(
    client: TestClient,
    sign_in,  # type: ignore[no-untyped-def]
    world: World,
) -> None:
    with session_scope() as s:
        health_service.score_days(s, [company_today() - timedelta(days=1)])
    sign_in("viewer")
    green = client.get("/accounts?band=green", headers={"Accept-Language": "en"}).text
    assert "1 account" in green and "株式会社山田製作所" in green and "みどり" not in green
    assert '<span class="band-green">89 Healthy</span>' in green
    assert '<option value="green" selected>Healthy</option>' in green
    yellow = client.get("/accounts?band=yellow", headers={"Accept-Language": "ja"}).text
    assert '<span class="band-yellow">72 注意</span>' in yellow
    assert '<option value="none" >スコアなし</option>' in yellow
    by_score = client.get("/accounts?sort=score&desc=true").text
    assert by_score.index("株式会社山田製作所") < by_score.index("みどり商事株式会社")
    assert by_score.index("みどり商事株式会社") < by_score.index("Acme Japan K.K.")
    assert "58 accounts" in client.get("/accounts?band=none").text
    api = client.get("/api/accounts", params={"band": "yellow"}).json()
    assert [(i["name"], round(i["health_score"]), i["health_band"]) for i in api["items"]] == [
        ("みどり商事株式会社", 72, "yellow")
    ]
    one = client.get(f"/api/accounts/{world.yamada}").json()["account"]
    assert (round(one["health_score"]), one["health_band"]) == (89, "green")
    export = client.get("/accounts/export.csv?band=green").text.lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(export)))
    assert rows[0][7:9] == ["Health score", "Health band"]
    assert [r[0] for r in rows[1:]] == ["株式会社山田製作所"]
    assert rows[1][6:9] == ["adoption", str(round(one["health_score"], 1)), "green"]
