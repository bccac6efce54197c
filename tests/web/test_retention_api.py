"""/api/churn-reasons and /api/goals, and a churn reason given when a CTA is closed (API and
the web form): who may write, what is stored and audited, the report's real figures."""

from __future__ import annotations

import json
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from banso.audit.models import AuditEntry
from banso.dates import today as company_today
from banso.db import session_scope, utcnow
from banso.playbooks.models import Cta
from banso.retention.models import ChurnReason
from banso.users.tokens import create_token
from web.world import EMAILS, World


def _auth(role: str, scopes: tuple[str, ...] = ("read", "write")) -> dict[str, str]:
    with session_scope() as s:
        _row, value = create_token(s, EMAILS[role], "t", list(scopes), utcnow() + timedelta(days=1))
    return {"Authorization": f"Bearer {value}"}


def test_a_csm_records_a_reason_and_the_report_attributes_the_lost_mrr(
    client: TestClient, world: World
) -> None:
    # Acme paid 600,000 a year (MRR 50,000) until 135 days ago: spec §3 churn in that month
    churn_month = (company_today() - timedelta(days=135)).strftime("%Y-%m")
    csm, viewer = _auth("csm"), _auth("viewer")
    choices = client.get("/api/churn-reasons", headers={**viewer, "Accept-Language": "ja"})
    assert choices.status_code == 200
    assert choices.json()[2] == {"code": "cheaper_competitor", "label": "より安い競合製品"}
    query = f"start={churn_month}&end={churn_month}"
    before = client.get(f"/api/churn-reasons/unreasoned?{query}", headers=viewer).json()
    assert [(r["account_id"], r["kind"], r["lost_mrr"]) for r in before] == [
        (world.acme, "churn", 50000.0)
    ]
    body = {"month": churn_month, "reason": "cheaper_competitor", "note": "価格で他社へ"}
    refused = client.post(f"/api/accounts/{world.acme}/churn-reasons", headers=viewer, json=body)
    assert refused.status_code == 403
    bad = client.post(f"/api/accounts/{world.acme}/churn-reasons", headers=csm,
                      json={**body, "reason": "bored"})  # fmt: skip
    assert bad.status_code == 422
    assert "Unknown churn reason 'bored'" in bad.text
    year_zero = client.post(f"/api/accounts/{world.acme}/churn-reasons", headers=csm,
                            json={**body, "month": "0000-01"})  # fmt: skip
    assert year_zero.status_code == 422
    assert "Give a month from 1990-01" in year_zero.text
    made = client.post(f"/api/accounts/{world.acme}/churn-reasons", headers=csm, json=body)
    assert made.status_code == 201, made.text
    assert (made.json()["reason"], made.json()["recorded_by"]) == (
        "cheaper_competitor",
        EMAILS["csm"],
    )
    report = client.get(f"/api/churn-reasons/report?{query}&by=segment", headers=viewer)
    assert report.json() == [
        {"month": churn_month, "segment": "Mid-market", "reason": "cheaper_competitor",
         "reason_label": "Cheaper competitor", "accounts": 1, "churned_mrr": 50000.0,
         "contraction_mrr": 0.0, "lost_mrr": 50000.0},
    ]  # fmt: skip
    assert client.get(f"/api/churn-reasons/unreasoned?{query}", headers=viewer).json() == []
    with session_scope() as s:
        entry = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "churn_reason.record")
        ).one()
        assert (entry.actor, entry.target) == (EMAILS["csm"], f"account:{world.acme}")
        assert json.loads(entry.detail)["month"] == churn_month
    assert client.get("/api/goals", headers=viewer).status_code == 400


def test_closing_a_cta_as_churned_records_the_reason(client: TestClient, world: World) -> None:
    admin = _auth("admin")
    made = client.post("/api/ctas", headers=admin,
                       json={"account_id": world.midori, "title": "解約の連絡"})  # fmt: skip
    assert made.status_code == 201, made.text
    cta_id = made.json()["id"]
    wrong = client.post(f"/api/ctas/{cta_id}/close", headers=admin,
                        json={"outcome": "resolved", "reason": "roi"})  # fmt: skip
    assert wrong.status_code == 422
    assert "only with the outcome churned" in wrong.text
    closed = client.post(f"/api/ctas/{cta_id}/close", headers=admin,
                         json={"outcome": "churned", "reason": "roi", "note": "高い"})  # fmt: skip
    assert closed.status_code == 200, closed.text
    with session_scope() as s:
        stored = s.scalars(select(ChurnReason)).one()
        assert (stored.account_id, stored.month, stored.code, stored.note, stored.cta_id) == (
            world.midori,
            company_today().strftime("%Y-%m"),
            "roi",
            "高い",
            cta_id,
        )
        assert stored.recorded_by == EMAILS["admin"]


