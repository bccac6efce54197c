"""Validation on a small world whose answer is known by hand."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pyarrow as pa
import pytest

from banso import schema
from banso.accounts.models import Account
from banso.db import get_engine, session_scope
from banso.health import snapshots, validation
from banso.health.scorecard import load_scorecards
from banso.revenue.models import Subscription

D = date(2024, 1, 1)
LAST = date(2024, 6, 30)  # the last scored day: outcomes are known up to here
# (score, ends within 90 days of D?, renews on a dearer plan?)
WORLD = [
    (20, True, False),
    (20, True, False),
    (20, True, False),
    (20, False, False),
    (90, True, False),
    (90, False, True),
    (90, False, False),
    (90, False, False),
    (90, False, False),
    (90, False, False),
]


@pytest.fixture
def world() -> None:
    schema.upgrade()
    with session_scope() as s:
        for i, (_score, churns, expands) in enumerate(WORLD, start=1):
            s.add(Account(id=i, name=f"A{i}", normalized_name=f"a{i}"))
            s.flush()
            s.add(
                Subscription(
                    account_id=i,
                    source="t",
                    external_id=f"S{i}",
                    plan="p",
                    start_date=date(2023, 1, 1),
                    end_date=date(2024, 2, 1) if churns or expands else None,
                    amount=10000,
                    currency="JPY",
                    billing_period_months=1,
                )
            )
            if expands:
                s.add(
                    Subscription(
                        account_id=i,
                        source="t",
                        external_id=f"X{i}",
                        plan="p",
                        start_date=date(2024, 2, 1),
                        amount=30000,
                        currency="JPY",
                        billing_period_months=1,
                    )
                )
    for day in (D, LAST):
        snapshots.write_day(
            day,
            pa.table(
                {
                    "account_id": pa.array(range(1, 11), pa.int64()),
                    "day": pa.array([day] * 10, pa.date32()),
                    "scorecard": ["default"] * 10,
                    "score": pa.array([float(w[0]) for w in WORLD]),
                    "band": ["red" if w[0] < 50 else "green" for w in WORLD],
                    "computed_score": pa.array([float(w[0]) for w in WORLD]),
                    "overridden": [False] * 10,
                    "override_reason": pa.array([None] * 10, pa.string()),
                    "mrr": pa.array([10000.0] * 10),
                    "score__latest_nps": pa.array([float(w[0]) for w in WORLD]),
                }
            ),
        )


def test_report_by_hand(world: None) -> None:
    obs = validation.observations(get_engine(), None, None, 90)
    # only D has a complete 90-day horizon before LAST
    assert obs.table.num_rows == 10
    report = validation.validate(obs, load_scorecards(None)[0])
    bands = {b["band"]: b for b in report["bands"]}
    assert bands["red"]["accounts"] == 4
    assert bands["red"]["churn_rate"] == 0.75
    assert bands["green"]["churn_rate"] == pytest.approx(1 / 6, abs=1e-6)
    assert bands["yellow"]["accounts"] == 0 and bands["yellow"]["churn_rate"] is None
    assert bands["green"]["expansion_rate"] == pytest.approx(1 / 6, abs=1e-6)
    # monthly lines renew every month, so all are due; the renewed share is 1 - churn
    assert bands["red"]["renewal_rate"] == 0.25
    # risk ties count half: (3 * 5.5 + 2.5) / 24
    assert report["roc_auc"] == pytest.approx(19 / 24, abs=1e-6)
    # riskiest tenth = one red account: churn rate 1 over overall 0.4
    assert report["top_decile_lift"] == 2.5
    assert report["lost_mrr_share_red"] == 0.75
    assert report["expansion_mrr_share_green"] == 1.0
    assert report["red_to_green_churn_ratio"] == 4.5
    assert report["measures"] == [
        {"measure": "latest_nps", "auc": pytest.approx(19 / 24, abs=1e-6), "observations": 10}
    ]


def test_cli_json_has_the_documented_keys(world: None, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("health", "validate", "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert {"roc_auc", "top_decile_lift", "bands", "measures"} <= set(report)
    assert set(report["bands"][0]) >= {
        "band",
        "accounts",
        "churn_rate",
        "renewal_rate",
        "contraction_rate",
        "expansion_rate",
    }


def test_no_complete_horizon_is_one_sentence(world: None, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("health", "validate", "--from", str(LAST - timedelta(days=10)))
    assert result.exit_code == 2
    assert "complete 90-day horizon" in result.stderr


def test_fit_moves_weight_to_the_measure_that_predicts_churn(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import numpy as np

    from banso.health.scorecard import load_scorecard_file

    card_path = tmp_path / "two.yaml"
    card_path.write_text(
        "name: two\ngroups:\n  g:\n    measures:\n"
        "      latest_nps: {weight: 9, linear: [[0, 0], [100, 100]]}\n"
        "      active_days_28d: {weight: 1, linear: [[0, 0], [100, 100]]}\n",
        encoding="utf-8",
    )
    card = load_scorecard_file(card_path)
    rng = np.random.default_rng(3)
    n_days, n_acc = 20, 100
    useful = rng.uniform(0, 100, (n_days, n_acc))
    noise = rng.uniform(0, 100, (n_days, n_acc))
    churned = rng.uniform(0, 100, (n_days, n_acc)) > useful + 30
    current = 0.9 * noise + 0.1 * useful
    days = [date(2024, 1, 1) + timedelta(days=i) for i in range(n_days)]
    obs = validation.Observations(
        pa.table(
            {
                "day": pa.array(np.repeat(days, n_acc), pa.date32()),
                "churned": churned.ravel(),
                "computed_score": current.ravel(),
                "score__latest_nps": noise.ravel(),
                "score__active_days_28d": useful.ravel(),
            }
        )
    )
    result = validation.fit(obs, card)
    weights = {w["measure"]: w for w in result["weights"]}
    assert weights["active_days_28d"]["suggested_weight"] > 0.8
    assert weights["latest_nps"]["current_weight"] == 0.9
    assert result["suggested_auc_test"] > result["current_auc_test"] + 0.1
    assert result["train_days"] == ["2024-01-01", "2024-01-14"]


def _lacking_world(signal: bool):  # type: ignore[no-untyped-def]
    """A card of one useless measure; raw values of measures it lacks, one of which decides
    churn when ``signal``."""
    import numpy as np

    from banso.health.scorecard import load_scorecard_file

    rng = np.random.default_rng(11)
    n_days, n_acc = 24, 150
    noise = rng.uniform(0, 100, (n_days, n_acc))
    logins = rng.uniform(0, 60, (n_days, n_acc))
    tickets = rng.integers(0, 5, (n_days, n_acc)).astype(float)
    if signal:  # fewer logins, more churn
        churned = rng.uniform(0, 60, (n_days, n_acc)) > logins + 20
    else:
        churned = rng.uniform(0, 1, (n_days, n_acc)) < 0.2
    days = [date(2024, 1, 1) + timedelta(days=7 * i) for i in range(n_days)]
    accounts = np.tile(np.arange(1, n_acc + 1), n_days)
    day_col = pa.array(np.repeat(days, n_acc), pa.date32())
    obs = validation.Observations(
        pa.table(
            {
                "account_id": accounts,
                "day": day_col,
                "churned": churned.ravel(),
                "computed_score": noise.ravel(),
                "score__latest_nps": noise.ravel(),
            }
        )
    )
    raw = pa.table(
        {
            "account_id": accounts,
            "day": day_col,
            "latest_nps": noise.ravel(),
            "logins_28d": logins.ravel(),
            "tickets_30d": tickets.ravel(),
        }
    )
    return obs, raw, load_scorecard_file


def test_fit_proposes_a_lacking_measure_that_helps_on_held_out_days(tmp_path) -> None:  # type: ignore[no-untyped-def]
    obs, raw, load = _lacking_world(signal=True)
    card_path = tmp_path / "one.yaml"
    card_path.write_text(
        "name: one\ngroups:\n  g:\n    measures:\n"
        "      latest_nps: {linear: [[0, 0], [100, 100]]}\n",
        encoding="utf-8",
    )
    found = validation.propose(obs, load(card_path), raw)
    assert [p["measure"] for p in found["proposals"]][:1] == ["logins_28d"]
    logins = found["proposals"][0]
    # more logins, less churn: scored up from the 5th to the 95th percentile (about 3 and 57)
    (lo, s_lo), (hi, s_hi) = logins["linear"]
    assert (s_lo, s_hi) == (0.0, 100.0)
    assert 1 < lo < 6 and 54 < hi < 59
    assert logins["selection_auc_gain"] > 0.2
    assert found["proposed_auc_test"] > found["base_auc_test"] + 0.2
    assert found["rows"] == 24 * 150 and found["days"] == 24


def test_fit_proposes_nothing_when_nothing_helps(tmp_path) -> None:  # type: ignore[no-untyped-def]
    obs, raw, load = _lacking_world(signal=False)
    card_path = tmp_path / "one.yaml"
    card_path.write_text(
        "name: one\ngroups:\n  g:\n    measures:\n"
        "      latest_nps: {linear: [[0, 0], [100, 100]]}\n",
        encoding="utf-8",
    )
    found = validation.propose(obs, load(card_path), raw)
    assert found["proposals"] == [] and found["reason"] == "none_helped"


def test_proposal_days_step_back_from_the_last() -> None:
    days = [date(2024, 1, 1) + timedelta(days=i) for i in range(60)]
    obs = validation.Observations(pa.table({"day": pa.array(days, pa.date32())}))
    assert validation.proposal_days(obs, 28) == [
        date(2024, 1, 4),
        date(2024, 2, 1),
        date(2024, 2, 29),
    ]
