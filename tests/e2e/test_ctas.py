"""A CSM's day with CTAs in the browser, in English and Japanese: create one from the 360 with
a playbook's tasks, tick them, snooze another from My tasks, close one with an outcome, and
watch the cards and the counts change in place (htmx). A viewer sees no forms and the
endpoints answer 403 to their cookie."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from playwright.sync_api import expect

from banso.dates import today as company_today
from banso.db import session_scope
from banso.playbooks.models import Cta
from e2e.conftest import Site, Tab, sign_in

TEXTS = {
    "en": {"counts1": "1 open CTA,", "counts2": "2 open CTAs,", "snoozed": "1 snoozed",
           "title": "Health is red: find out why", "done": "3 of 3 steps done",
           "closed": "Not needed", "zero": "0 open CTAs"},
    "ja": {"counts1": "未完了の CTA 1 件", "counts2": "未完了の CTA 2 件",
           "snoozed": "スヌーズ中 1 件",
           "title": "ヘルススコアが危険: 原因を確認", "done": "3 件中 3 件完了",
           "closed": "対応不要", "zero": "未完了の CTA 0 件"},
}  # fmt: skip


def _stored_cta(site: Site) -> int:
    today = company_today()
    with session_scope() as s:
        cta = Cta(
            account_id=site.world.yamada, playbook="usage-inactive", reason="inactive",
            type="risk", priority="medium", title="利用が止まった理由を確認",
            title_texts=json.dumps({"en": "Find out why usage stopped",
                                    "ja": "利用が止まった理由を確認"}),
            status="open", owner_id=site.world.sato_member, due_date=today,
            first_triggered_on=today, last_triggered_on=today, trigger_count=1,
        )  # fmt: skip
        s.add(cta)
        s.flush()
        return cta.id


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_csm_creates_ticks_snoozes_and_closes_ctas(tab: Tab, site: Site, lang: str) -> None:
    words = TEXTS[lang]
    other = _stored_cta(site)
    page = tab.page
    page.set_extra_http_headers({"Accept-Language": lang})
    sign_in(tab, site, "csm")
    if lang == "ja":
        page.get_by_test_id("switch-language").click()
    page.goto(f"{site.url}/accounts/{site.world.yamada}")
    counts = page.get_by_test_id("cta-counts")
    expect(counts).to_contain_text(words["counts1"])
    page.locator("#cta-new summary").click()
    page.select_option("[data-testid=cta-template]", "health-red")
    page.locator("[data-testid=cta-create] button[type=submit]").click()
    expect(counts).to_contain_text(words["counts2"])
    new = page.locator("[data-testid=cta]", has_text=words["title"])
    expect(new).to_have_count(1)
    for i in range(3):
        new.locator("[data-testid=task-toggle]").nth(i).click()
        expect(new.locator("[data-testid=task-toggle]").nth(i)).to_have_attribute(
            "aria-pressed", "true"
        )
    expect(new.get_by_test_id("cta-progress")).to_have_text(words["done"])

    page.goto(f"{site.url}/tasks")
    expect(counts).to_contain_text(words["counts2"])
    card = page.locator(f"#cta-{other}")
    card.locator("summary").click()
    later = (company_today() + timedelta(days=5)).isoformat()
    card.locator("input[name=until]").fill(later)
    card.locator("[data-testid=cta-snooze] button").click()
    expect(page.locator(f"#cta-{other}")).to_have_attribute("data-testid", "cta-gone")
    expect(counts).to_contain_text(words["counts1"])
    expect(counts).to_contain_text(words["snoozed"])

    card = page.locator("[data-testid=cta]", has_text=words["title"])
    card.locator("summary").click()
    card.locator("select[name=outcome]").select_option("not_needed")
    card.locator("[data-testid=cta-close] button").click()
    expect(page.get_by_test_id("cta-gone").last).to_contain_text(words["closed"])
    expect(counts).to_contain_text(words["zero"])
    page.reload()
    expect(page.locator("[data-testid=cta]")).to_have_count(0)
    assert tab.errors == []


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_viewer_sees_no_forms_and_gets_403(tab: Tab, site: Site, lang: str) -> None:
    cta_id = _stored_cta(site)
    page = tab.page
    page.set_extra_http_headers({"Accept-Language": lang})
    sign_in(tab, site, "viewer")
    if lang == "ja":
        page.get_by_test_id("switch-language").click()
    page.goto(f"{site.url}/accounts/{site.world.yamada}")
    section = page.locator("#open-ctas")
    expect(section.locator("[data-testid=cta]")).to_have_count(1)
    expect(section.locator("form")).to_have_count(0)
    page.goto(f"{site.url}/tasks")
    expect(page.locator("[data-testid=cta]")).to_have_count(1)
    expect(page.locator("main form, #cta-section form")).to_have_count(0)
    csrf = json.loads(page.locator("body").get_attribute("hx-headers") or "{}")["X-CSRF-Token"]
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    with httpx.Client(base_url=site.url, cookies=cookies, headers={"X-CSRF-Token": csrf}) as web:
        assert web.get("/api/ctas").status_code == 200  # reading is allowed
        for path, data in (
            ("/ctas", {"account_id": site.world.yamada, "title": "x"}),
            (f"/ctas/{cta_id}/comments", {"text": "x"}),
            (f"/ctas/{cta_id}/snooze", {"until": "2099-01-01"}),
            (f"/ctas/{cta_id}/assign", {"owner_id": site.world.tanaka_member}),
            (f"/ctas/{cta_id}/close", {"outcome": "resolved"}),
        ):
            assert web.post(path, data={**data, "csrf_token": csrf}).status_code == 403, path
        assert (
            web.post(f"/api/ctas/{cta_id}/close", json={"outcome": "resolved"}).status_code == 403
        )
        assert web.patch(f"/api/ctas/{cta_id}", json={"priority": "low"}).status_code == 403
    assert tab.errors == []
