"""The Metrics page's cohort heatmap: ECharts draws it, and the switch recolours it by revenue
retention, without a console error."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from e2e.conftest import Site, Tab, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_cohort_heatmap_renders_and_switches_measure(tab: Tab, site: Site) -> None:
    page = tab.page
    sign_in(tab, site, "viewer", then="/metrics")
    expect(page.locator("h1")).to_have_text("Metrics")
    canvas = page.locator("#chart-cohorts canvas").first  # ECharts adds layers for heatmaps
    expect(canvas).to_be_visible()
    box = canvas.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 200
    series = (
        "echarts.getInstanceByDom(document.getElementById('chart-cohorts')).getOption().series[0]"
    )
    assert page.evaluate(f"{series}.name") == "Logo retention"
    switch = page.locator("#heatmap-measure")
    expect(switch).to_be_visible()
    switch.get_by_label("Revenue retention").check()
    assert page.evaluate(f"{series}.name") == "Revenue retention"
    assert page.evaluate(f"{series}.data.length") > 0
    expect(page.locator("#cohort-logo-retention caption")).to_have_text(
        "Logo retention by cohort and months since start"
    )
    assert tab.errors == []
