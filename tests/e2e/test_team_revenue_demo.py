"""On the default demo world (``banso demo generate``; without usage events, which no revenue
figure reads), revenue, churn and NRR by touch model and by CSM: in the CLI (``banso metrics
revenue --by owner|segment|touch``) and in the browser, English and Japanese — the Metrics page and
the dashboard filtered by touch model and by owner, and the CSM page.

The pages' touch model filter is checked against the CLI's ``--by touch`` row and the owner
filter against the ``--by owner`` row (the owner of the month): the filters and the breakdowns
are two paths through the revenue report. (Segments re-triage the demo's accounts by ARR and
some accounts change hands, so a CSM's book may span touch models.)"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from argon2 import PasswordHasher
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from tests.servers import app_in_thread

from banso import config
from banso.db import session_scope
from banso.revenue.service import BookFilter, revenue_report
from banso.server.app import create_app
from banso.team.models import TeamMember
from banso.users.models import User

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

MONTH = "2026-11"
ADMIN, PASSWORD = "admin@banso-demo.example", "correct-horse-1"


def _json(cli, *args: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    result = cli("metrics", "revenue", "--from", MONTH, "--to", MONTH, "--format", "json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _number(text: str) -> float:
    """A figure as a page shows it (``¥47,336,267``, ``121.40%``) as a number."""
    return float(re.sub(r"[^0-9.\-]", "", text))


def _sums(rows: list[dict[str, Any]]) -> dict[str, float]:
    return {k: sum(r[k] for r in rows) for k in ("mrr_start", "mrr_end", "churned_mrr")}


def test_revenue_churn_and_nrr_by_touch_model_and_by_csm(  # type: ignore[no-untyped-def]
    cli, browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BANSO_TODAY", "2026-12-01")
    config.get_settings.cache_clear()
    assert cli("init").exit_code == 0
    generated = cli("demo", "generate", "--event-scale", "0")
    assert generated.exit_code == 0, generated.stderr

    # the CLI: the owner, segment and touch model rows of a month add up to the whole
    (whole,) = _json(cli)
    by_owner = _json(cli, "--by", "owner")
    by_segment = _json(cli, "--by", "segment")
    by_touch = _json(cli, "--by", "touch")
    for rows in (by_owner, by_segment, by_touch):
        for key, total in _sums(rows).items():
            assert total == pytest.approx(whole[key], abs=0.01 * len(rows))
    owner_rows = {r["owner"]: r for r in by_owner}
    touch_rows = {r["touch"]: r for r in by_touch}
    assert {"high", "low", "tech"} <= set(touch_rows)

    with session_scope() as session:
        session.add(User(email=ADMIN, name="Admin", role="admin",
                         password_hash=PasswordHasher().hash(PASSWORD)))  # fmt: skip
        members = {m.email: m for m in session.scalars(select(TeamMember))}
        expected: dict[str, dict[str, float]] = {}
        for touch in ("high", "low", "tech"):
            cli_row = touch_rows[touch]
            # the pages' filter (BookFilter) is the same figure as the CLI's --by touch row
            (row,) = revenue_report(
                session, start=MONTH, end=MONTH, book=BookFilter(touch_model=touch)
            ).rows
            assert float(row["mrr_end"]) == pytest.approx(cli_row["mrr_end"], abs=0.01)
            assert float(row["nrr_12m"]) == pytest.approx(cli_row["nrr_12m"], abs=1e-6)
            expected[touch] = {
                "mrr": cli_row["mrr_end"],
                "churn": cli_row["mrr_churn_rate"],
                "nrr": cli_row["nrr_12m"],
            }
        # a CSM with a book of their own
        csm_email = max(
            (e for e in owner_rows if e is not None), key=lambda e: owner_rows[e]["mrr_end"]
        )
        csm = members[csm_email]
        csm_id, csm_row = csm.id, owner_rows[csm_email]

    with app_in_thread(create_app()) as port:
        url = f"http://127.0.0.1:{port}"
        for lang in ("en", "ja"):
            context = browser.new_context(
                locale="ja-JP" if lang == "ja" else "en-US",
                extra_http_headers={"Accept-Language": lang},
            )
            page = context.new_page()
            page.set_default_timeout(20_000)
            page.goto(f"{url}/sign-in?next=/dashboard")
            page.fill("input[name=email]", ADMIN)
            page.fill("input[name=password]", PASSWORD)
            with page.expect_navigation():
                page.click("form[action='/sign-in'] button[type=submit]")
            expect(page.locator("html")).to_have_attribute("lang", lang)
            for touch, figures in expected.items():
                _check_metrics(page, url, f"touch={touch}", figures)
                _check_dashboard(page, url, f"touch={touch}", figures, lang)
            csm_figures = {
                "mrr": csm_row["mrr_end"],
                "churn": csm_row["mrr_churn_rate"],
                "nrr": csm_row["nrr_12m"],
            }
            _check_metrics(page, url, f"owner={csm_id}", csm_figures)
            _check_dashboard(page, url, f"owner={csm_id}", csm_figures, lang)
            page.goto(f"{url}/team/{csm_id}")
            expect(page.get_by_test_id("csm-title")).to_have_text(csm.name)
            assert _number(page.get_by_test_id("csm-mrr").locator(".big").inner_text()) == (
                pytest.approx(csm_row["mrr_end"], abs=1)
            )
            for testid, key in (("csm-nrr", "nrr_12m"), ("csm-churn", "mrr_churn_rate")):
                shown = _number(page.get_by_test_id(testid).locator(".big").inner_text())
                assert shown == pytest.approx(100 * csm_row[key], abs=0.05)
            expect(page.get_by_test_id("csm-axes")).to_be_visible()
            heading = "評価スコアカード" if lang == "ja" else "Scorecard"
            expect(page.get_by_test_id("csm-scorecard").locator("h2")).to_have_text(heading)
            context.close()


def _check_metrics(page: Page, url: str, query: str, figures: dict[str, float]) -> None:
    """The Metrics page's row of MONTH: MRR, monthly MRR churn rate and NRR (12 months)."""
    page.goto(f"{url}/metrics?start={MONTH}&end={MONTH}&{query}")
    cells = page.locator("#monthly-kpis tbody tr").first.locator("td")
    assert _number(cells.nth(1).inner_text()) == pytest.approx(figures["mrr"], abs=1)
    assert _number(cells.nth(7).inner_text()) == pytest.approx(100 * figures["churn"], abs=0.01)
    assert _number(cells.nth(9).inner_text()) == pytest.approx(100 * figures["nrr"], abs=0.01)


def _check_dashboard(
    page: Page, url: str, query: str, figures: dict[str, float], lang: str
) -> None:
    """The dashboard's tiles of MONTH: MRR, NRR and the monthly MRR churn rate."""
    page.goto(f"{url}/dashboard?period={MONTH}&{query}")
    tiles = {
        t.locator(".muted").first.inner_text(): t.locator(".big").inner_text()
        for t in page.get_by_test_id("tile").all()
    }
    names = (
        ("MRR", "売上継続率", "月次解約率")
        if lang == "ja"
        else ("MRR", "NRR (12 months)", "Monthly MRR churn rate")
    )
    mrr, nrr, churn = (tiles[n] for n in names)
    assert _number(mrr) == pytest.approx(figures["mrr"], abs=1)
    assert _number(nrr) == pytest.approx(100 * figures["nrr"], abs=0.01)
    assert _number(churn) == pytest.approx(100 * figures["churn"], abs=0.01)
