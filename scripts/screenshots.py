"""Screenshots of the dashboard and an account 360, in English and Japanese, for docs/.

Run against a served demo world (./scripts/demo leaves one at http://127.0.0.1:8000):

    .venv/bin/python scripts/screenshots.py --url http://127.0.0.1:8000 --account 1
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DOCS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--account", default="1")
    parser.add_argument("--email", default="admin@demo.banso.example")
    parser.add_argument("--password", default="demo-admin-2026")
    args = parser.parse_args()
    DOCS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        for lang in ("en", "ja"):
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale=lang)
            page.goto(f"{args.url}/sign-in?next=/")
            page.fill("input[name=email]", args.email)
            page.fill("input[name=password]", args.password)
            page.click("form[action='/sign-in'] button[type=submit]")
            page.wait_for_load_state("networkidle")
            if page.locator("html").get_attribute("lang") != lang:
                page.get_by_test_id("switch-language").click()
                page.wait_for_load_state("networkidle")
            page.wait_for_timeout(1500)  # ECharts animations
            page.screenshot(path=DOCS / f"dashboard-{lang}.png", full_page=True)
            page.goto(f"{args.url}/accounts/{args.account}")
            page.wait_for_load_state("networkidle")
            # the usage chart arrives after the page (htmx) and is drawn by ECharts
            page.locator("[data-testid=usage] canvas").first.wait_for(timeout=15000)
            page.wait_for_timeout(1000)
            page.screenshot(path=DOCS / f"account-360-{lang}.png", full_page=True)
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
