"""The Targets page: the plan of the fiscal year by month as a chart and a table, plan vs actual
for the months that are over (overall and by team), in English and Japanese; a missing
targets.yaml is said in one sentence."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from banso.config import get_settings
from banso.db import session_scope
from banso.targets.config import load_targets
from banso.targets.plan import build_targets
from banso.targets.routes import current_fiscal_year
from e2e.conftest import Site, Tab, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

OPTION = "echarts.getInstanceByDom(document.getElementById('chart-targets')).getOption()"

TARGETS = """\
teams:
  - name: Enterprise
    headcount: 2
    products: 2
    expansion_mrr_per_head: 10000
    new_mrr_per_head: 5000
  - name: SMB
    headcount: 1
    expansion_mrr_per_head: 4000
    new_mrr_per_head: 2500
"""


def test_targets_page_in_both_languages(tab: Tab, site: Site) -> None:
    page = tab.page
    sign_in(tab, site, "viewer", then="/targets")
    expect(page.locator("h1")).to_have_text("Targets")
    expect(page.get_by_test_id("targets-message")).to_contain_text("No targets file at")
    config = get_settings().config_path
    config.mkdir(parents=True, exist_ok=True)
    (config / "targets.yaml").write_text(TARGETS, encoding="utf-8")
    page.reload()
    expect(page.locator("#targets-plan tbody tr")).to_have_count(12)
    canvas = page.locator("#chart-targets canvas").first
    expect(canvas).to_be_visible()
    with session_scope() as session:
        plan = build_targets(session, current_fiscal_year(), load_targets().model)
    bars = page.evaluate(f"{OPTION}.series[0].data")
    assert bars == [float(round(r["total_target"], 2)) for r in plan.rows]
    assert plan.rows[0]["expansion_target"] == 44000
    expect(page.locator("#targets-plan tbody tr").first.locator("td").nth(3)).to_have_text("44,000")
    page.select_option("select[name=by]", "team")
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")
    actual_rows = page.locator("#targets-actual tbody tr")
    if page.locator("#targets-actual").count():
        expect(actual_rows.first.locator("td").first).to_have_text("Enterprise")
    assert tab.errors == []
    page.get_by_test_id("switch-language").click()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator("h1")).to_have_text("目標")
    expect(page.locator("#targets-plan thead")).to_contain_text("追加受注目標")
    expect(page.locator("#chart-targets canvas").first).to_be_visible()
    assert page.evaluate(f"{OPTION}.series[0].name") == "目標合計"
    assert tab.errors == []
