"""On the first day of a month the dashboard and the Metrics page show the month that just ended;
the current month is there only when asked for, and then says "to date" (en) /「途中」(ja)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from banso import config
from e2e.conftest import Site, Tab, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

WATERFALL_TITLE = (
    "echarts.getInstanceByDom(document.getElementById('chart-waterfall')).getOption().title[0].text"
)


@pytest.fixture
def first_of_december(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Today is 2026-12-01 for the world, the app and the test (set before ``site`` builds)."""
    monkeypatch.setenv("BANSO_TODAY", "2026-12-01")
    config.get_settings.cache_clear()
    yield


def test_dashboard_on_the_first_of_a_month_shows_the_month_that_ended(
    first_of_december: None, tab: Tab, site: Site
) -> None:
    page = tab.page
    sign_in(tab, site, "viewer", then="/")
    picker = page.get_by_test_id("period-picker")
    expect(picker).to_have_value("2026-11")
    expect(picker.locator("option:checked")).to_have_text("2026-11")
    expect(page.get_by_test_id("to-date-note")).to_have_count(0)
    expect(page.locator("#chart-waterfall canvas")).to_be_visible()
    assert page.evaluate(WATERFALL_TITLE) == "MRR movements in 2026-11"
    # December is offered, marked as not over
    expect(picker.locator("option[value='2026-12']")).to_have_text("2026-12 (to date)")

    with page.expect_navigation():
        picker.select_option("2026-12")
    expect(picker).to_have_value("2026-12")
    expect(picker.locator("option:checked")).to_have_text("2026-12 (to date)")
    expect(page.get_by_test_id("to-date-note")).to_have_text(
        "This period is not over yet: its figures are to date."
    )
    expect(page.locator("#chart-waterfall canvas")).to_be_visible()
    assert page.evaluate(WATERFALL_TITLE) == "MRR movements in 2026-12 (to date)"

    page.get_by_test_id("switch-language").click()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    page.goto(f"{site.url}/?period=2026-12")
    expect(page.get_by_test_id("period-picker").locator("option:checked")).to_have_text(
        "2026-12（途中）"
    )
    expect(page.get_by_test_id("to-date-note")).to_contain_text("途中")
    page.goto(f"{site.url}/")
    expect(page.get_by_test_id("period-picker")).to_have_value("2026-11")
    assert tab.errors == []


def test_metrics_page_defaults_to_the_last_complete_month(
    first_of_december: None, tab: Tab, site: Site
) -> None:
    page = tab.page
    sign_in(tab, site, "viewer", then="/metrics")
    expect(page.locator("input[name=end]")).to_have_value("2026-11")
    rows = page.locator("#monthly-kpis tbody tr")
    expect(rows).to_have_count(12)
    expect(rows.last.locator("td").first).to_have_text("2026-11")
    expect(page.get_by_test_id("to-date-note")).to_have_count(0)

    page.goto(f"{site.url}/metrics?end=2026-12")
    expect(rows.last.locator("td").first).to_have_text("2026-12 (to date)")
    expect(rows.nth(10).locator("td").first).to_have_text("2026-11")
    expect(page.get_by_test_id("to-date-note")).to_have_text(
        "2026-12 is not over yet: its figures are to date."
    )
    assert tab.errors == []
