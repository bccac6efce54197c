"""An admin creates an API token in the browser, sees it once, uses it, and revokes it."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from e2e.conftest import Site, Tab, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_admin_creates_uses_and_revokes_a_token(tab: Tab, site: Site) -> None:
    page = tab.page
    sign_in(tab, site, "admin")
    page.click("nav >> text=API tokens")
    expect(page).to_have_url(f"{site.url}/admin/tokens")
    page.select_option("select[name=email]", "ops@example.jp")
    page.fill("input[name=name]", "BI export")
    page.check("input[name=scopes][value=read]")
    page.fill("input[name=days]", "30")
    page.click("form[action='/admin/tokens'] button[type=submit]")
    token = page.locator("[data-testid=new-token] code").inner_text()
    assert token.startswith("bns_")
    auth = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{site.url}/api/accounts", headers=auth).status_code == 200
    page.goto(f"{site.url}/admin/tokens")  # shown once: a fresh load no longer has it
    expect(page.locator("[data-testid=new-token]")).to_have_count(0)
    row = page.locator("tr", has_text="BI export")
    expect(row).to_contain_text("Active")
    row.locator("text=Revoke").click()
    expect(page.locator("tr", has_text="BI export")).to_contain_text("Revoked")
    assert httpx.get(f"{site.url}/api/accounts", headers=auth).status_code == 401
    page.click("nav >> text=Audit log")
    expect(page.locator("tbody")).to_contain_text("token.revoke")
    assert tab.errors == []
