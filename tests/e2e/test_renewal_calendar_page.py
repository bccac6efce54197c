"""The renewal calendar page: the chart stacks renewed and lost MRR per month (their sum the MRR
due of ``banso renewals calendar``), the table lists 12 months over and 12 ahead, in English
and Japanese, without a console error."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from banso.db import session_scope
from banso.renewals.calendar import renewal_calendar
from e2e.conftest import Site, Tab, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

OPTION = "echarts.getInstanceByDom(document.getElementById('chart-renewals')).getOption()"


def test_renewal_calendar_chart_and_table_in_both_languages(tab: Tab, site: Site) -> None:
    page = tab.page
    sign_in(tab, site, "viewer", then="/renewals/calendar")
    expect(page.locator("h1")).to_have_text("Renewal calendar")
    canvas = page.locator("#chart-renewals canvas").first
    expect(canvas).to_be_visible()
    box = canvas.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 200
    assert page.evaluate(f"{OPTION}.series.map(s => s.name)") == ["MRR renewed", "MRR not renewed"]
    renewed = page.evaluate(f"{OPTION}.series[0].data")
    lost = page.evaluate(f"{OPTION}.series[1].data")
    months = page.evaluate(f"{OPTION}.xAxis[0].data")
    assert len(months) == 24
    expect(page.locator("#renewal-calendar tbody tr")).to_have_count(24)
    with session_scope() as session:
        first, last = (m.split(" ")[0] for m in (months[0], months[-1]))
        rows = renewal_calendar(session, start=first, end=last).rows
    assert [r + x for r, x in zip(renewed, lost, strict=True)] == [
        float(round(r["mrr_due"], 2)) for r in rows
    ]
    assert sum(renewed) + sum(lost) > 0  # the world's lines are due somewhere in the 24 months
    assert tab.errors == []
    page.get_by_test_id("switch-language").click()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator("h1")).to_have_text("更新カレンダー")
    expect(page.locator("#chart-renewals canvas").first).to_be_visible()
    assert page.evaluate(f"{OPTION}.series.map(s => s.name)") == ["更新MRR", "更新解約MRR"]
    expect(page.locator("#renewal-calendar caption")).to_have_text(
        "月別の更新対象・更新・更新解約のMRR"
    )
    assert tab.errors == []
