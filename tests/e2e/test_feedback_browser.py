"""Feedback and advocacy in a real browser, in English and Japanese: on the 360 a CSM records
an ask on a new request and turns the survey comment into an ask on it, proposes a case study;
the Feedback page ranks the request with its MRR, the status changes, the CSV downloads; the
Advocacy tab moves the case study on."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from banso.db import session_scope
from banso.feedback.models import AdvocacyItem, FeedbackAsk, FeedbackRequest
from e2e.conftest import Site, Tab, sign_in

TEXTS = {
    "en": {"nav": "Feedback", "planned": "Planned", "advocacy": "Advocacy", "asked": "Asked",
           "case": "Case study", "section": "Feedback and advocacy"},
    "ja": {"nav": "フィードバック", "planned": "予定あり", "advocacy": "アドボカシー",
           "asked": "依頼済み", "case": "導入事例", "section": "フィードバックとアドボカシー"},
}  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_csm_captures_ranks_ships_and_tracks_advocacy(tab: Tab, site: Site, lang: str) -> None:
    words = TEXTS[lang]
    page = tab.page
    page.set_extra_http_headers({"Accept-Language": lang})
    sign_in(tab, site, "csm")
    if lang == "ja":
        page.get_by_test_id("switch-language").click()
    page.goto(f"{site.url}/accounts/{site.world.yamada}")
    section = page.locator("#feedback")
    expect(section).to_contain_text(words["section"])
    ask = page.get_by_test_id("account-ask")
    ask.locator("input[name=title]").fill("SAML SSO")
    ask.locator("input[name=note]").fill("監査対応で必要")
    ask.locator("button[type=submit]").click()
    expect(page.get_by_test_id("account-requests")).to_contain_text("SAML SSO")
    comment = page.get_by_test_id("survey-ask").first
    comment.locator("select[name=request_id]").select_option(label="#1 SAML SSO")
    comment.locator("button[type=submit]").click()
    expect(page.get_by_test_id("account-requests")).to_contain_text("SAML SSO")
    page.get_by_test_id("account-advocacy-create").locator("select[name=kind]").select_option(
        "case_study"
    )
    page.get_by_test_id("account-advocacy-create").locator("button[type=submit]").click()
    expect(page.locator("#feedback").get_by_test_id("advocacy-item")).to_contain_text(words["case"])

    page.get_by_role("link", name=words["nav"], exact=True).click()
    expect(page).to_have_url(f"{site.url}/feedback")
    row = page.get_by_test_id("feedback-request").first
    expect(row).to_contain_text("SAML SSO")
    expect(row.locator("td.num").first).to_have_text("1")
    row.get_by_test_id("feedback-status").locator("select").select_option("planned")
    row.get_by_test_id("feedback-status").locator("button").click()
    expect(page.get_by_test_id("feedback-request").first).to_contain_text(words["planned"])
    with page.expect_download() as info:
        page.get_by_test_id("feedback-export").click()
    assert "SAML SSO" in info.value.path().read_text(encoding="utf-8-sig")

    page.get_by_role("link", name=words["advocacy"], exact=True).click()
    expect(page).to_have_url(f"{site.url}/advocacy")
    item = page.get_by_test_id("advocacy-item").first
    item.locator("select[name=status]").select_option("asked")
    item.locator("button[type=submit]").click()
    expect(page.get_by_test_id("advocacy-item").first).to_contain_text(words["asked"])
    with session_scope() as s:
        request = s.scalars(select(FeedbackRequest)).one()
        assert (request.title, request.status) == ("SAML SSO", "planned")
        sources = sorted(s.scalars(select(FeedbackAsk.source)))
        assert sources == ["account_360", "survey"]
        advocacy = s.scalars(select(AdvocacyItem)).one()
        assert (advocacy.kind, advocacy.status) == ("case_study", "asked")
