"""The dashboard's and the Metrics page's charts as drawn: a waterfall whose movements float
over an axis that does not start at 0, with all seven labels, money in the reporting currency
by language, trend colours that do not swap with the language, a heatmap scaled to its data."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from e2e.conftest import Site, Tab, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

OPTION = "echarts.getInstanceByDom(document.getElementById('{}')).getOption()"
SHOWN_LABELS = (
    "echarts.getInstanceByDom(document.getElementById('chart-waterfall')).getModel()"
    ".getComponent('xAxis', 0).axis.getViewLabels().map(l => l.formattedLabel)"
)


def _charts(page: Page) -> dict[str, object]:
    waterfall = OPTION.format("chart-waterfall")
    churn = OPTION.format("chart-churn")
    return {
        "labels": page.evaluate(SHOWN_LABELS),
        "axis_min": page.evaluate(f"{waterfall}.yAxis[0].min"),
        "start": page.evaluate(f"{waterfall}.series[1].data[0].value"),
        "axis_text": page.evaluate(f"{waterfall}.yAxis[0].axisLabel.formatter(1500000)"),
        "churn": page.evaluate(f"{churn}.series.map(s => [s.id, s.itemStyle.color])"),
    }


def test_dashboard_charts_in_both_languages(tab: Tab, site: Site) -> None:
    page = tab.page
    sign_in(tab, site, "admin", then="/")
    page.wait_for_load_state("load")
    english = _charts(page)
    assert len(english["labels"]) == 7  # type: ignore[arg-type]
    assert "Reactivation" in english["labels"]  # type: ignore[operator]
    assert 0 < english["axis_min"] < english["start"]  # type: ignore[operator]
    assert english["axis_text"] == "¥1.5M"
    page.get_by_test_id("switch-language").click()
    page.wait_for_url(f"{site.url}/")
    page.wait_for_load_state("load")
    japanese = _charts(page)
    assert len(japanese["labels"]) == 7  # type: ignore[arg-type]
    assert japanese["axis_text"] == "￥150万"
    assert (
        japanese["churn"]
        == english["churn"]
        == [
            ["mrr_churn_rate", "#b3261e"],
            ["renewal_churn_rate", "#a86b00"],
        ]
    )
    assert tab.errors == []


def test_heatmap_colour_scale_spans_the_data(tab: Tab, site: Site) -> None:
    page = tab.page
    sign_in(tab, site, "viewer", then="/metrics")
    page.wait_for_load_state("load")
    option = OPTION.format("chart-cohorts")
    low, high = page.evaluate(f"[{option}.visualMap[0].min, {option}.visualMap[0].max]")
    cells = page.evaluate(f"{option}.series[0].data.map(c => c[2])")
    assert high == max(cells)
    # the data's lowest figure, or just under the highest when every cell is the same
    assert low == (min(cells) if min(cells) < high else round(high - 0.01, 2))
    assert tab.errors == []
