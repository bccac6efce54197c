"""Surveys sent through the outbox to a real SMTP server, answered once through the link."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from tests.playbooks.receivers import smtp_server
from tests.playbooks.test_delivery import settings
from tests.playbooks.world import build_world

from banso.db import session_scope
from banso.messaging import outbox
from banso.messaging.models import OutboxMessage
from banso.surveys.models import SurveyResponse
from banso.voc import service
from banso.voc.models import SurveyInvitation

DAY = date(2025, 7, 1)
NOW = datetime(2025, 7, 1, 3, tzinfo=UTC)


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANSO_PUBLIC_URL", "https://banso.vendor.example")
    build_world()


def invite(contact_id: int, day: date = DAY, now: datetime = NOW) -> service.Invited:
    with session_scope() as s:
        return service.invite(
            s, survey="nps", contact_id=contact_id, origin="cli", day=day, now=now
        )


def token_of(body: str) -> str:
    [line] = [x for x in body.splitlines() if "/s/" in x]
    return line.rsplit("/s/", 1)[1].strip()


def test_an_invitation_is_mailed_once_in_the_contacts_language_and_answered_once(
    world: None,
) -> None:
    beth, tanaka = invite(2), invite(3)
    assert beth.skipped is None and tanaka.skipped is None
    with smtp_server() as (box, port):
        assert outbox.deliver(settings=settings(port)).sent == 2
        assert outbox.deliver(settings=settings(port)).sent == 0
    mails = {m["to"]: m for m in box.messages}
    en, ja = mails["beth@beta.example"], mails["tanaka@beta.example"]
    assert en["subject"] == "Beta合同会社: would you recommend our service?"
    assert "Hello Beth," in en["body"]
    assert "How likely are you to recommend our service" in en["body"]
    assert "This link works once, until 2025-07-31." in en["body"]
    assert ja["subject"] == "Beta合同会社様: 当サービスをおすすめいただけますか"
    assert "当サービスを友人や同僚にすすめる可能性" in ja["body"]
    assert en["list_unsubscribe"].startswith("<https://banso.vendor.example/unsubscribe/")
    token = token_of(en["body"])
    assert "https://banso.vendor.example/s/" + token in en["body"]

    at = NOW + timedelta(hours=5)
    with session_scope() as s:
        opened = service.answer(s, token, score=9, comment=" Great support ", now=at)
    assert opened.state == "open"  # this call saved it
    with session_scope() as s:
        again = service.answer(s, token, score=0, comment="changed my mind", now=at)
        assert again.state == "answered"
        [row] = s.scalars(select(SurveyResponse).where(SurveyResponse.source == "banso")).all()
        assert (row.account_id, row.contact_id, row.survey_type, row.survey, row.score) == (
            2, 2, "nps", "nps", 9,
        )  # fmt: skip
        assert row.comment == "Great support"
        assert row.external_id == f"invitation-{beth.invitation_id}"
        invitation = s.get(SurveyInvitation, beth.invitation_id)
        assert invitation is not None and invitation.response_id == row.id


def test_forged_tampered_and_expired_tokens_save_nothing(world: None) -> None:
    sent = invite(2)
    with session_scope() as s:
        invitation = s.get(SurveyInvitation, sent.invitation_id)
        assert invitation is not None
        token = service.answer_token(invitation)
    forged = [
        "forged-token",
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        token.replace(".", "x", 1),
        "",
        "x" * 5000,
    ]
    with session_scope() as s:
        for bad in forged:
            assert service.answer(s, bad, score=10, comment=None, now=NOW).state == "invalid"
        # a token signed by Banso for another invitation's id but this one's nonce is no key
        other = service._serializer().dumps({"i": sent.invitation_id, "n": "guessed"})
        assert service.answer(s, other, score=10, comment=None, now=NOW).state == "invalid"
        late = NOW + timedelta(days=30, seconds=1)
        assert service.answer(s, token, score=10, comment=None, now=late).state == "expired"
        assert s.scalar(select(func.count()).select_from(SurveyResponse).where(
            SurveyResponse.source == "banso")) == 0  # fmt: skip


def test_an_out_of_range_score_is_refused_with_the_field_and_saves_nothing(world: None) -> None:
    sent = invite(2)
    with session_scope() as s:
        invitation = s.get(SurveyInvitation, sent.invitation_id)
        assert invitation is not None
        token = service.answer_token(invitation)
    for score in (None, -1, 11):
        with pytest.raises(service.AnswerRejected) as caught, session_scope() as s:
            service.answer(s, token, score=score, comment="x", now=NOW)
        assert caught.value.field == "score"
    with session_scope() as s:
        assert service.answer(s, token, score=10, comment=None, now=NOW).state == "open"


def test_quiet_period_left_contacts_and_suppressed_addresses_are_skipped(world: None) -> None:
    assert invite(2).skipped is None
    # 89 days later is still within the 90-day quiet period; the 90th day after is not
    assert invite(2, DAY + timedelta(days=89)).skipped == "quiet"
    assert invite(2, DAY + timedelta(days=90)).skipped is None
    # Gamma's champion left on 2025-06-20
    assert invite(4).skipped == "left"
    with session_scope() as s:
        assert outbox.unsubscribe(s, service.delivery.unsubscribe_token("tanaka@beta.example", 3))
    assert invite(3).skipped == "suppressed"
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 2


def test_an_imported_answer_starts_the_quiet_period_too(world: None) -> None:
    # contact 4 answered NPS on 2025-06-15 (imported); make her a current contact
    with session_scope() as s:
        from banso.accounts.models import Contact

        contact = s.get(Contact, 4)
        assert contact is not None
        contact.left_at = None
    assert invite(4, date(2025, 9, 12)).skipped == "quiet"  # 89 days after 06-15
    assert invite(4, date(2025, 9, 13)).skipped is None


def test_one_reminder_after_the_delay_only_while_unanswered_and_unexpired(world: None) -> None:
    beth, tanaka = invite(2), invite(3)
    with session_scope() as s:
        invitation = s.get(SurveyInvitation, tanaka.invitation_id)
        assert invitation is not None
        service.answer(s, service.answer_token(invitation), score=8, comment=None, now=NOW)
    with session_scope() as s:
        assert service.send_reminders(s, DAY + timedelta(days=6), now=NOW) == 0
    with session_scope() as s:
        assert service.send_reminders(s, DAY + timedelta(days=7), now=NOW) == 1
    with session_scope() as s:
        assert service.send_reminders(s, DAY + timedelta(days=8), now=NOW) == 0  # once only
        keys = sorted(s.scalars(select(OutboxMessage.idempotency_key)))
    assert keys == [
        f"survey/{beth.invitation_id}/invite",
        f"survey/{beth.invitation_id}/reminder",
        f"survey/{tanaka.invitation_id}/invite",
    ]
    with smtp_server() as (box, port):
        outbox.deliver(settings=settings(port))
    subjects = sorted(m["subject"] for m in box.messages if m["to"] == "beth@beta.example")
    assert subjects == [
        "Beta合同会社: would you recommend our service?",
        "Reminder: Beta合同会社: would you recommend our service?",
    ]
    assert len({token_of(m["body"]) for m in box.messages if m["to"] == "beth@beta.example"}) == 1


def test_custom_questions_are_saved_as_json(world: None, banso_home) -> None:  # type: ignore[no-untyped-def]
    config = banso_home / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "surveys.yaml").write_text(
        """surveys:
  onboarding:
    type: csat
    subject: {ja: "オンボーディング", en: "Onboarding"}
    question: {ja: "満足度は?", en: "How satisfied are you?"}
    questions:
      - key: missing
        kind: text
        text: {ja: "足りないものは?", en: "What is missing?"}
      - key: pace
        kind: scale
        required: true
        text: {ja: "進み具合は?", en: "How was the pace?"}
