"""Onboarding in a real browser, English and Japanese: the owner CSM ticks a milestone on the
account 360 (htmx) and the onboarding board moves the account to its next milestone; a viewer
sees the milestones without forms and gets 403 from the tick endpoints."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from banso.accounts.lifecycle import record_stages
from banso.audit.models import AuditEntry
from banso.dates import today
from banso.db import session_scope
from banso.onboarding import service
from banso.onboarding.config import load_programmes
from banso.onboarding.models import OnboardingMilestone
from e2e.conftest import Site, Tab, sign_in

TEXTS = {
    "en": {"nav": "Onboarding", "kickoff": "Kick-off call", "first_value": "Magic moment",
           "mark": "Mark done", "overdue": "overdue"},
    "ja": {"nav": "オンボーディング", "kickoff": "キックオフ", "first_value": "マジックモーメント",
           "mark": "完了にする", "overdue": "期限切れ"},
}  # fmt: skip


def _enrol(site: Site) -> int:
    """Yamada (owned by the CSM) started 30 days ago on the standard programme: its kick-off
    (5 business days) is overdue, the magic moment next."""
    with session_scope() as s:
        standard = load_programmes().programme("standard")
        assert standard is not None
        service.enrol(s, site.world.yamada, today() - timedelta(days=30), standard)
        return s.scalars(
            select(OnboardingMilestone.id).where(
                OnboardingMilestone.account_id == site.world.yamada,
                OnboardingMilestone.milestone == "kickoff",
            )
        ).one()


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_a_csm_ticks_a_milestone_and_the_board_follows(tab: Tab, site: Site, lang: str) -> None:
    words = TEXTS[lang]
    _enrol(site)
    page = tab.page
    page.set_extra_http_headers({"Accept-Language": lang})
    sign_in(tab, site, "csm")
    if lang == "ja":
        page.get_by_test_id("switch-language").click()
    page.get_by_role("link", name=words["nav"], exact=True).click()
    expect(page).to_have_url(f"{site.url}/onboarding")
    row = page.get_by_test_id("board-row")
    expect(row).to_have_count(1)
    expect(row.first).to_have_attribute("data-milestone", "kickoff")
    expect(row.first).to_contain_text(words["kickoff"])
    expect(row.first).to_contain_text(words["overdue"])
    expect(page.get_by_test_id("onboarding-report")).to_be_visible()

    row.first.get_by_role("link").click()
    milestones = page.get_by_test_id("onboarding-milestones")
    kickoff = milestones.locator("tr[data-milestone=kickoff]")
    expect(kickoff).to_contain_text(words["overdue"])
    kickoff.get_by_role("button", name=words["mark"]).click()
    expect(kickoff).to_contain_text("✓")  # htmx swapped the list in place
    expect(kickoff).not_to_contain_text(words["overdue"])

    page.get_by_role("link", name=words["nav"], exact=True).click()
    expect(row.first).to_have_attribute("data-milestone", "first_value")
    expect(row.first).to_contain_text(words["first_value"])
    expect(row.first).to_contain_text("1 / 4")
    assert not tab.errors
    with session_scope() as s:
        done = s.scalars(
            select(OnboardingMilestone).where(OnboardingMilestone.milestone == "kickoff")
        ).one()
        assert (done.completed_on, done.completed_by) == (today(), "sato@example.jp")
        assert (
            s.scalars(
                select(AuditEntry).where(AuditEntry.action == "onboarding.milestone.complete")
            )
            .one()
            .actor
            == "sato@example.jp"
        )


def test_a_viewer_sees_no_forms_and_is_refused(tab: Tab, site: Site) -> None:
    milestone_id = _enrol(site)
    with session_scope() as s:
        since = today() - timedelta(days=3)
        record_stages(s, {site.world.yamada: "onboarding"}, since, "rules")
    page = tab.page
    sign_in(tab, site, "viewer", then=f"/accounts/{site.world.yamada}")
    expect(page.get_by_test_id("stage-since")).to_have_text(f"since {since} (3 days)")
    milestones = page.get_by_test_id("onboarding-milestones")
    expect(milestones.locator("tr[data-milestone=kickoff]")).to_be_visible()
    expect(milestones.locator("form")).to_have_count(0)
    token = page.locator("input[name=csrf_token]").first.get_attribute("value") or ""
    headers = {"X-CSRF-Token": token}
    answer = page.request.post(
        f"{site.url}/onboarding/milestones/{milestone_id}",
        form={"done": "true", "csrf_token": token}, headers=headers,
    )  # fmt: skip
    assert answer.status == 403
    answer = page.request.post(
        f"{site.url}/api/onboarding/milestones/{milestone_id}", data={"done": True},
        headers=headers,
    )  # fmt: skip
    assert answer.status == 403
    page.goto(f"{site.url}/onboarding")
    expect(page.get_by_test_id("board-row")).to_have_count(1)
    with session_scope() as s:
        assert s.get(OnboardingMilestone, milestone_id).completed_on is None  # type: ignore[union-attr]
