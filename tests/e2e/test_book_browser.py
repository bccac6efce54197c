"""My book in the browser: a CSM signing in lands on their book, a leader on the dashboard, from
which they open a CSM's book; in English and Japanese."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from banso import dates
from banso.db import session_scope
from banso.health.models import HealthCurrent
from banso.playbooks import ctas
from e2e.conftest import Site, Tab, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _yamada_at_risk(site: Site) -> None:
    """山田 (佐藤's, MRR ¥130,000) in the red band with an open CTA whose first step is due."""
    today = dates.today()
    with session_scope() as s:
        s.add(
            HealthCurrent(
                account_id=site.world.yamada,
                day=today - timedelta(days=1),
                scorecard="default",
                score=28.0,
                band="red",
            )
        )
        spec = ctas.CtaSpec(
            playbook="health-red",
            reason="band",
            type="risk",
            priority="high",
            title="山田製作所のリスク対応",
            due_in_business_days=5,
            tasks=(("担当役員に電話", 0),),
        )
        ctas.open_or_update(
            s, site.world.yamada, today - timedelta(days=3), spec, site.world.sato_member, "test"
        )


def test_a_csm_lands_on_their_book(tab: Tab, site: Site) -> None:
    _yamada_at_risk(site)
    page = tab.page
    sign_in(tab, site, "csm", then="/")
    expect(page).to_have_url(f"{site.url}/")
    expect(page.get_by_test_id("book-title")).to_have_text("My book")
    at_risk = page.get_by_test_id("book-at-risk")
    expect(at_risk).to_contain_text("株式会社山田製作所")
    expect(at_risk).to_contain_text("¥130,000")
    expect(at_risk).to_contain_text("山田製作所のリスク対応")
    expect(page.get_by_test_id("book-tasks")).to_contain_text("担当役員に電話")
    month = dates.last_complete_month().strftime("%Y-%m")
    expect(page.get_by_test_id("book-month")).to_contain_text(month)
    page.get_by_test_id("switch-language").click()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_test_id("book-title")).to_have_text("担当顧客")
    expect(page.get_by_test_id("book-tasks")).to_contain_text("期限切れ")
    expect(page.locator("nav a[aria-current=page]")).to_have_text("担当顧客")
    page.click("nav >> text=ダッシュボード")  # the company dashboard stays one click away
    expect(page).to_have_url(f"{site.url}/dashboard")
    expect(page.locator("h1")).to_have_text("ダッシュボード")
    expect(page.locator("nav a[aria-current=page]")).to_have_text("ダッシュボード")
    assert tab.errors == []


def test_a_leader_lands_on_the_dashboard_and_opens_a_csms_book(tab: Tab, site: Site) -> None:
    _yamada_at_risk(site)
    page = tab.page
    sign_in(tab, site, "admin", then="/")
    expect(page.locator("h1")).to_have_text("Dashboard")
    page.click("nav >> text=My book")
    expect(page).to_have_url(f"{site.url}/book")
    expect(page.get_by_test_id("book-choose")).to_be_visible()
    page.get_by_test_id("book-picker").select_option(label="佐藤 花子")
    page.click("form[action='/book'] button[type=submit]")
    expect(page).to_have_url(f"{site.url}/book?owner={site.world.sato_member}")
    expect(page.get_by_test_id("book-title")).to_have_text("Book of 佐藤 花子")
    expect(page.get_by_test_id("book-at-risk")).to_contain_text("株式会社山田製作所")
    page.get_by_test_id("switch-language").click()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_test_id("book-title")).to_have_text("佐藤 花子 さんの担当顧客")
    expect(page.get_by_test_id("book-at-risk")).to_contain_text("危険")
    assert tab.errors == []