def test_the_close_form_offers_the_reasons(
    client: TestClient,
    world: World,
    sign_in,  # type: ignore[no-untyped-def]
) -> None:
    token = sign_in("csm")
    made = client.post("/ctas", data={"csrf_token": token, "account_id": world.yamada,
                                      "title": "Risk", "type": "risk", "priority": "high",
                                      "template": "", "view": "account"})  # fmt: skip
    assert made.status_code in (200, 303), made.text
    page = client.get(f"/accounts/{world.yamada}", headers={"Accept-Language": "ja"}).text
    assert 'data-testid="cta-churn-reason"' in page
    assert "推進者の退職・異動" in page
    with session_scope() as s:
        cta_id = s.scalars(select(Cta.id)).one()
    closed = client.post(f"/ctas/{cta_id}/close", data={
        "csrf_token": token, "outcome": "churned", "reason": "champion_left", "note": "",
        "view": "account"})  # fmt: skip
    assert closed.status_code in (200, 303), closed.text
    with session_scope() as s:
        assert s.scalars(select(ChurnReason.code)).one() == "champion_left"


def test_the_churn_reasons_page_lists_losses_and_records_a_reason(
    client: TestClient,
    world: World,
    sign_in,  # type: ignore[no-untyped-def]
) -> None:
    churn_month = (company_today() - timedelta(days=135)).strftime("%Y-%m")
    sign_in("viewer")
    url = f"/metrics/churn-reasons?start={churn_month}&end={churn_month}"
    page = client.get(url, headers={"Accept-Language": "ja"}).text
    assert "理由未記録" in page and "50,000" in page and "Acme Japan K.K." in page
    assert 'data-testid="record-reason"' not in page  # a viewer reads only
    assert "目標ファイルがありません" in page
    assert 'data-testid="churn-reasons-link"' in client.get("/metrics").text
    token = sign_in("csm")
    page = client.get(url).text
    assert page.count('data-testid="record-reason"') == 1
    done = client.post("/metrics/churn-reasons", data={
        "csrf_token": token, "account_id": world.acme, "month": churn_month,
        "reason": "business_decline", "note": "", "start": churn_month, "end": churn_month,
    }, follow_redirects=False)  # fmt: skip
    assert done.status_code == 303, done.text
    page = client.get(url).text
    assert "Customer&#39;s business declining" in page or "Customer's business declining" in page
    assert 'data-testid="record-reason"' not in page
    refused = client.post(
        "/metrics/churn-reasons",
        data={
            "csrf_token": token,
            "account_id": world.acme,
            "month": churn_month,
            "reason": "nope",
        },
    )
    assert refused.status_code == 422
    assert "Unknown churn reason" in refused.text


def test_a_csm_records_reasons_only_on_the_accounts_they_own(
    client: TestClient, world: World
) -> None:
    month = company_today().strftime("%Y-%m")
    body = {"month": month, "reason": "roi"}
    # the CSM owns Yamada, not Midori (another CSM's)
    denied = client.post(
        f"/api/accounts/{world.midori}/churn-reasons", headers=_auth("csm"), json=body
    )
    assert denied.status_code == 403, denied.text
    missing = client.post("/api/accounts/999999/churn-reasons", headers=_auth("csm"), json=body)
    assert missing.status_code == 404
    done = client.post(
        f"/api/accounts/{world.yamada}/churn-reasons", headers=_auth("csm"), json=body
    )
    assert done.status_code == 201, done.text
    by_ops = client.post(
        f"/api/accounts/{world.midori}/churn-reasons", headers=_auth("ops"), json=body
    )
    assert by_ops.status_code == 201, by_ops.text
    with session_scope() as s:
        stored = s.execute(select(ChurnReason.account_id, ChurnReason.code)).all()
        assert sorted(stored) == sorted([(world.yamada, "roi"), (world.midori, "roi")])
