"""The success plan on the account 360 in a real browser, in English and Japanese: the owner CSM
records a review that puts an objective at risk with a new KPI value, and the section changes in
place (htmx); a viewer sees the plan without forms, and the form's and the API's endpoints
answer 403."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from banso.db import session_scope
from banso.success import handoff, service
from banso.success.models import SuccessObjective
from e2e.conftest import Site, Tab, sign_in
from e2e.test_visual_layout import CHECK

TEXTS = {
    "en": {"plan": "Success plan", "at_risk": "At risk of missing", "on_track": "On track"},
    "ja": {"plan": "サクセスプラン", "at_risk": "未達リスク", "on_track": "順調"},
}


def _objective(site: Site) -> int:
    with session_scope() as s:
        return service.add_objective(
            s, site.world.yamada, "月次決算を3日で締める", kpi="Days to close", baseline=8,
            target=3, status="on_track",
        ).id  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_csm_reviews_an_objective_from_the_360(tab: Tab, site: Site, lang: str) -> None:
    words = TEXTS[lang]
    oid = _objective(site)
    page = tab.page
    page.set_extra_http_headers({"Accept-Language": lang})
    sign_in(tab, site, "csm")
    if lang == "ja":
        page.get_by_test_id("switch-language").click()
    page.goto(f"{site.url}/accounts/{site.world.yamada}")
    section = page.get_by_test_id("success-plan")
    expect(section.locator("h2")).to_have_text(words["plan"])
    objective = section.get_by_test_id("objective")
    expect(objective.get_by_test_id("objective-status")).to_have_text(words["on_track"])
    form = objective.get_by_test_id("objective-form")
    form.get_by_test_id("objective-status-input").select_option("at_risk")
    form.get_by_test_id("objective-value-input").fill("6")
    form.get_by_test_id("objective-note-input").fill("AP joins in May")
    form.get_by_test_id("objective-review").click()
    objective = page.get_by_test_id("success-plan").get_by_test_id("objective")
    expect(objective.get_by_test_id("objective-status")).to_have_text(words["at_risk"])
    expect(objective.get_by_test_id("objective-progress")).to_contain_text("40")
    expect(objective.get_by_test_id("objective-history")).to_contain_text("AP joins in May")
    page.reload()  # stored, not only swapped in
    expect(page.get_by_test_id("objective-status")).to_have_text(words["at_risk"])
    with session_scope() as s:
        stored = s.get(SuccessObjective, oid)
        assert stored is not None and (stored.status, stored.kpi_value) == ("at_risk", 6.0)
    assert tab.errors == []


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_viewer_sees_the_plan_but_cannot_change_it(tab: Tab, site: Site, lang: str) -> None:
    words = TEXTS[lang]
    oid = _objective(site)
    page = tab.page
    page.set_extra_http_headers({"Accept-Language": lang})
    sign_in(tab, site, "viewer")
    if lang == "ja":
        page.get_by_test_id("switch-language").click()
    page.goto(f"{site.url}/accounts/{site.world.yamada}")
    section = page.get_by_test_id("success-plan")
    expect(section.get_by_test_id("objective-status")).to_have_text(words["on_track"])
    expect(section.locator("form")).to_have_count(0)
    statuses = page.evaluate(
        """async ([form, api]) => {
            const token = document.querySelector("input[name=csrf_token]").value;
            const body = new URLSearchParams({status: "achieved", csrf_token: token});
            const posted = await fetch(form, {method: "POST", body});
            const patched = await fetch(api, {
                method: "PATCH", body: JSON.stringify({status: "achieved"}),
                headers: {"Content-Type": "application/json", "X-CSRF-Token": token}});
            return [posted.status, patched.status];
        }""",
        [f"{site.url}/success-plan/objectives/{oid}", f"{site.url}/api/success-plans/{oid}"],
    )
    assert statuses == [403, 403]
    with session_scope() as s:
        stored = s.get(SuccessObjective, oid)
        assert stored is not None and stored.status == "on_track"


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_section_fits_a_phone_screen(tab: Tab, site: Site, lang: str) -> None:
    """With a handoff, an objective from it and its history, the 360 still fits 390 px, and no
    figure, date or tag wraps (the layout check of every page)."""
    with session_scope() as s:
        handoff.set_handoff(
            s,
            site.world.yamada,
            promised_outcome="月次決算を8営業日から5営業日に短縮したい",
            stakeholders="経理部長 山田 太郎（決裁者）、経理課 鈴木 花子（推進役）",
            deal_notes="競合A社と比較検討の上で採用。決め手はサポート体制と日本語UI。",
        )
        oid = service.add_objective(s, site.world.yamada, None, kpi="月次決算の所要日数",
                                    baseline=8, target=5, from_handoff=True).id  # fmt: skip
        service.review(s, oid, "定例で利用状況を確認。部署ごとの利用が増えている。",
                       status="on_track", value=6.5)  # fmt: skip
    page = tab.page
    page.set_viewport_size({"width": 390, "height": 844})
    page.set_extra_http_headers({"Accept-Language": lang})
    sign_in(tab, site, "csm")
    if lang == "ja":
        page.get_by_test_id("switch-language").click()
    page.goto(f"{site.url}/accounts/{site.world.yamada}")
    page.get_by_test_id("success-plan").locator("details summary").last.click()
    result = page.evaluate(CHECK)
    wide = page.evaluate("""() => Array.from(document.querySelectorAll('#success-plan *'))
        .filter(e => e.getBoundingClientRect().right > window.innerWidth)
        .map(e => e.tagName + '.' + e.className + ' ' + (e.getAttribute('name') || '') + ' '
             + Math.round(e.getBoundingClientRect().right)).slice(0, 15)""")
    assert result["scrollWidth"] <= result["width"], (result, wide)
    assert result["wrapped"] == []
