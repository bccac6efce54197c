"""The public answer page ``/s/{token}`` (no sign-in, no CSRF field: the token is the
credential; answered once; forged, expired and reused tokens get a clear page, never a 500),
the Surveys page and ``/api/surveys/report``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from banso import dates
from banso.accounts.models import Contact
from banso.db import session_scope, utcnow
from banso.surveys.models import SurveyResponse
from banso.voc import routes, service
from banso.voc.models import SurveyInvitation
from web.world import World


@pytest.fixture(autouse=True)
def fresh_rate_limit() -> Iterator[None]:
    """Every test starts with no answer posts counted against the test client's address."""
    routes.answer_posts._calls.clear()
    yield
    routes.answer_posts._calls.clear()


def _invite(email: str, lang: str) -> str:
    with session_scope() as s:
        contact = s.scalars(select(Contact).where(Contact.email == email)).one()
        contact.language = lang
        sent = service.invite(
            s, survey="nps", contact_id=contact.id, origin="cli", day=dates.today()
        )
        invitation = s.get(SurveyInvitation, sent.invitation_id)
        assert invitation is not None
        return service.answer_token(invitation)


def _banso_answers() -> int:
    with session_scope() as s:
        return s.scalar(
            select(func.count()).select_from(SurveyResponse).where(SurveyResponse.source == "banso")
        ) or 0  # fmt: skip


def test_the_page_asks_in_the_contacts_language_and_saves_one_answer(
    client: TestClient, world: World
) -> None:
    token = _invite("taro@yamada-ss.co.jp", "ja")
    page = client.get(f"/s/{token}", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert '<html lang="ja">' in page.text
    assert "当サービスを友人や同僚にすすめる可能性" in page.text
    assert page.text.count('name="score"') == 11  # 0..10
    assert "csrf_token" not in page.text.split("<form", 1)[1].split("</form>", 1)[0]
    assert page.headers["cache-control"] == "no-store"

    bad = client.post(f"/s/{token}", data={"score": "11", "comment": "x"})
    assert bad.status_code == 422 and "0〜10 の点数を選んでください" in bad.text
    for odd in ("²", "1e1", "-1", "", "９"):
        assert client.post(f"/s/{token}", data={"score": odd}).status_code == 422
    assert _banso_answers() == 0

    done = client.post(f"/s/{token}", data={"score": "10", "comment": "助かっています"})
    assert done.status_code == 200 and "ご回答ありがとうございました" in done.text
    again = client.post(f"/s/{token}", data={"score": "0", "comment": "again"})
    assert again.status_code == 200 and "すでに回答" in again.text
    assert client.get(f"/s/{token}").text.count("すでに回答") == 1
    with session_scope() as s:
        [row] = s.scalars(select(SurveyResponse).where(SurveyResponse.source == "banso")).all()
        assert (row.score, row.comment, row.account_id) == (10, "助かっています", world.yamada)


def test_forged_and_expired_links_get_a_clear_page_and_save_nothing(
    client: TestClient, world: World
) -> None:
    token = _invite("jiro@yamada-ss.co.jp", "en")
    for bad in ("guess", token[:-3] + "abc", "a" * 600, "%00"):
        got = client.get(f"/s/{bad}", headers={"Accept-Language": "en"})
        assert got.status_code == 404 and "This link is not valid" in got.text
        posted = client.post(f"/s/{bad}", data={"score": "10"})
        assert posted.status_code == 404
    with session_scope() as s:
        invitation = s.scalars(select(SurveyInvitation)).one()
        invitation.expires_at = utcnow() - timedelta(seconds=1)
    expired = client.get(f"/s/{token}")
    assert expired.status_code == 410 and "This link has expired" in expired.text
    assert client.post(f"/s/{token}", data={"score": "10"}).status_code == 410
    assert _banso_answers() == 0


def test_answer_posts_are_rate_limited_per_address(client: TestClient, world: World) -> None:
    statuses = [client.post("/s/guess", data={"score": "1"}).status_code for _ in range(21)]
    assert statuses == [404] * 20 + [429]


def test_the_surveys_page_and_report_api(client: TestClient, world: World, sign_in) -> None:  # type: ignore[no-untyped-def]
    token = _invite("taro@yamada-ss.co.jp", "ja")
    client.post(f"/s/{token}", data={"score": "6", "comment": "遅い"})
    sign_in("viewer")
    api = client.get("/api/surveys/report?type=nps&by=owner").json()
    # the imported 9 (a promoter) and this 6 (a detractor): NPS 0 over 2 answers;
    # variance p + d - (p - d)^2 = 1, half-width 195.9964 * sqrt(1 / 2) = 138.59
    assert api["total"] == {
        "key": "", "count": 2, "score": 0.0, "ci_low": -138.6, "ci_high": 138.6,
        "invited": 1, "answered": 1, "response_rate": 100.0,
    }  # fmt: skip
    assert [(r["key"], r["count"]) for r in api["rows"]] == [("佐藤 花子", 2)]
    assert [v["comment"] for v in api["verbatims"]] == ["遅い", "とても使いやすい"]
    assert api["verbatims"][0]["category"] == "detractor"
    assert api["verbatims"][0]["mrr"] is not None and api["verbatims"][0]["mrr"] > 0
    wrong = client.get("/api/surveys/report?type=xps")
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "type"
    account = client.get(f"/accounts/{world.yamada}", headers={"Accept-Language": "en"})
    assert "NPS answer: 6" in account.text and "遅い" in account.text  # the 360's timeline
    page = client.get("/surveys?type=nps&by=plan", headers={"Accept-Language": "ja"})
    assert page.status_code == 200
    assert "遅い" in page.text and "批判者" in page.text and "Wilson" not in page.text
