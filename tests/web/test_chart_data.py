"""What the pages hand their charts: series named in the reader's language but keyed (and so
coloured) by the figure, the reporting currency for the money axis, and a cohort colour scale
that spans the data."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from banso.revenue.routes import HEAT_LEVELS, heat_level


def _dashboard_data(client: TestClient, lang: str) -> dict[str, Any]:
    page = client.get("/", headers={"Accept-Language": lang}).text
    marker = '<script type="application/json" id="dashboard-data">'
    start = page.index(marker) + len(marker)
    data: dict[str, Any] = json.loads(page[start : page.index("</script>", start)])
    return data


def test_trend_series_keep_key_and_order_in_both_languages(client: TestClient, sign_in) -> None:  # type: ignore[no-untyped-def]
    sign_in("viewer")
    english = _dashboard_data(client, "en")
    client.cookies.clear()
    sign_in("admin")  # another user, whose language comes from the browser
    japanese = _dashboard_data(client, "ja")
    for chart, keys in (
        ("retention", ["nrr_12m", "grr_12m"]),
        ("churn", ["mrr_churn_rate", "renewal_churn_rate"]),
    ):
        assert [s["key"] for s in english[chart]["series"]] == keys
        assert [s["key"] for s in japanese[chart]["series"]] == keys
        # the same figures under both names
        assert [s["data"] for s in english[chart]["series"]] == [
            s["data"] for s in japanese[chart]["series"]
        ]
    assert [s["name"] for s in english["churn"]["series"]] == [
        "Monthly MRR churn rate",
        "Monthly renewal churn rate",
    ]
    assert [s["name"] for s in japanese["churn"]["series"]] != [
        s["name"] for s in english["churn"]["series"]
    ]
    # the money axis is labelled in the reporting currency (BANSO_REPORTING_CURRENCY)
    assert english["currency"] == japanese["currency"] == "JPY"
    waterfall = english["waterfall"]
    assert len(waterfall["labels"]) == len(waterfall["values"]) == 7
    # start + movements = end: the floating bars close the gap exactly
    assert abs(sum(waterfall["values"][:-1]) - waterfall["values"][-1]) < 1e-6


def test_heat_level_spans_the_figures_of_the_measure() -> None:
    span = (0.84, 1.0)
    assert heat_level(0.84, span) == 0
    assert heat_level(0.92, span) == 5
    assert heat_level(1.0, span) == HEAT_LEVELS
    # a grid of one figure (every cohort at 100 %) is all the darkest shade, as the heatmap
    assert heat_level(1.0, (1.0, 1.0)) == HEAT_LEVELS
    assert heat_level(1.0, None) == HEAT_LEVELS
