"""The Programmes page in a real browser, English and Japanese: ops adds a session of one
seat, enrols a contact, is refused a second (the session is full, a clear page, not a 500)
and marks the first attended; the roster and the catalogue follow."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from banso.attendance.models import ProgramEnrolment
from banso.db import session_scope
from e2e.conftest import Site, Tab, sign_in

TEXTS = {
    "en": {"nav": "Programmes", "title": "Administrator training", "add": "Add session",
           "enrol": "Enrol", "attended": "Attended", "enrolled": "Signed up",
           "full": "The session is full"},
    "ja": {"nav": "プログラム", "title": "管理者トレーニング", "add": "セッションを追加",
           "enrol": "申し込む", "attended": "出席", "enrolled": "申込済み",
           "full": "セッションは満席です"},
}  # fmt: skip


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_ops_runs_a_session_from_enrolment_to_attendance(tab: Tab, site: Site, lang: str) -> None:
    words = TEXTS[lang]
    page = tab.page
    page.set_extra_http_headers({"Accept-Language": lang})
    sign_in(tab, site, "ops")
    if lang == "ja":
        page.get_by_test_id("switch-language").click()
    page.get_by_role("link", name=words["nav"], exact=True).click()
    expect(page).to_have_url(f"{site.url}/programs")
    expect(page.locator("tr[data-program=admin-training]")).to_contain_text(words["title"])

    form = page.get_by_test_id("add-session")
    form.locator("select[name=program]").select_option("admin-training")
    form.locator("input[name=starts]").fill("2026-06-03T15:00")
    form.locator("input[name=capacity]").fill("1")
    form.get_by_role("button", name=words["add"]).click()
    expect(page.get_by_test_id("session-start")).to_have_text("2026-06-03 15:00")

    enrol = page.get_by_test_id("enrol")
    enrol.locator("input[name=email]").fill("taro@yamada-ss.co.jp")
    enrol.get_by_role("button", name=words["enrol"]).click()
    row = page.locator("tr[data-email='taro@yamada-ss.co.jp']")
    expect(row.get_by_test_id("roster-status")).to_have_text(words["enrolled"])

    enrol.locator("input[name=email]").fill("jiro@yamada-ss.co.jp")
    enrol.get_by_role("button", name=words["enrol"]).click()
    expect(page.locator("body")).to_contain_text(words["full"])
    page.go_back()

    row.get_by_test_id("mark-attended").click()
    expect(row.get_by_test_id("roster-status")).to_have_text(words["attended"])
    page.get_by_role("link", name=words["nav"], exact=True).first.click()
    expect(page.get_by_test_id("session-row")).to_have_count(1)
    with session_scope() as s:
        assert s.scalars(select(ProgramEnrolment.status)).all() == ["attended"]
