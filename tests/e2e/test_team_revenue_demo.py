"""On the default demo world (``banso demo generate``; without usage events, which no revenue
figure reads), revenue, churn and NRR by touch model and by CSM: in the CLI (``banso metrics
revenue --by owner|segment``) and in the browser, English and Japanese — the Metrics page and
the dashboard filtered by touch model and by owner, and the CSM page.

The demo's CSMs each serve one touch model (a team per touch model), so a touch model's MRR and
churn are the sums of its CSMs' rows of ``--by owner``: the filters are checked against the
breakdown, another path through the revenue report."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Any

import pytest
from argon2 import PasswordHasher
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from tests.servers import app_in_thread

from banso import config
from banso.accounts.models import Account
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

    # the CLI: the owner and segment rows of a month add up to the whole
    (whole,) = _json(cli)
    by_owner = _json(cli, "--by", "owner")
    by_segment = _json(cli, "--by", "segment")
    for rows in (by_owner, by_segment):
        for key, total in _sums(rows).items():
            assert total == pytest.approx(whole[key], abs=0.01 * len(rows))
    owner_rows = {r["owner"]: r for r in by_owner}

    with session_scope() as session:
        session.add(User(email=ADMIN, name="Admin", role="admin",
                         password_hash=PasswordHasher().hash(PASSWORD)))  # fmt: skip
        members = {m.email: m for m in session.scalars(select(TeamMember))}
        touch_of: dict[str, set[str]] = defaultdict(set)
        for owner_id, touch in session.execute(select(Account.owner_id, Account.touch_model)):
            email = next(e for e, m in members.items() if m.id == owner_id)
            touch_of[email].add(touch)
        assert all(len(t) == 1 for t in touch_of.values())  # one touch model per CSM
        expected: dict[str, dict[str, float]] = {}
        for touch in ("high", "low", "tech"):
            rows = [owner_rows[e] for e, t in touch_of.items() if t == {touch}]
            sums = _sums(rows)
            report = revenue_report(
                session, start=MONTH, end=MONTH, book=BookFilter(touch_model=touch)
            )
            (row,) = report.rows
            expected[touch] = {
                "mrr": sums["mrr_end"],
                "churn": sums["churned_mrr"] / sums["mrr_start"],
                "nrr": float(row["nrr_12m"]),
            }
            assert float(row["mrr_end"]) == pytest.approx(sums["mrr_end"], abs=0.01 * len(rows))
        # a CSM with a book of their own
        csm_email = max(touch_of, key=lambda e: owner_rows[e]["mrr_end"])
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
