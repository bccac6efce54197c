"""The Health page's churn-model panel: the kept model's drifted and moving features and the
calibration since training, from the stored drift check, in English and Japanese; and a plain
"no model kept" otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
from fastapi.testclient import TestClient

from banso.prediction import service
from web.world import World

EMPTY = {"bin": "", "rows": 0, "predicted": None, "observed": None}
REPORT = {
    "as_of": "2026-10-31",
    "model_version": 1,
    "trained_until": "2026-06-05",
    "recent_days": ["2026-09-05", "2026-10-03", "2026-10-31"],
    "features": [
        {"feature": "tenure_days", "psi": 0.31},
        {"feature": "mrr_change_90d", "psi": 0.12},
        {"feature": "health_score", "psi": 0.02},
        {"feature": "term_months", "psi": None},
    ],
    "drifted": ["tenure_days"],
    "calibration_since_training": {
        "rows": 200,
        "positives": 20,
        "brier": 0.0812,
        "calibration": [
            {"bin": "0.0-0.1", "rows": 150, "predicted": 0.05, "observed": 0.06},
            {"bin": "0.1-0.2", "rows": 50, "predicted": 0.15, "observed": 0.22},
            *[EMPTY] * 8,
        ],
    },
    "training_brier": 0.0404,
}


def _keep_model(home: Path) -> service.KeptModel:
    folder = home / "models" / "churn" / "v1"
    folder.mkdir(parents=True)
    joblib.dump({"stand-in": "estimator"}, folder / "model.joblib")
    meta = {
        "version": 1,
        "horizon_days": 90,
        "last_training_day": "2026-06-05",
        "features": ["tenure_days"],
        "backtest": {"brier": 0.0404},
    }
    (folder / "model.json").write_text(json.dumps(meta), encoding="utf-8")
    kept = service.latest_model()
    assert kept is not None
    return kept


def _panel(client: TestClient, lang: str = "en") -> str:
    page = client.get("/health/churn", headers={"Accept-Language": lang})
    assert page.status_code == 200
    return page.text


def test_the_panel_shows_drift_and_calibration_of_the_kept_model(
    client: TestClient,
    sign_in,  # type: ignore[no-untyped-def]
    world: World,
    banso_home: Path,
) -> None:
    sign_in("viewer")
    assert 'hx-get="/health/churn"' in client.get("/health").text
    kept = _keep_model(banso_home)
    assert "No drift check is stored for this model yet" in _panel(client)

    service.store_drift(kept, REPORT)
    assert service.stored_drift(kept) == REPORT
    en = _panel(client)
    assert "Model version 1, 90-day horizon, trained on scoring days up to 2026-06-05" in en
    drifted = en[en.index('data-testid="drift-tenure_days"') :]
    assert "Days as a customer" in drifted[: drifted.index("</tr>")]
    assert "0.310" in drifted and "Drifted (PSI ≥ 0.25)" in drifted[: drifted.index("</tr>")]
    moving = en[en.index('data-testid="drift-mrr_change_90d"') :]
    assert "Moving (PSI 0.1–0.25)" in moving[: moving.index("</tr>")]
    assert 'data-testid="drift-health_score"' not in en  # stable: 0.02
    assert 'data-testid="drift-term_months"' not in en  # no PSI
    # predicted (150 x 5 % + 50 x 15 %) / 200 = 7.5 %; observed 20 / 200 = 10 %
    assert (
        "200 customer-days scored after training have a complete horizon: predicted churn 7.5%, "
        "observed 10.0%; Brier 0.0812 (backtest 0.0404)."
    ) in en
    assert en.count("<tr><td>0.") == 2  # the two filled bins only

    ja = _panel(client, "ja")
    assert "解約モデル：ドリフトと較正" in ja
    assert "ドリフトあり（PSI ≥ 0.25）" in ja and "変動中（PSI 0.1〜0.25）" in ja
    assert "予測解約率 7.5%、実績 10.0%" in ja


def test_the_panel_says_when_no_model_is_kept(
    client: TestClient,
    sign_in,  # type: ignore[no-untyped-def]
    world: World,
) -> None:
    sign_in("viewer")
    en = _panel(client)
    assert "No churn model is kept." in en and "PSI" not in en
    assert "保存された解約モデルはありません。" in _panel(client, "ja")


def test_no_feature_moved_and_no_complete_horizon_yet(
    client: TestClient,
    sign_in,  # type: ignore[no-untyped-def]
    world: World,
    banso_home: Path,
) -> None:
    sign_in("viewer")
    kept = _keep_model(banso_home)
    quiet = {**REPORT, "features": [{"feature": "tenure_days", "psi": 0.05}], "drifted": []}
    service.store_drift(kept, {**quiet, "calibration_since_training": None})
    en = _panel(client)
    assert "No feature has moved: every PSI is below 0.1." in en
    assert "No day scored after training has a complete horizon yet." in en
