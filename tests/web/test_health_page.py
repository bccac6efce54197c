"""Health on the pages: band counts and trend, the 360 score, the empty state before scoring."""

from __future__ import annotations

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
