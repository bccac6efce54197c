"""The account 360's usage fragment: who may load it, unknown accounts, and what it shows."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, time, timedelta

import pyarrow as pa
from fastapi.testclient import TestClient

from banso.accounts.models import AccountMerge
from banso.config import get_settings
from banso.dates import today as company_today
from banso.db import session_scope
from banso.usage.store import EVENT_SCHEMA, append_events
from web.world import World

MERGED_ID = 9_999
"""An account merged into 山田製作所 (its row is gone; its events stay under its old id)."""


def at(day: date, hour: int) -> datetime:
    """``hour`` o'clock company time on ``day`` as a UTC instant."""
    return datetime.combine(day, time(hour), get_settings().tz).astimezone(UTC)


def seed_usage(world: World) -> date:
    today = company_today()
    rows = [
        (world.yamada, "u1", "login", at(today, 10)),
        (world.yamada, "u2", "report.view", at(today, 11)),
        (MERGED_ID, "v1", "login", at(today - timedelta(days=1), 10)),
        (world.yamada, "u1", "login", at(today - timedelta(days=40), 10)),
        (world.midori, "m1", "login", at(today, 9)),
    ]
    append_events(
        pa.Table.from_pylist(
            [
                {"event_id": f"e{i}", "account_id": a, "user_id": u, "event": e, "ts": ts}
                | {"properties": None}
                for i, (a, u, e, ts) in enumerate(rows)
            ],
            schema=EVENT_SCHEMA,
        )
    )
    with session_scope() as session:
        session.add(AccountMerge(merged_account_id=MERGED_ID, kept_account_id=world.yamada))
    return today


def chart_of(html: str) -> dict[str, object]:
    found = re.search(r'<script type="application/json" id="usage-data">(.*?)</script>', html)
    assert found is not None, html
    return json.loads(found.group(1))  # type: ignore[no-any-return]


def test_signed_out_visitors_are_sent_to_sign_in(client: TestClient, world: World) -> None:
    response = client.get(f"/accounts/{world.yamada}/usage", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/sign-in?next=%2Faccounts%2F{world.yamada}%2Fusage"


def test_unknown_account_is_404(client: TestClient, world: World, sign_in) -> None:  # type: ignore[no-untyped-def]
    sign_in("viewer")
    response = client.get("/accounts/123456/usage")
    assert response.status_code == 404
    assert "There is no account with id 123456." in response.text


def test_the_360_loads_the_fragment_after_the_page(
    client: TestClient,
    world: World,
    sign_in,  # type: ignore[no-untyped-def]
) -> None:
    sign_in("viewer")
    page = client.get(f"/accounts/{world.yamada}")
    assert page.status_code == 200
    assert f'hx-get="/accounts/{world.yamada}/usage" hx-trigger="load"' in page.text
    assert 'id="usage-data"' not in page.text  # the page itself does not read the events


def test_daily_figures_include_the_merged_account(
    client: TestClient,
    world: World,
    sign_in,  # type: ignore[no-untyped-def]
) -> None:
    today = seed_usage(world)
    sign_in("viewer")
    response = client.get(f"/accounts/{world.yamada}/usage")
    assert response.status_code == 200
    html = response.text
    assert '<dd data-testid="active-users-28d">3</dd>' in html  # u1, u2 and v1 of the merged id
    assert "<dt>Events (28 days)</dt><dd>3</dd>" in html
    assert "<dt>Logins (28 days)</dt><dd>2</dd>" in html
    assert f"<dt>Last active day</dt><dd class=\"date\">{today.isoformat()}</dd>" in html
    chart = chart_of(html)
    days = chart["days"]
    series = chart["series"]
    assert isinstance(days, list) and isinstance(series, dict)
    assert len(days) == 90
    assert (days[0], days[-1]) == ((today - timedelta(days=89)).isoformat(), today.isoformat())
    assert series["active_users"][-2:] == [1, 2]
    assert series["events"][-2:] == [1, 2]
    assert series["events"][-41] == 1  # 40 days ago
    assert sum(series["events"]) == 4
    assert chart["title"] == "Usage per day, last 90 days"


def test_in_japanese(client: TestClient, world: World, sign_in) -> None:  # type: ignore[no-untyped-def]
    seed_usage(world)
    sign_in("csm")
    response = client.get(f"/accounts/{world.yamada}/usage", headers={"Accept-Language": "ja"})
    assert "<h2>利用状況</h2>" in response.text
    assert "<dt>アクティブユーザー数（28日）</dt>" in response.text
    chart = chart_of(response.text)
    assert (chart["title"], chart["active_users"], chart["events"], chart["day"]) == (
        "日別の利用状況（直近90日）",
        "アクティブユーザー数",
        "イベント数",
        "日付",
    )


def test_an_account_without_usage_says_so(
    client: TestClient,
    world: World,
    sign_in,  # type: ignore[no-untyped-def]
) -> None:
    seed_usage(world)
    sign_in("viewer")
    response = client.get(f"/accounts/{world.acme}/usage")
    assert response.status_code == 200
    assert "No usage events in the last 90 days." in response.text
    assert 'id="chart-usage"' not in response.text
