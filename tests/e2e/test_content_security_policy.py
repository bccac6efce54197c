"""Pages still work under the content security policy (scripts only from /static, no inline
script or handler): a violation would show as a console error."""

from __future__ import annotations

from playwright.sync_api import expect

from e2e.conftest import Site, Tab, sign_in


def test_the_period_picker_submits_without_an_inline_handler(tab: Tab, site: Site) -> None:
    page = tab.page
    sign_in(tab, site, "admin", then="/")
    page.wait_for_url(f"{site.url}/")
    page.wait_for_load_state("load")  # dashboard.js (deferred) has wired the picker
    picker = page.get_by_test_id("period-picker")
    options = picker.locator("option").evaluate_all("els => els.map(e => e.value)")
    other = next(value for value in options if value != picker.input_value())
    with page.expect_navigation():
        picker.select_option(other)
    assert f"period={other}" in page.url
    expect(page.get_by_test_id("period-picker")).to_have_value(other)
    assert tab.errors == []


def test_api_docs_render_and_offer_authorisation(tab: Tab, site: Site) -> None:
    page = tab.page
    response = page.goto(f"{site.url}/api/docs")
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    expect(page.get_by_text("/api/accounts/{account_id}/activities").first).to_be_visible()
    page.locator("button.authorize").first.click()
    expect(page.get_by_text("token  (http, Bearer)")).to_be_visible()
    assert tab.errors == []


def test_a_bad_filter_shows_the_friendly_page(tab: Tab, site: Site) -> None:
    page = tab.page
    sign_in(tab, site, "viewer")
    response = page.goto(f"{site.url}/accounts?band=purple")
    assert response is not None and response.status == 422
    expect(page.locator("h1")).to_have_text("Invalid request")
    expect(page.get_by_test_id("field-errors")).to_contain_text("band")
    assert [e for e in tab.errors if "status of 422" not in e] == []
