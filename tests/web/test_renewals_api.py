"""/api/renewals: the pipeline as JSON, the CSM's forecast set through the API (role-checked,
audited, history kept). 株式会社山田製作所 (owned by the CSM 佐藤) pays ¥1,200,000 a year
(MRR 100,000) from 200 days ago; its renewal falls a year after its start."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from banso.audit.models import AuditEntry
from banso.dates import today as company_today
from banso.db import session_scope
from banso.revenue.contracts import add_months
from web.world import EMAILS, World


def _renewal() -> str:
    return add_months(company_today() - timedelta(days=200), 12).isoformat()


def test_a_csm_forecasts_a_renewal_through_the_api(
    client: TestClient,
    world: World,
    sign_in,  # type: ignore[no-untyped-def]
) -> None:
    day = _renewal()
    url = f"/api/renewals/{world.yamada}/{day}/forecast"
    viewer = sign_in("viewer")
    denied = client.put(url, json={"status": "commit"}, headers={"X-CSRF-Token": viewer})
    assert denied.status_code == 403
    token = sign_in("csm")
    headers = {"X-CSRF-Token": token}
    # 佐藤 does not own みどり商事: 403 before anything else
    other = client.put(
        f"/api/renewals/{world.midori}/{day}/forecast", json={"status": "likely"}, headers=headers
    )
    assert other.status_code == 403
    bad = client.put(url, json={"status": "maybe"}, headers=headers)
    assert bad.status_code == 422
    wrong_day = add_months(company_today() - timedelta(days=200), 12) - timedelta(days=1)
    not_renewal = client.put(
        f"/api/renewals/{world.yamada}/{wrong_day.isoformat()}/forecast",
        json={"status": "likely"},
        headers=headers,
    )
    assert not_renewal.status_code == 400
    assert f"its next renewal is on {day}" in not_renewal.json()["detail"]
    done = client.put(url, json={"status": "commit", "note": "稟議済み"}, headers=headers)
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["note"]) == ("commit", "稟議済み")
    listed = client.get("/api/renewals", params={"from": day, "to": day})
    assert listed.status_code == 200, listed.text
    (row,) = listed.json()
    assert (row["account_id"], row["renewal_date"], row["mrr_due"]) == (world.yamada, day, 100000)
    assert (row["forecast"], row["probability"], row["expected_mrr"]) == ("commit", 0.95, 95000)
    assert (row["owner"], row["forecast_note"]) == ("佐藤 花子", "稟議済み")
    mine = client.get("/api/renewals", params={"from": day, "to": day, "owner": "me"})
    assert [r["account_id"] for r in mine.json()] == [world.yamada]
    months = client.get("/api/renewals/months", params={"from": day, "to": day}).json()
    assert [(m["renewals"], m["mrr_due"], m["expected_mrr"]) for m in months] == [
        (1, 100000, 95000)
    ]
    cleared = client.put(url, json={"status": None}, headers=headers)
    assert cleared.status_code == 200
    history = client.get(f"/api/renewals/{world.yamada}/{day}/forecasts").json()
    assert [(h["status"], h["set_by"]) for h in history] == [
        ("commit", EMAILS["csm"]),
        (None, EMAILS["csm"]),
    ]
    (row,) = client.get("/api/renewals", params={"from": day, "to": day}).json()
    assert row["forecast"] is None and row["probability_source"] in ("overall", "none")
    backwards = client.get("/api/renewals", params={"from": day, "to": "2000-01-01"})
    assert backwards.status_code == 422
    with session_scope() as s:
        audited = s.scalars(
            select(AuditEntry.actor).where(AuditEntry.action == "renewal.forecast")
        ).all()
    assert audited == [EMAILS["csm"], EMAILS["csm"]]
    schema = client.get("/api/openapi.json").json()
    assert "/api/renewals/{account_id}/{renewal_date}/forecast" in schema["paths"]
