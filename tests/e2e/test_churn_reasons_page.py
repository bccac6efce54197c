"""The Churn reasons page in a real browser: a CSM reaches it from Metrics, records the reason
for Acme's churn, and the lost MRR moves from "No reason recorded" to that reason; in Japanese
too, without a console error."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from banso.dates import today as company_today
from e2e.conftest import Site, Tab, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_a_csm_records_a_churn_reason_from_the_page(tab: Tab, site: Site) -> None:
    month = (company_today() - timedelta(days=135)).strftime("%Y-%m")
    page = tab.page
    sign_in(tab, site, "csm", then="/metrics")
    page.get_by_test_id("churn-reasons-link").click()
    expect(page.locator("h1")).to_have_text("Churn reasons")
    page.goto(f"{site.url}/metrics/churn-reasons?start={month}&end={month}")
    table = page.get_by_test_id("lost-by-reason")
    expect(table).to_contain_text("No reason recorded")
    expect(table).to_contain_text("50,000")
    form = page.get_by_test_id("record-reason")
    expect(form).to_have_count(1)
    form.locator("select[name=reason]").select_option("cheaper_competitor")
    form.locator("input[name=note]").fill("moved to a cheaper tool")
    with page.expect_navigation():
        form.get_by_role("button", name="Record").click()
    expect(table).to_contain_text("Cheaper competitor")
    expect(table).not_to_contain_text("No reason recorded")
    expect(page.get_by_test_id("record-reason")).to_have_count(0)
    with page.expect_navigation():
        page.get_by_test_id("switch-language").click()
    expect(page.locator("h1")).to_have_text("解約理由")
    expect(page.get_by_test_id("lost-by-reason")).to_contain_text("より安い競合製品")
    assert tab.errors == []