""",
        encoding="utf-8",
    )
    with session_scope() as s:
        sent = service.invite(s, survey="onboarding", contact_id=2, origin="cli", day=DAY, now=NOW)
        invitation = s.get(SurveyInvitation, sent.invitation_id)
        assert invitation is not None
        token = service.answer_token(invitation)
    with pytest.raises(service.AnswerRejected) as caught, session_scope() as s:
        service.answer(s, token, score=5, comment=None, answers={"pace": ""}, now=NOW)
    assert caught.value.field == "pace"
    with session_scope() as s:
        service.answer(s, token, score=5, comment=None,
                       answers={"pace": "4", "missing": "SSO"}, now=NOW)  # fmt: skip
        row = s.scalars(select(SurveyResponse).where(SurveyResponse.source == "banso")).one()
        assert (row.survey_type, row.survey, json.loads(row.answers or "{}")) == (
            "csat", "onboarding", {"missing": "SSO", "pace": 4},
        )  # fmt: skip


@pytest.mark.postgres
def test_two_concurrent_answers_on_postgresql_save_exactly_one(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    monkeypatch.setenv("BANSO_PUBLIC_URL", "https://banso.vendor.example")
    build_world()
    sent = invite(2)
    with session_scope() as s:
        invitation = s.get(SurveyInvitation, sent.invitation_id)
        assert invitation is not None
        token = service.answer_token(invitation)
    states: list[str] = []
    start = threading.Barrier(4)

    def answer(score: int) -> None:
        start.wait()
        with session_scope() as s:
            states.append(service.answer(s, token, score=score, comment=None, now=NOW).state)

    threads = [threading.Thread(target=answer, args=(n,)) for n in (1, 5, 9, 10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(states) == ["answered", "answered", "answered", "open"]
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(SurveyResponse).where(
            SurveyResponse.source == "banso")) == 1  # fmt: skip
