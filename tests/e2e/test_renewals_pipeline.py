"""The Renewals page's pipeline in a real browser, in English and Japanese: the CSM sets a
renewal's forecast in place (htmx swaps the row; probability and expected MRR follow), and it
is kept after a reload."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from banso.dates import today as company_today
from banso.revenue.contracts import add_months
from e2e.conftest import Site, Tab, sign_in

TEXTS = {
    "en": {"heading": "Renewal pipeline", "likely": "75.0%"},
    "ja": {"heading": "更新パイプライン", "likely": "75.0%"},
}


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_csm_forecasts_a_renewal_in_place(tab: Tab, site: Site, lang: str) -> None:
    words = TEXTS[lang]
    day = add_months(company_today() - timedelta(days=200), 12).isoformat()
    page = tab.page
    page.set_extra_http_headers({"Accept-Language": lang})
    sign_in(tab, site, "csm")
    if lang == "ja":
        page.get_by_test_id("switch-language").click()
    page.goto(f"{site.url}/renewals?from={day}&to={day}")
    expect(page.get_by_role("heading", name=words["heading"])).to_be_visible()
    row = page.get_by_test_id("renewal")
    expect(row).to_have_count(1)
    row.get_by_test_id("forecast-status").select_option("likely")
    row.get_by_test_id("forecast-note").fill("予算確保済み")
    row.get_by_test_id("forecast-save").click()
    expect(page.get_by_test_id("renewal-probability")).to_have_text(words["likely"])
    expect(page.get_by_test_id("renewal-expected")).to_contain_text("75,000")  # ¥100,000 × 0.75
    page.reload()
    expect(page.get_by_test_id("forecast-status")).to_have_value("likely")
    expect(page.get_by_test_id("forecast-note")).to_have_value("予算確保済み")
    assert tab.errors == []
