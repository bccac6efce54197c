"""Visual regression: every page of the app at 1440 px and 390 px, in Japanese and English.

Each page is screenshotted (to $E2E_SCREENSHOTS, or a temporary folder; never committed) and
fails the test when the page is wider than the window (horizontal overflow: a table must scroll
inside its wrapper, never the page) or, at 1440 px, when a figure, date or health chip wraps
inside its cell. The list of pages is checked against the app's own GET routes, so a new page
cannot be forgotten."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from banso.dates import today as company_today
from banso.db import session_scope
from banso.health import service as health_service
from banso.segments import service as segments
from banso.server.app import create_app
from e2e.conftest import Site
from web.world import EMAILS, PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PAGES: dict[str, str] = {
    "/": "/",
    "/accounts": "/accounts",
    "/accounts/{account_id}": "/accounts/{yamada}",
    "/tasks": "/tasks?everyone=true",
    "/renewals": "/renewals",
    "/renewals/calendar": "/renewals/calendar",
    "/targets": "/targets",
    "/segments": "/segments",
    "/metrics/churn-reasons": "/metrics/churn-reasons",
    "/expansion": "/expansion",
    "/feedback": "/feedback",
    "/advocacy": "/advocacy",
    "/onboarding": "/onboarding",
    "/book": "/book",
    "/team/{member_id:int}": "/team/{sato}?period=FY2026-Q3",
    "/metrics": "/metrics",
    "/health": "/health",
    "/team": "/team",
    "/data": "/data",
    "/admin/users": "/admin/users",
    "/admin/tokens": "/admin/tokens",
    "/admin/audit": "/admin/audit",
    "/campaigns": "/campaigns",
    "/surveys": "/surveys",
    "/programs": "/programs",
    "/programs/effect": "/programs/effect",
    "/inapp": "/inapp",
    "/connections": "/connections",
}
"""GET route -> the address visited (signed in as the admin, who may see every page). A route
listed here that the app does not have (yet) is skipped."""

SIGNED_OUT = {"/sign-in": "/sign-in"}
"""Pages visited before signing in."""

NOT_PAGES = {
    "/dashboard": "the page / shows every role but a CSM (visited there)",
    "/accounts/export.csv": "a CSV download",
    "/metrics/export": "a CSV or Excel download",
    "/accounts/{account_id}/ebr": "a PDF or PowerPoint download (HTML only when asked)",
    "/accounts/{account_id}/usage": "an htmx fragment of the 360 (visited with it)",
    "/accounts/{account_id}/feedback": "an htmx fragment of the 360 (visited with it)",
    "/health/churn": "an htmx fragment of the Health page, the churn-model panel (visited with it)",
    "/feedback/export.csv": "a CSV download",
    "/unsubscribe/{token}": "a link from an e-mail, with a signed token",
    "/api/docs": "Swagger UI, not Banso's layout",
    "/api/openapi.json": "JSON",
    "/static/vendor/{name}": "a script file",
    "/inapp/banso.js": "the in-app snippet's script",
    "/s/{token}": "the public survey answer page of a signed link (its own phone layout, driven "
    "in tests/e2e/test_survey_answer_browser.py)",
    "/t/c/{token}": "a campaign link's redirect",
    "/t/o/{token}.gif": "a campaign e-mail's open pixel",
    "/campaigns/{campaign_id}": "a campaign's page: the layout world has no campaign (driven in "
    "tests/campaigns/test_campaign_browser.py)",
    "/campaigns/usage-report": "a usage report e-mail's preview for one account and month "
    "(tests/campaigns/test_campaign_pages.py)",
    "/programs/sessions/{session_id}": "a session's roster: the layout world has no session "
    "(driven in tests/e2e/test_programs_page.py)",
}
"""GET routes that are not pages of the app's layout, and why."""

WIDTHS = (1440, 390)
LANGUAGES = ("en", "ja")

