"""On a small demo world, the default scorecard sees the hidden health that drives churn."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from banso.db import get_engine, session_scope
from banso.health import service, validation


@pytest.mark.slow
def test_default_scorecard_predicts_churn_on_a_demo_world(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").exit_code == 0
    result = cli(
        "demo",
        "generate",
        "--accounts",
        "400",
        "--months",
        "24",
        "--seed",
        "11",
        "--end",
        "2026-01-01",
    )
    assert result.exit_code == 0, result.stderr
    weekly = [date(2024, 3, 1) + timedelta(days=7 * i) for i in range(92)]
    with session_scope() as session:
        service.score_days(session, [d for d in weekly if d <= date(2025, 12, 31)])
    card = service.scorecards()[0]
    obs = validation.observations(get_engine(), None, None, 90)
    report = validation.validate(obs, card)
    assert report["roc_auc"] >= 0.75
    assert report["red_to_green_churn_ratio"] >= 3
    bands = {b["band"]: b for b in report["bands"]}
    assert bands["red"]["churn_rate"] > bands["yellow"]["churn_rate"] > bands["green"]["churn_rate"]
    assert bands["green"]["expansion_rate"] > bands["red"]["expansion_rate"]
    assert report["expansion_mrr_share_green"] > 0.5
