"""What a CSM does in the browser: sign in, find an account by kana, log a note, switch language;
and what the app refuses: a wrong password, a viewer's edit, a forged form."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from e2e.conftest import Site, Tab, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_sign_in_and_sign_out(tab: Tab, site: Site) -> None:
    page = tab.page
    page.goto(f"{site.url}/accounts")
    expect(page).to_have_url(f"{site.url}/sign-in?next=%2Faccounts")
    sign_in(tab, site, "csm")
    expect(page).to_have_url(f"{site.url}/accounts")
    expect(page.locator(".who")).to_have_text("Csm (CSM)")
    page.click("text=Sign out")
    expect(page).to_have_url(f"{site.url}/sign-in")
    page.goto(f"{site.url}/accounts")
    expect(page.locator("h1")).to_have_text("Sign in")
    assert tab.errors == []


def test_wrong_password_keeps_the_user_out(tab: Tab, site: Site) -> None:
    sign_in(tab, site, "ops", password="wrong-password")
    expect(tab.page.locator("[role=alert]")).to_have_text("Wrong e-mail address or password.")
    expect(tab.page.locator("nav")).to_have_count(0)


def test_search_by_kana_and_open_the_account_360(tab: Tab, site: Site) -> None:
    page = tab.page
    sign_in(tab, site, "viewer")
    expect(page.get_by_test_id("account-count")).to_have_text("59 accounts")
    page.get_by_test_id("account-search").fill("やまだ")
    expect(page.get_by_test_id("account-count")).to_have_text("1 account")
    expect(page).to_have_url(
        f"{site.url}/accounts?q=%E3%82%84%E3%81%BE%E3%81%A0&owner=&plan="
        "&segment=&lifecycle=&band=&renewal=&sort=name"
    )
    page.click("text=株式会社山田製作所")
    expect(page.locator("h1")).to_contain_text("株式会社山田製作所")
    expect(page.get_by_test_id("mrr")).to_have_text("¥130,000")
    expect(page.locator("#contacts")).to_contain_text("山田 太郎")
    assert tab.errors == []


def test_log_a_note_and_see_it_in_the_timeline(tab: Tab, site: Site) -> None:
    page = tab.page
    sign_in(tab, site, "csm")
    page.goto(f"{site.url}/accounts/{site.world.yamada}")
    page.select_option("#log-activity select[name=kind]", "note")
    page.get_by_test_id("activity-summary").fill("契約更新の意向を確認した")
    page.click("text=Save to timeline")
    first = page.locator("ol.timeline li").first
    expect(first).to_contain_text("Note")
    expect(first).to_contain_text("契約更新の意向を確認した")
    assert tab.errors == []


def test_language_switch(tab: Tab, site: Site) -> None:
    page = tab.page
    sign_in(tab, site, "csm")
    expect(page.locator("h1")).to_have_text("Accounts")
    page.get_by_test_id("switch-language").click()
    expect(page.locator("h1")).to_have_text("顧客")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_test_id("account-count")).to_have_text("59 社")
    page.get_by_test_id("switch-language").click()
    expect(page.locator("h1")).to_have_text("Accounts")


def test_viewer_is_denied_an_edit(tab: Tab, site: Site) -> None:
    page = tab.page
    sign_in(tab, site, "viewer")
    page.goto(f"{site.url}/accounts/{site.world.yamada}")
    expect(page.locator("#log-activity")).to_have_count(0)
    status = page.evaluate(
        """async (url) => {
            const token = document.querySelector("input[name=csrf_token]").value;
            const body = new URLSearchParams({kind: "note", summary: "viewer note",
                                              csrf_token: token});
            return (await fetch(url, {method: "POST", body})).status;
        }""",
        f"{site.url}/accounts/{site.world.yamada}/activities",
    )
    assert status == 403
    page.reload()
    expect(page.locator("#timeline")).not_to_contain_text("viewer note")


def test_a_form_with_a_forged_csrf_token_is_rejected(tab: Tab, site: Site) -> None:
    page = tab.page
    sign_in(tab, site, "admin")
    page.goto(f"{site.url}/accounts/{site.world.yamada}")
    page.eval_on_selector("#log-activity input[name=csrf_token]", "el => el.value = 'forged'")
    page.get_by_test_id("activity-summary").fill("forged note")
    page.click("text=Save to timeline")
    expect(page.locator("[role=alert]")).to_contain_text("reload the page and try again")
    page.goto(f"{site.url}/accounts/{site.world.yamada}")
    expect(page.locator("#timeline")).not_to_contain_text("forged note")


def test_dashboard_charts_render(tab: Tab, site: Site) -> None:
    page = tab.page
    sign_in(tab, site, "admin")
    page.goto(f"{site.url}/")
    expect(page.get_by_test_id("tile").first).to_contain_text("MRR")
    for chart in ("#chart-waterfall", "#chart-retention", "#chart-churn"):
        expect(page.locator(f"{chart} canvas")).to_have_count(1)
        box = page.locator(f"{chart} canvas").bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 200
    assert tab.errors == []


def test_file_upload_with_a_bad_row_shows_the_row_and_column(
    tab: Tab, site: Site, tmp_path: Path
) -> None:
    page = tab.page
    bad = tmp_path / "契約.csv"
    bad.write_text(
        "account_id,subscription_id,plan,start_date,end_date,amount,currency,"
        "billing_period_months\nK01,S01,pro,2024-04-01,,10000,JPY,1\n"
        "K02,S02,pro,2024-04-01,,lots,JPY,1\n",
        encoding="utf-8",
    )
    sign_in(tab, site, "ops", then="/data")
    page.select_option("select[name=kind]", "subscriptions")
    page.get_by_test_id("import-file").set_input_files(str(bad))
    page.click("#import-form button[type=submit]")
    problem = page.get_by_test_id("import-problem")
    expect(problem).to_have_count(1)
    expect(problem.locator("td")).to_have_text(
        ["契約.csv", "3", "amount", "not an amount of money: lots"]
    )
    expect(page.locator("[role=alert]")).to_contain_text("nothing was imported")
    # The rejected upload answers 400, which Chromium logs; nothing else may go wrong.
    assert [e for e in tab.errors if "status of 400" not in e] == []


def test_every_page_of_the_navigation_opens_without_errors(tab: Tab, site: Site) -> None:
    page = tab.page
    sign_in(tab, site, "admin")
    headings = {
        "Dashboard": "Dashboard",
        "Accounts": "Accounts",
        "My tasks": "My tasks",
        "Renewals": "Renewals",
        "Metrics": "Metrics",
        "Health": "Health",
        "Data": "Data",
    }
    for link, heading in headings.items():
        page.locator("nav").get_by_role("link", name=link, exact=True).click()
        expect(page.locator("h1")).to_have_text(heading)
        expect(page.locator("nav [aria-current=page]")).to_have_text(link)
    assert tab.errors == []
