"""The snippet in a real browser: a product page served from another origin than Banso loads
``/inapp/banso.js`` with the site's public key; its event is stored once, the announcement for
the enterprise segment is shown to 山田製作所's user and to nobody of みどり商事 (smb), whose
user answers the NPS prompt instead; a page of an origin the site does not allow gets nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import duckdb
import pytest
from playwright.sync_api import Browser
from sqlalchemy import select
from tests.servers import app_in_thread, free_port

from banso.dates import today
from banso.db import session_scope
from banso.inapp import service
from banso.server.app import create_app
from banso.surveys.models import SurveyResponse
from banso.usage import store
from inapp.conftest import SOURCE
from web.world import World

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@contextmanager
def product_site(banso: str, key: str, port: int | None = None) -> Iterator[str]:
    """A customer's product on its own port: ``/?account=…&user=…`` embeds the snippet."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server hook's name
            query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
            body = (
                "<!doctype html><html lang='en'><meta charset='utf-8'><title>Product</title>"
                "<h1>Acme product</h1>"
                f"<script src='{banso}/inapp/banso.js' data-site-key='{escape(key)}' "
                f"data-account='{escape(query.get('account', ''))}' "
                f"data-user='{escape(query.get('user', ''))}' data-lang='en'></script>"
            ).encode()
            self.send_response(200)
            self.send_header("content-type", "text/html; charset=utf-8")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", port or free_port()), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def test_the_snippet_on_a_product_page(browser: Browser, world: World) -> None:  # noqa: F811
    product_port = free_port()
    product = f"http://127.0.0.1:{product_port}"
    with session_scope() as s:
        key = service.add_site(s, "Acme App", SOURCE, [product]).site_key
        service.add_message(
            s, "Acme App", "announcement", ("新機能", "Exports are here"), ("", "Try CSV export"),
            ["enterprise"], today(), None, "test",
        )  # fmt: skip
        nps = service.add_message(
            s, "Acme App", "nps", ("おすすめ度", "How likely are you to recommend us?"),
            ("", ""), ["smb"], today(), None, "test",
        ).id  # fmt: skip
    with app_in_thread(create_app()) as banso_port:
        banso = f"http://127.0.0.1:{banso_port}"
        context = browser.new_context(locale="en-US")
        page = context.new_page()
        page.set_default_timeout(15_000)
        with product_site(banso, key, product_port), product_site(banso, key) as foreign:
            # 山田製作所 (enterprise): the announcement, and an event stored once
            page.goto(f"{product}/?account=YAMADA-1&user=u-1")
            card = page.locator(".banso-announcement")
            card.wait_for()
            assert card.locator("strong").inner_text() == "Exports are here"
            assert page.locator(".banso-nps").count() == 0
            page.evaluate(
                "async () => { Banso.track('report_opened', {format: 'csv'}, {eventId: 'b-1'});"
                " await Banso.flush();"
                " Banso.track('report_opened', {format: 'csv'}, {eventId: 'b-1'});"
                " await Banso.flush(); }"
            )
            assert _stored() == [("b-1", world.yamada, "u-1", "report_opened")]

            # みどり商事 (smb): no announcement; the NPS prompt, answered once
            page.goto(f"{product}/?account=MIDORI-2&user=u-2")
            prompt = page.locator(".banso-nps")
            prompt.wait_for()
            assert page.locator(".banso-announcement").count() == 0
            prompt.get_by_role("button", name="9", exact=True).click()
            prompt.locator(".banso-comment").fill("Great support")
            prompt.locator(".banso-send").click()
            page.locator(".banso-thanks").wait_for()
            page.reload()
            assert page.evaluate("() => Banso.refresh().then(m => m.length)") == 0

            # a page of an origin the site does not allow: the browser gets nothing
            page.goto(f"{foreign}/?account=YAMADA-1&user=u-1")
            outcome = page.evaluate(
                "() => Banso.refresh().then(m => 'shown ' + m.length, () => 'refused')"
            )
            assert outcome == "refused"
            assert page.locator(".banso-announcement").count() == 0
        context.close()
    with session_scope() as s:
        answers = s.execute(
            select(SurveyResponse.account_id, SurveyResponse.score, SurveyResponse.comment)
            .where(SurveyResponse.source == "inapp")
        ).all()  # fmt: skip
    assert [tuple(a) for a in answers] == [(world.midori, 9, "Great support")]
    assert nps > 0


def _stored() -> list[tuple[str, int, str, str]]:
    files = [str(f) for f in store.event_files()]
    sql = "SELECT event_id, account_id, user_id, event FROM read_parquet($f) ORDER BY event_id"
    return [tuple(r) for r in duckdb.connect().execute(sql, {"f": files}).fetchall()]  # type: ignore[misc]
