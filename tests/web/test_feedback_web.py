"""/api/feedback and the Feedback, Advocacy and 360 pages on the web test world: a CSM records
asks on their own account (not on another's), a viewer reads but may not write, the survey
comment on the 360 becomes an ask, the CSV downloads, mistakes are 4xx with the field named,
never 500; the operations are in the OpenAPI document."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from banso.audit.models import AuditEntry
from banso.db import session_scope, utcnow
from banso.feedback.models import AdvocacyItem, FeedbackAsk
from banso.surveys.models import SurveyResponse
from banso.users.tokens import create_token
from web.world import EMAILS, World


def _token(role: str) -> dict[str, str]:
    with session_scope() as s:
        _row, value = create_token(s, EMAILS[role], "t", ["read", "write"],
                                   utcnow() + timedelta(days=1))  # fmt: skip
    return {"Authorization": f"Bearer {value}"}


def test_the_api_creates_asks_ranks_merges_and_ships(client: TestClient, world: World) -> None:
    csm, viewer = _token("csm"), _token("viewer")
    sso = client.post("/api/feedback", headers=csm, json={"title": "SAML SSO"})
    assert sso.status_code == 201, sso.text
    dup = client.post("/api/feedback", headers=csm,
                      json={"title": "SSO (SAML)", "category": "integration"})  # fmt: skip
    sso_id, dup_id = sso.json()["id"], dup.json()["id"]
    asked = client.post(
        f"/api/feedback/{dup_id}/asks", headers=csm,
        json={"account_id": world.yamada, "note": "needed for the audit"},
    )  # fmt: skip
    assert asked.status_code == 201, asked.text
    assert (asked.json()["source"], asked.json()["account_id"]) == ("api", world.yamada)
    # Midori is Tanaka's account: Sato (CSM) may not record its asks
    other = client.post(f"/api/feedback/{sso_id}/asks", headers=csm,
                        json={"account_id": world.midori})  # fmt: skip
    assert other.status_code == 403
    merged = client.post(f"/api/feedback/{dup_id}/merge", headers=csm, json={"into": sso_id})
    assert merged.status_code == 200, merged.text
    assert (merged.json()["id"], merged.json()["asks"], merged.json()["accounts"]) == (sso_id, 1, 1)
    listed = client.get("/api/feedback", headers=viewer).json()
    assert [r["id"] for r in listed] == [sso_id]
    assert listed[0]["mrr"] > 0
    shipped = client.post(f"/api/feedback/{sso_id}/status", headers=csm, json={"status": "shipped"})
    assert shipped.json() == {"id": sso_id, "status": "shipped", "emails_queued": 0}
    # a viewer reads only
    assert client.post("/api/feedback", headers=viewer, json={"title": "x"}).status_code == 403
    # mistakes: the field and the reason, never a 500
    bad = client.post("/api/feedback", headers=csm, json={"title": "   "})
    assert bad.status_code == 422 and "title" in bad.text
    bad = client.post(f"/api/feedback/{sso_id}/asks", headers=csm, json={"account_id": 999_999})
    assert bad.status_code == 422 and "No account with id 999999." in bad.text
    bad = client.post(f"/api/feedback/{dup_id}/asks", headers=csm,
                      json={"account_id": world.yamada})  # fmt: skip
    assert bad.status_code == 400 and "was merged into request" in bad.text
    assert client.post("/api/feedback/424242/status", headers=csm,
                       json={"status": "planned"}).status_code == 404  # fmt: skip
    assert client.post(f"/api/feedback/{sso_id}/status", headers=csm,
                       json={"status": "done"}).status_code == 422  # fmt: skip
    paths = client.get("/api/openapi.json", headers=viewer).json()["paths"]
    assert {"/api/feedback", "/api/feedback/{request_id}/asks", "/api/feedback/{request_id}/status",
            "/api/feedback/{request_id}/merge"} <= set(paths)  # fmt: skip
    with session_scope() as s:
        actions = s.scalars(
            select(AuditEntry.action).where(AuditEntry.action.startswith("feedback."))
        ).all()
    assert sorted(actions) == sorted(["feedback.create", "feedback.create", "feedback.ask",
                                      "feedback.merge", "feedback.status"])  # fmt: skip


def test_the_360_turns_a_survey_comment_into_an_ask_and_tracks_advocacy(
    client: TestClient, world: World, sign_in,  # type: ignore[no-untyped-def]
) -> None:
    token = sign_in("csm")
    created = client.post("/feedback/requests", data={"title": "Bulk edit", "csrf_token": token},
                          follow_redirects=False)  # fmt: skip
    assert created.status_code == 303
    section = client.get(f"/accounts/{world.yamada}/feedback")
    assert "とても使いやすい" in section.text and "Make it an ask" in section.text
    with session_scope() as s:
        response_id = s.scalar(select(SurveyResponse.id).where(SurveyResponse.external_id == "N-1"))
    posted = client.post(
        f"/accounts/{world.yamada}/feedback/asks", follow_redirects=False,
        data={"csrf_token": token, "request_id": "1", "survey_response_id": str(response_id)},
    )  # fmt: skip
    assert posted.status_code == 303
    assert posted.headers["location"] == f"/accounts/{world.yamada}#feedback"
    posted = client.post(
        f"/accounts/{world.yamada}/feedback/asks", follow_redirects=False,
        data={"csrf_token": token, "title": "Audit log", "note": "from the QBR"},
    )  # fmt: skip
    assert posted.status_code == 303
    with session_scope() as s:
        asks = s.scalars(select(FeedbackAsk).order_by(FeedbackAsk.id)).all()
        assert [(a.request_id, a.source, a.survey_response_id) for a in asks] == [
            (1, "survey", response_id), (2, "account_360", None)]  # fmt: skip
    added = client.post("/advocacy/items", follow_redirects=False, data={
        "csrf_token": token, "account_id": str(world.yamada), "kind": "case_study",
        "back": "account"})  # fmt: skip
    assert added.status_code == 303
    with session_scope() as s:
        item_id = s.scalar(select(AdvocacyItem.id))
    for status in ("asked", "agreed", "done"):
        moved = client.post(f"/advocacy/items/{item_id}/status", follow_redirects=False,
                            data={"csrf_token": token, "status": status})  # fmt: skip
        assert moved.status_code == 303
    again = client.post(f"/advocacy/items/{item_id}/status",
                        data={"csrf_token": token, "status": "declined"})  # fmt: skip
    assert again.status_code == 400 and "it can no longer change" in again.text
    page = client.get("/advocacy")
    assert page.status_code == 200 and "Case study" in page.text and "Done" in page.text
    feedback = client.get("/feedback?rank_by=at_risk_mrr")
    assert "Bulk edit" in feedback.text and "Audit log" in feedback.text
    download = client.get("/feedback/export.csv")
    assert download.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(download.text.lstrip("\ufeff"))))
    assert sorted(r["title"] for r in rows) == ["Audit log", "Bulk edit"]


def test_a_viewer_sees_the_pages_without_forms_and_may_not_post(
    client: TestClient, world: World, sign_in,  # type: ignore[no-untyped-def]
) -> None:
    token = sign_in("viewer")
    page = client.get("/feedback")
    assert page.status_code == 200 and 'data-testid="feedback-create"' not in page.text
    refused = client.post("/feedback/requests", data={"title": "x", "csrf_token": token})
    assert refused.status_code == 403
    assert 'data-testid="account-ask"' not in client.get(f"/accounts/{world.yamada}/feedback").text
    assert client.get("/accounts/999999/feedback").status_code == 404
    assert client.get("/feedback?status=nonsense").status_code == 422
