"""The account 360's usage chart arrives after the page (htmx) and ECharts draws it."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pyarrow as pa
import pytest
from playwright.sync_api import expect

from banso.config import get_settings
from banso.dates import today as company_today
from banso.usage.store import EVENT_SCHEMA, append_events
from e2e.conftest import Site, Tab, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_usage_chart_renders_on_the_account_360(tab: Tab, site: Site) -> None:
    today = company_today()
    rows = [
        {
            "event_id": f"e{n}-{user}",
            "account_id": site.world.yamada,
            "user_id": user,
            "event": "login",
            "ts": datetime.combine(
                today - timedelta(days=n), time(10), get_settings().tz
            ).astimezone(UTC),
            "properties": None,
        }
        for n in range(0, 60, 3)
        for user in ("u1", "u2")[: 1 + n % 2]
    ]
    append_events(pa.Table.from_pylist(rows, schema=EVENT_SCHEMA))
    page = tab.page
    sign_in(tab, site, "viewer")
    page.goto(f"{site.url}/accounts/{site.world.yamada}")
    expect(page.get_by_test_id("active-users-28d")).to_have_text("2")
    canvas = page.locator("#chart-usage canvas")
    expect(canvas).to_have_count(1)
    box = canvas.bounding_box()
    assert box is not None and box["width"] > 200 and box["height"] > 200
    assert tab.errors == []
