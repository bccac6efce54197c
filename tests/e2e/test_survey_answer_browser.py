"""Done-when of issue 17 item 1: a survey goes out through a real SMTP server, is answered on
the public page in a real browser (English and Japanese), cannot be answered twice or with a
forged link, shows in the NPS report, and moves the health score on the next ``banso run``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser
from tests.playbooks.receivers import smtp_server
from tests.playbooks.test_delivery import settings
from tests.playbooks.world import build_world
from tests.servers import app_in_thread

from banso import dates
from banso.db import session_scope
from banso.flows.daily_run import run_pipeline
from banso.health import snapshots
from banso.messaging import outbox
from banso.server.app import create_app
from banso.voc import report, service

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def site(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    build_world()
    with app_in_thread(create_app()) as port:
        url = f"http://127.0.0.1:{port}"
        monkeypatch.setenv("BANSO_PUBLIC_URL", url)
        yield url


def _links() -> dict[str, str]:
    with smtp_server() as (box, port):
        assert outbox.deliver(settings=settings(port)).sent == 2
    out = {}
    for mail in box.messages:
        [link] = [w for w in mail["body"].split() if "/s/" in w]
        out[mail["to"]] = link
    return out


def test_answered_in_a_browser_once_in_each_language_and_scored_on_the_next_run(
    site: str, browser: Browser
) -> None:
    day = dates.today()
    run_pipeline(day, send=False)
    before = snapshots.read_account_day(2, day)
    assert before is not None and before["raw__latest_nps"] is None

    with session_scope() as s:
        for contact_id in (2, 3):  # Beth reads English, 田中 Japanese
            service.invite(s, survey="nps", contact_id=contact_id, origin="cli", day=day)
    links = _links()
    assert all(link.startswith(site + "/s/") for link in links.values())

    context = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844})
    page, second = context.new_page(), context.new_page()
    page.set_default_timeout(10_000)
    second.set_default_timeout(10_000)
    # the same link open twice (two tabs): the first answer counts, the second is refused
    page.goto(links["beth@beta.example"])
    second.goto(links["beth@beta.example"])
    assert page.locator("legend").first.inner_text().startswith("How likely are you to recommend")
    page.locator(".scale label", has_text="10").click()
    page.fill("textarea[name=comment]", "Support answers fast")
    page.click("button[type=submit]")
    assert page.locator("h1").inner_text() == "Thank you for your answer."
    second.locator(".scale label", has_text="2").first.click()
    second.click("button[type=submit]")
    assert second.locator("h1").inner_text() == "Already answered"
    page.goto(links["beth@beta.example"])
    assert page.locator("h1").inner_text() == "Already answered"

    page.goto(links["tanaka@beta.example"])  # an English browser, a Japanese contact
    assert page.locator("html").get_attribute("lang") == "ja"
    assert "すすめる可能性" in page.locator("legend").first.inner_text()
    page.locator(".scale label", has_text="9").click()
    page.click("button[type=submit]")
    assert page.locator("h1").inner_text() == "ご回答ありがとうございました。"

    page.goto(site + "/s/" + links["tanaka@beta.example"].rsplit("/s/", 1)[1][:-4] + "abcd")
    assert page.locator("h1").inner_text() == "This link is not valid"
    context.close()

    with session_scope() as s:
        found = report.survey_report(s, "nps", "touch")
    # 10 and 9 on Beta (tech touch), Gamma's imported 3 (high touch); Beta's 2 answers of 2 sent
    assert [(r.key, r.count, r.score, r.invited, r.response_rate) for r in found.rows] == [
        ("high", 1, -100.0, 0, None), ("tech", 2, 100.0, 2, 100.0),
    ]  # fmt: skip

    run_pipeline(day, send=False)
    after = snapshots.read_account_day(2, day)
    assert after is not None and after["raw__latest_nps"] == 9  # the newest answer
    assert after["score"] > before["score"]
