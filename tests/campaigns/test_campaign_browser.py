"""A campaign email read in a real browser: the open pixel loads from another origin (as in a
mail client) and a click goes through the redirect to the campaign's link."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser
from tests.campaigns.world import DAY, build_world, mail_settings, parts, smtp_server
from tests.servers import app_in_thread

from banso.campaigns import service
from banso.campaigns.settings import CampaignSettings
from banso.db import session_scope
from banso.messaging import outbox
from banso.server.app import create_app

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_the_pixel_and_a_link_of_a_received_email_are_counted(browser: Browser) -> None:
    build_world()
    with app_in_thread(create_app()) as port:
        site = f"http://127.0.0.1:{port}"
        target = f"{site}/sign-in?from=campaign"
        spec = service.CampaignInput(
            name="Browser", segment="smb", language="en",
            subject_en="Hello", body_en=f"Hi {{{{ contact.name }}}},\n\nRead {target}\n",
            subject_ja="こんにちは", body_ja=f"{{{{ contact.name }}}} 様\n\n{target}\n",
        )  # fmt: skip
        with session_scope() as s:
            campaign_id = service.create(s, spec, DAY).id
        with smtp_server() as (box, smtp_port):
            with session_scope() as s:
                service.send_due(s, DAY, CampaignSettings(), mail_settings(smtp_port, site))
            assert outbox.deliver(settings=mail_settings(smtp_port, site)).sent == 1
        [mail] = box.messages
        _text, html = parts(mail)
        context = browser.new_context()
        page = context.new_page()
        pixels: list[int] = []
        page.on("response", lambda r: pixels.append(r.status) if "/t/o/" in r.url else None)
        page.set_content(html, wait_until="load")  # about:blank: another origin, as a mail client
        assert pixels == [200]
        assert page.evaluate("document.images[0].naturalWidth") == 1
        page.click("a")
        page.wait_for_url(target)
        context.close()
        with session_scope() as s:
            [run] = service.stats(s, campaign_id)
    assert (run.sent, run.opened, run.clicked) == (1, 1, 1)
