"""The owner, team, touch model and segment filters of the dashboard and the Metrics page: one
code path (``revenue.service.BookFilter``) gives each page the figures of the accounts it lets
through. The small world on its last complete month: 山田製作所 (佐藤, Enterprise, high touch)
ends it at 130,000 MRR, みどり商事 (田中, SMB, tech touch) at 50,000, Acme left in July."""

from __future__ import annotations

import csv
import io
import re

import pytest
from fastapi.testclient import TestClient

from banso.accounts.models import Account
from banso.dates import last_complete_month
from banso.db import session_scope
from banso.team.models import TeamMember
from web.world import World


@pytest.fixture
def touch(world: World) -> World:
    with session_scope() as session:
        session.get(Account, world.yamada).touch_model = "high"  # type: ignore[union-attr]
        session.get(Account, world.midori).touch_model = "tech"  # type: ignore[union-attr]
        session.get(TeamMember, world.sato_member).team = "Enterprise"  # type: ignore[union-attr]
        session.get(TeamMember, world.tanaka_member).team = "SMB"  # type: ignore[union-attr]
    return world


def _mrr_end(client: TestClient, **filters: str) -> str:
    """The last complete month's MRR in the Metrics page's CSV export under ``filters``."""
    response = client.get(
        "/metrics/export", params={"table": "revenue", "format": "csv", **filters}
    )
    assert response.status_code == 200, response.text
    month = last_complete_month().strftime("%Y-%m")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    (row,) = [r for r in rows[1:] if r[0] == month]
    return row[1]  # the column after the month: MRR


def test_the_metrics_filters_give_each_books_figures(
    client: TestClient, sign_in, touch: World
) -> None:  # type: ignore[no-untyped-def]
    sign_in("viewer")
    assert _mrr_end(client) == "180000"
    assert _mrr_end(client, owner=str(touch.sato_member)) == "130000"
    assert _mrr_end(client, owner=str(touch.tanaka_member)) == "50000"
    assert _mrr_end(client, team="Enterprise") == "130000"
    assert _mrr_end(client, touch="tech") == "50000"
    assert _mrr_end(client, segment="SMB") == "50000"
    assert _mrr_end(client, segment="SMB", touch="high") == "0"
    long_name = "チーム" * 33  # 99 characters: the cache key is a hash of the filter
    assert _mrr_end(client, team=long_name, segment="S" * 100) == "0"
    page = client.get("/metrics", params={"touch": "high"})
    assert page.status_code == 200
    assert 'data-testid="filter-touch"' in page.text
    assert re.search(r'<option value="high" selected>', page.text)
    assert "&amp;touch=high" in page.text  # the downloads keep the filter
    assert "130,000" in page.text and "180,000" not in page.text


def _mrr_tile(html: str) -> str:
    tile = html.index('data-testid="tile"')
    return re.search(r'class="big">([^<]+)<', html[tile:]).group(1)  # type: ignore[union-attr]


def test_the_dashboard_filters_its_revenue_tiles(client: TestClient, sign_in, touch: World) -> None:  # type: ignore[no-untyped-def]
    sign_in("admin")
    assert _mrr_tile(client.get("/dashboard").text) == "¥180,000"
    assert _mrr_tile(client.get("/dashboard", params={"team": "SMB"}).text) == "¥50,000"
    assert _mrr_tile(client.get("/", params={"touch": "high"}).text) == "¥130,000"
    mine = client.get("/dashboard", params={"owner": str(touch.sato_member), "segment": "SMB"})
    assert _mrr_tile(mine.text) == "¥0"
    assert client.get("/dashboard", params={"owner": "999"}).status_code == 422
