"""The Health page's validation charts: ECharts draws the outcome rates by band and each
measure's AUC from the stored report, without a console error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from banso.health import validation_report
from e2e.conftest import Site, Tab, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def _band(name: str, accounts: int, churn: float | None, renewal: float | None) -> dict:  # type: ignore[type-arg]
    return {
        "band": name, "observations": accounts, "accounts": accounts, "churn_rate": churn,
        "renewal_rate": renewal, "contraction_rate": None if churn is None else 0.0,
        "expansion_rate": {"green": 0.166667}.get(name, 0.0 if churn is not None else None),
        "lost_mrr_share": {"red": 0.75, "green": 0.25}.get(name, 0.0),
        "expansion_mrr_share": {"green": 1.0}.get(name, 0.0),
    }  # fmt: skip


REPORT = {
    # what `banso health validate` gives on tests/health's hand-made world, plus a second measure
    "observations": 10, "accounts": 10, "first_day": "2024-01-01", "last_day": "2024-01-01",
    "churn_rate": 0.4, "roc_auc": 0.791667, "top_decile_lift": 2.5,
    "bands": [_band("red", 4, 0.75, 0.25), _band("yellow", 0, None, None),
              _band("green", 6, 0.166667, 0.833333)],
    "red_band": "red", "green_band": "green", "lost_mrr_share_red": 0.75,
    "expansion_mrr_share_green": 1.0, "red_to_green_churn_ratio": 4.5,
    "measures": [{"measure": "active_days_28d", "auc": 0.6, "observations": 8},
                 {"measure": "latest_nps", "auc": 0.791667, "observations": 10}],
}  # fmt: skip


def test_validation_charts_render_from_the_stored_report(tab: Tab, site: Site) -> None:
    validation_report.save(
        validation_report.StoredReport(
            datetime.now(UTC) - timedelta(days=2), 90, None, None, "default", REPORT
        )
    )
    page = tab.page
    sign_in(tab, site, "viewer", then="/health")
    expect(page.locator("h1")).to_have_text("Health")
    expect(page.get_by_test_id("roc-auc")).to_have_text("0.792")
    for chart in ("chart-validation-bands", "chart-validation-measures"):
        canvas = page.locator(f"#{chart} canvas").first
        expect(canvas).to_be_visible()
        box = canvas.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 200, chart
    option = "echarts.getInstanceByDom(document.getElementById('{}')).getOption()"
    bands = option.format("chart-validation-bands")
    assert page.evaluate(f"{bands}.series.map(s => s.name)") == [
        "Churn", "Renewal", "Contraction", "Expansion",
    ]  # fmt: skip
    assert page.evaluate(f"{bands}.series[0].data") == [0.75, None, 0.166667]
    assert page.evaluate(f"{bands}.xAxis[0].data") == ["At risk", "Caution", "Healthy"]
    measures = option.format("chart-validation-measures")
    # best AUC at the top of the horizontal bars: the category axis runs bottom-up
    assert page.evaluate(f"{measures}.yAxis[0].data") == ["Active days (28 days)", "Latest NPS"]
    assert page.evaluate(f"{measures}.series[0].data") == [0.6, 0.791667]
    assert tab.errors == []
