"""The 360 shows the stored churn score with its reasons in the reader's language, beside the
CSM pulse and the latest notes (never instead of them)."""

from __future__ import annotations

import json
from datetime import date

from fastapi.testclient import TestClient

from banso.db import session_scope
from banso.prediction.models import ChurnScore
from web.world import World


def test_the_360_shows_the_churn_risk_beside_the_pulse_and_notes(
    client: TestClient,
    sign_in,  # type: ignore[no-untyped-def]
    world: World,
) -> None:
    reasons = [
        {"feature": "active_users_28d_trend", "value": -0.4, "typical": 0.0, "contribution": 0.08},
        {"feature": "days_to_renewal", "value": 21.0, "typical": 200.0, "contribution": 0.02},
    ]
    with session_scope() as s:
        s.add(
            ChurnScore(
                account_id=world.yamada, day=date(2026, 10, 31), horizon_days=90,
                probability=0.237, model_version=3, reasons=json.dumps(reasons),
            )
        )  # fmt: skip
    token = sign_in("csm")
    page = client.post(
        f"/accounts/{world.yamada}/pulse",
        data={"rating": "2", "comment": "決裁者が交代", "csrf_token": token},
    ).text
    section = page[page.index('data-testid="churn-risk"') :]
    section = section[: section.index("</section>")]
    assert 'data-testid="churn-probability">23.7%<' in section
    assert "within 90 days, scored 2026-10-31 (model version 3)" in section
    assert "<li>Active users (28 days) fell 40.0% in 28 days</li>" in section
    assert "<li>Renewal in 21 days</li>" in section
    assert "CSM pulse: 2/5 — 決裁者が交代" in section
    # the health score is still there: the churn number sits beside it
    assert 'data-testid="health-score"' in page or "No health score yet" in page
    ja = client.get(f"/accounts/{world.yamada}", headers={"Accept-Language": "ja"}).text
    assert "<li>アクティブユーザー数（28日）が28日間で40.0%減少</li>" in ja
    assert "解約リスク" in ja and "チームの所見" in ja


def test_no_churn_section_before_any_score(
    client: TestClient,
    sign_in,  # type: ignore[no-untyped-def]
    world: World,
) -> None:
    sign_in("viewer")
    assert 'data-testid="churn-risk"' not in client.get(f"/accounts/{world.yamada}").text
