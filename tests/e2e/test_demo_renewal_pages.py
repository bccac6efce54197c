"""On the default demo world, in a real browser, in English and Japanese: the renewal calendar
shows the demo's seasonal peaks (annual contracts renew at the March and December year ends),
and the renewal forecast (/renewals) and targets (/targets) pages render with the demo's
renewals, the plan's March the month with the most MRR due."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, ConsoleMessage, expect
from tests.servers import app_in_thread

from banso.config import get_settings
from banso.server.app import create_app
from e2e.conftest import Site, Tab, sign_in
from web.world import EMAILS, PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

OPTION = "echarts.getInstanceByDom(document.getElementById('chart-renewals')).getOption()"

TARGETS = """\
teams:
  - name: Enterprise
    headcount: 3
    products: 2
    expansion_mrr_per_head: 150000
    new_mrr_per_head: 100000
  - name: SMB
    headcount: 4
    expansion_mrr_per_head: 60000
    new_mrr_per_head: 80000
"""

TEXTS = {
    "en": {
        "calendar": "Renewal calendar",
        "renewals": "Renewals",
        "pipeline": "Renewal pipeline",
        "targets": "Targets",
        "due": "MRR due for renewal",
    },
    "ja": {
        "calendar": "更新カレンダー",
        "renewals": "更新",
        "pipeline": "更新パイプライン",
        "targets": "目標",
        "due": "更新対象MRR",
    },
}


@pytest.fixture
def demo_site(cli, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:  # type: ignore[no-untyped-def]
    """The default demo world (2,000 accounts, 36 months, seed 7; no usage events), a viewer
    and a targets.yaml, served on a free port."""
    monkeypatch.setenv("BANSO_TODAY", "2026-12-01")
    assert cli("init").exit_code == 0
    made = cli("demo", "generate", "--end", "2026-11-01", "--event-scale", "0")
    assert made.exit_code == 0, made.stderr
    viewer = cli("users", "create", EMAILS["viewer"], "--role", "viewer", "--password", PASSWORD)
    assert viewer.exit_code == 0, viewer.stderr
    config = get_settings().config_path
    config.mkdir(parents=True, exist_ok=True)
    (config / "targets.yaml").write_text(TARGETS, encoding="utf-8")
    with app_in_thread(create_app()) as port:
        yield Site(f"http://127.0.0.1:{port}", None)  # type: ignore[arg-type]


@pytest.fixture(params=["en", "ja"])
def demo_tab(request: pytest.FixtureRequest, browser: Browser, demo_site: Site) -> Iterator[Tab]:
    lang = request.param
    context = browser.new_context(
        locale="ja-JP" if lang == "ja" else "en-US",
        extra_http_headers={"Accept-Language": lang},
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield Tab(page, errors)
    context.close()


def _number(text: str) -> float:
    return float(text.replace(",", "").replace("¥", "").replace("￥", "").strip() or 0)


def test_the_demo_renewal_pages_show_the_seasonal_peaks(demo_tab: Tab, demo_site: Site) -> None:
    page = demo_tab.page
    lang = page.evaluate("navigator.language")[:2]
    words = TEXTS[lang]
    sign_in(demo_tab, demo_site, "viewer", then="/renewals/calendar?terms=12")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("h1")).to_have_text(words["calendar"])
    expect(page.locator("#chart-renewals canvas").first).to_be_visible()
    # annual contracts, the 12 months over and the 12 ahead: in each year March leads, then
    # December, in the chart (renewed + not renewed) and in the table
    months = [m.split(" ")[0].split("（")[0] for m in page.evaluate(f"{OPTION}.xAxis[0].data")]
    renewed = page.evaluate(f"{OPTION}.series[0].data")
    lost = page.evaluate(f"{OPTION}.series[1].data")
    due = dict(zip(months, (r + x for r, x in zip(renewed, lost, strict=True)), strict=True))
    assert len(due) == 24 and months[0] == "2025-12" and months[-1] == "2027-11"
    for year, march, december in (
        (months[:12], "2026-03", "2025-12"),
        (months[12:], "2027-03", "2026-12"),
    ):
        ranked = sorted(year, key=due.__getitem__, reverse=True)
        assert ranked[:2] == [march, december], due
    rows = page.locator("#renewal-calendar tbody tr")
    expect(rows).to_have_count(24)
    table = {
        rows.nth(i).locator("th").inner_text().split(" ")[0].split("（")[0]: _number(
            rows.nth(i).locator("td").nth(2).inner_text()
        )
        for i in range(24)
    }
    assert table == {m: round(v) for m, v in due.items()}
    # every contract (monthly ones are due every month): the year ahead peaks in March, then
    # December
    page.goto(f"{demo_site.url}/renewals/calendar?start=2026-12&end=2027-11")
    expect(page.locator("#renewal-calendar tbody tr")).to_have_count(12)
    months = [m.split(" ")[0].split("（")[0] for m in page.evaluate(f"{OPTION}.xAxis[0].data")]
    totals = [
        r + x
        for r, x in zip(
            page.evaluate(f"{OPTION}.series[0].data"),
            page.evaluate(f"{OPTION}.series[1].data"),
            strict=True,
        )
    ]
    ahead = dict(zip(months, totals, strict=True))
    assert sorted(ahead, key=ahead.__getitem__, reverse=True)[:2] == ["2027-03", "2026-12"]
    assert demo_tab.errors == []

    # the renewal forecast: the demo's renewals of the next 90 days, by month and one by one
    page.goto(f"{demo_site.url}/renewals")
    expect(page.locator("h1")).to_have_text(words["renewals"])
    expect(page.get_by_role("heading", name=words["pipeline"])).to_be_visible()
    assert page.get_by_test_id("renewal").count() > 10
    expect(page.get_by_test_id("renewal-month").first).to_be_visible()
    assert demo_tab.errors == []

    # the targets plan of FY2026: March 2027 has the most MRR due
    page.goto(f"{demo_site.url}/targets")
    expect(page.locator("h1")).to_have_text(words["targets"])
    plan = page.locator("#targets-plan tbody tr")
    expect(plan).to_have_count(12)
    expect(page.locator("#targets-plan thead")).to_contain_text(words["due"])
    expect(page.locator("#chart-targets canvas").first).to_be_visible()
    mrr_due = {
        plan.nth(i).locator("th").inner_text().split(" ")[0].split("（")[0]: _number(
            plan.nth(i).locator("td").first.inner_text()
        )
        for i in range(12)
    }
    assert max(mrr_due, key=mrr_due.__getitem__) == "2027-03", mrr_due
    assert demo_tab.errors == []
