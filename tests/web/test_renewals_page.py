"""The Renewals page's pipeline list: rows from the same service as the API, the forecast set
in place (htmx answers the row), viewers without forms, both languages."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from banso.dates import today as company_today
from banso.db import session_scope
from banso.renewals import pipeline
from banso.revenue.contracts import add_months
from web.world import World

HX = {"HX-Request": "true"}


def test_the_csm_sets_a_forecast_in_place(
    client: TestClient,
    world: World,
    sign_in,  # type: ignore[no-untyped-def]
) -> None:
    day = add_months(company_today() - timedelta(days=200), 12).isoformat()
    token = sign_in("csm")
    page = client.get(
        "/renewals", params={"from": day, "to": day}, headers={"Accept-Language": "en"}
    )
    assert page.status_code == 200
    assert page.text.count('data-testid="renewal"') == 1
    assert "株式会社山田製作所" in page.text and "¥100,000" in page.text
    assert 'data-testid="forecast-status"' in page.text
    row = client.post(
        "/renewals/forecast",
        data={"csrf_token": token, "account_id": world.yamada, "renewal_date": day,
              "status": "at_risk", "note": "予算削減"},
        headers=HX,
    )  # fmt: skip
    assert row.status_code == 200, row.text
    assert row.text.count('data-testid="renewal"') == 1
    assert 'value="at_risk" selected' in row.text
    assert "35.0%" in row.text and "¥35,000" in row.text
    with session_scope() as s:
        (f,) = pipeline.forecast_history(
            s, world.yamada, add_months(company_today() - timedelta(days=200), 12)
        )
        assert (f.status, f.note) == ("at_risk", "予算削減")
    bad = client.post(
        "/renewals/forecast",
        data={"csrf_token": token, "account_id": world.yamada, "renewal_date": day,
              "status": "maybe"},
        headers=HX,
    )  # fmt: skip
    assert bad.status_code == 200 and 'role="alert"' in bad.text
    lost = client.post(
        "/renewals/forecast",
        data={"csrf_token": token, "account_id": world.yamada, "renewal_date": day,
              "status": "lost"},
        headers=HX,
    )  # fmt: skip
    assert 'data-testid="reason-missing"' in lost.text and "Record why it is lost." in lost.text
    reasoned = client.post(
        "/renewals/forecast",
        data={"csrf_token": token, "account_id": world.yamada, "renewal_date": day,
              "status": "lost", "reason": "roi"},
        headers={**HX, "Accept-Language": "ja"},
    )  # fmt: skip
    assert 'data-testid="reason-missing"' not in reasoned.text
    assert 'value="roi" selected' in reasoned.text and "費用対効果が合わない" in reasoned.text
    wrong = client.post(
        "/renewals/forecast",
        data={"csrf_token": token, "account_id": world.yamada, "renewal_date": day,
              "status": "likely", "reason": "roi"},
        headers=HX,
    )  # fmt: skip
    assert "Give a churn reason only with the forecast lost." in wrong.text
    client.post(
        "/renewals/forecast",
        data={"csrf_token": token, "account_id": world.yamada, "renewal_date": day,
              "status": "at_risk"},
        headers=HX,
    )  # fmt: skip
    filtered = client.get("/renewals", params={"from": day, "to": day, "forecast": "commit"})
    assert filtered.text.count('data-testid="renewal"') == 0
    kept = client.get("/renewals", params={"from": day, "to": day, "forecast": "at_risk"})
    assert kept.text.count('data-testid="renewal"') == 1
    ja = client.get("/renewals", params={"from": day, "to": day}, headers={"Accept-Language": "ja"})
    assert "更新パイプライン" in ja.text and "危険" in ja.text


def test_a_viewer_sees_the_list_without_forms(
    client: TestClient,
    world: World,
    sign_in,  # type: ignore[no-untyped-def]
) -> None:
    day = add_months(company_today() - timedelta(days=200), 12).isoformat()
    token = sign_in("viewer")
    page = client.get("/renewals", params={"from": day, "to": day})
    assert page.text.count('data-testid="renewal"') == 1
    assert 'data-testid="forecast-status"' not in page.text
    denied = client.post(
        "/renewals/forecast",
        data={"csrf_token": token, "account_id": world.yamada, "renewal_date": day,
              "status": "commit"},
        headers=HX,
    )  # fmt: skip
    assert denied.status_code == 403
