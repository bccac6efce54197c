"""Browser tests: the app served by uvicorn on a free loopback port, driven by Debian's chromium.

Playwright never downloads a browser here: it launches /usr/bin/chromium (installed by
scripts/setup), headless and offline.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page
from tests.conftest import CHROMIUM, CHROMIUM_FLAGS  # noqa: F401 - where they were
from tests.servers import app_in_thread

from banso.server.app import create_app
from web.world import EMAILS, PASSWORD, World, build_world


@dataclass
class Site:
    url: str
    world: World


@pytest.fixture
def site() -> Iterator[Site]:
    """The small world in this test's database, served on a free port until the test ends."""
    world = build_world()
    with app_in_thread(create_app()) as port:
        yield Site(f"http://127.0.0.1:{port}", world)


@dataclass
class Tab:
    page: Page
    errors: list[str]
    """Console errors and uncaught exceptions seen so far."""


@pytest.fixture
def tab(browser: Browser, site: Site) -> Iterator[Tab]:
    """A fresh browser context (no cookies) with console errors collected, English first."""
    context = browser.new_context(locale="en-US", extra_http_headers={"Accept-Language": "en"})
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield Tab(page, errors)
    context.close()


def sign_in(
    tab: Tab, site: Site, role: str, password: str = PASSWORD, then: str = "/accounts"
) -> None:
    """Sign in through the form as ``role``'s user, landing on ``then``."""
    page = tab.page
    page.goto(f"{site.url}/sign-in?next={then}")
    page.fill("input[name=email]", EMAILS[role])
    page.fill("input[name=password]", password)
    # wait for the answer: a test that navigates on at once would cancel the sign-in under way
    with page.expect_navigation():
        page.click("form[action='/sign-in'] button[type=submit]")
