"""The accounts list filtered by health band in the browser: the band in colour and in words."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from banso.dates import today as company_today
from banso.db import session_scope
from banso.health import service as health_service
from e2e.conftest import Site, Tab, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_filter_by_band_and_sort_by_score(tab: Tab, site: Site) -> None:
    with session_scope() as s:
        health_service.score_days(s, [company_today() - timedelta(days=1)])
    page = tab.page
    sign_in(tab, site, "viewer")
    page.get_by_test_id("band-filter").select_option("yellow")
    expect(page.get_by_test_id("account-count")).to_have_text("1 account")
    cell = page.locator("#accounts tbody tr").first.get_by_test_id("health")
    expect(cell).to_have_text("72 Caution")
    # the yellow band's colour from banso.css (--warn), not just the word
    colour = cell.locator("span").evaluate("e => getComputedStyle(e).color")
    assert colour != page.locator("h1").evaluate("e => getComputedStyle(e).color")
    page.get_by_test_id("band-filter").select_option("")
    expect(page.get_by_test_id("account-count")).to_have_text("59 accounts")  # Acme churned
    page.get_by_test_id("show-churned").check()
    expect(page.get_by_test_id("account-count")).to_have_text("60 accounts")
    page.get_by_test_id("show-churned").uncheck()
    expect(page.get_by_test_id("account-count")).to_have_text("59 accounts")
    page.click("#accounts thead >> text=Health")
    first = page.locator("#accounts tbody tr").first
    expect(first).to_contain_text("みどり商事株式会社")  # lowest score first
    page.click("#accounts thead >> text=Health")  # again: highest first
    expect(first).to_contain_text("株式会社山田製作所")
    expect(first.get_by_test_id("health")).to_have_text("89 Healthy")
    page.get_by_test_id("switch-language").click()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    page.goto(f"{site.url}/accounts?sort=score&desc=true")
    yamada = page.locator("#accounts tbody tr", has_text="株式会社山田製作所")
    expect(yamada.get_by_test_id("health")).to_have_text("89 良好")
    assert tab.errors == []
