"""The Expansion page in a real browser, in English and Japanese: a CSM opens an opportunity
with the form, finds it with the filters and closes it won; the list follows."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from banso.db import session_scope
from banso.expansion.models import Opportunity
from e2e.conftest import Site, Tab, sign_in

TEXTS = {
    "en": {"nav": "Expansion", "kind": "Cross-sell", "stage": "Proposal",
           "none": "No opportunities."},
    "ja": {"nav": "拡大", "kind": "クロスセル", "stage": "提案", "none": "商談はありません。"},
}  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_csm_opens_filters_and_wins_an_opportunity(tab: Tab, site: Site, lang: str) -> None:
    words = TEXTS[lang]
    page = tab.page
    page.set_extra_http_headers({"Accept-Language": lang})
    sign_in(tab, site, "csm")
    if lang == "ja":
        page.get_by_test_id("switch-language").click()
    page.get_by_role("link", name=words["nav"], exact=True).click()
    expect(page).to_have_url(f"{site.url}/expansion")
    form = page.get_by_test_id("opportunity-create")
    form.locator("input[name=account_id]").fill(str(site.world.yamada))
    form.locator("select[name=kind]").select_option("cross_sell")
    form.locator("input[name=expected_mrr]").fill("80000")
    form.locator("select[name=stage]").select_option("proposal")
    form.locator("button[type=submit]").click()
    rows = page.get_by_test_id("opportunity")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(words["kind"])
    expect(rows.first).to_contain_text(words["stage"])
    expect(rows.first).to_contain_text("80,000")

    filters = page.get_by_test_id("opportunity-filters")
    filters.locator("select[name=kind]").select_option("seats")
    filters.locator("button[type=submit]").click()
    expect(page.get_by_test_id("opportunities")).to_contain_text(words["none"])
    filters.locator("select[name=kind]").select_option("cross_sell")
    filters.locator("button[type=submit]").click()
    expect(rows).to_have_count(1)

    rows.first.locator("select[name=outcome]").select_option("won")
    rows.first.locator("button[type=submit]").click()
    expect(page.get_by_test_id("opportunities")).to_contain_text(words["none"])
    with session_scope() as s:
        stored = s.scalars(select(Opportunity)).one()
        assert (stored.account_id, stored.kind, stored.expected_mrr, stored.stage) == (
            site.world.yamada, "cross_sell", 80_000, "won",
        )  # fmt: skip