CHECK = """() => {
  const wrapped = [];
  const cells = document.querySelectorAll(
    'td.num, td.date, th.date, .date, .chip, .tag:not(.free), .tile .big, .when');
  for (const el of cells) {
    if (!el.offsetParent) { continue; }  // hidden
    const range = document.createRange();
    range.selectNodeContents(el);
    const tops = new Set(Array.from(range.getClientRects())
      .filter(r => r.width > 0 && r.height > 0).map(r => Math.round(r.top)));
    const text = el.textContent.trim().slice(0, 40);
    if (tops.size > 1) { wrapped.push(el.className + ' «' + text + '»'); }
  }
  return { scrollWidth: document.documentElement.scrollWidth, width: window.innerWidth, wrapped };
}"""


def page_routes() -> set[str]:
    """The app's GET routes that are not API, static or docs: pages and downloads."""
    paths = set()
    for route in create_app().routes:
        router = getattr(route, "original_router", None)
        for r in router.routes if router is not None else [route]:
            path = getattr(r, "path", "")
            if "GET" in (getattr(r, "methods", None) or set()) and not path.startswith(
                ("/api/", "/static/")
            ):
                paths.add(path)
    return paths


def test_every_page_route_is_visited_or_said_not_to_be_a_page() -> None:
    routes = page_routes()
    forgotten = routes - set(PAGES) - set(SIGNED_OUT) - set(NOT_PAGES)
    assert not forgotten, f"add these GET routes to PAGES (or NOT_PAGES, with why): {forgotten}"
    assert {"/", "/accounts", "/accounts/{account_id}", "/metrics", "/health"} <= routes


@pytest.fixture
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("E2E_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def scored(site: Site) -> Iterator[Site]:
    """The world scored on every third day of the last three weeks: health bands, at-risk
    list and the 360's sparkline have something to draw; segments evaluated for the last of
    them (the Segments page, the 360's triage card)."""
    today = company_today()
    with session_scope() as s:
        health_service.score_days(s, [today - timedelta(days=d) for d in (19, 16, 13, 10, 7, 4, 1)])
    with session_scope() as s:
        segments.evaluate(s, today - timedelta(days=1))
    yield site


def _visit(page: Page, url: str, wait_idle: bool) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle" if wait_idle else "load")


def test_every_page_fits_the_screen_in_both_languages(
    browser: Browser, scored: Site, screenshots: Path
) -> None:
    site = scored
    routes = page_routes()
    visits = [
        (path, url.format(yamada=site.world.yamada, sato=site.world.sato_member))
        for path, url in PAGES.items()
    ]
    visits = [(path, url) for path, url in visits if path in routes]
    problems: list[str] = []
    started = time.monotonic()
    for lang in LANGUAGES:
        context = browser.new_context(
            locale="ja-JP" if lang == "ja" else "en-US",
            extra_http_headers={"Accept-Language": lang},
            viewport={"width": WIDTHS[0], "height": 900},
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))

        def check(name: str, width: int, page: Page = page, lang: str = lang) -> None:
            shot = screenshots / f"{lang}-{width}-{name}.png"
            page.screenshot(path=str(shot), full_page=True)
            assert page.locator("html").get_attribute("lang") == lang
            found = page.evaluate(CHECK)
            if found["scrollWidth"] > found["width"]:
                problems.append(
                    f"{lang} {width}px {name}: the page is {found['scrollWidth']} px wide ({shot})"
                )
            if width >= 1440 and found["wrapped"]:
                problems.append(
                    f"{lang} {width}px {name}: wraps in {found['wrapped'][:5]} ({shot})"
                )

        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            for _path, url in SIGNED_OUT.items():
                _visit(page, site.url + url, wait_idle=False)
                check("sign-in", width)
        page.fill("input[name=email]", EMAILS["admin"])
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("form[action='/sign-in'] button[type=submit]")
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            for path, url in visits:
                # the 360 loads its usage chart with htmx after the page
                _visit(page, site.url + url, wait_idle=path == "/accounts/{account_id}")
                name = url.strip("/").split("?")[0].replace("/", "_") or "dashboard"
                check(name, width)
        assert errors == [], errors
        context.close()
    elapsed = time.monotonic() - started
    print(
        f"{len(visits) + 1} pages x {len(WIDTHS)} widths x {len(LANGUAGES)} languages "
        f"in {elapsed:.1f} s; screenshots in {screenshots}"
    )
    assert problems == [], "\n".join(problems)
