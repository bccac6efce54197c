"""Exactly-once delivery against a real SMTP server and a real HTTP receiver on loopback."""

from __future__ import annotations

import json
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.playbooks.receivers import HttpLog, http_receiver, smtp_server
from tests.playbooks.world import build_world

from banso import schema
from banso.db import session_scope, utcnow
from banso.messaging import outbox
from banso.messaging.delivery import DeliverySettings, verify_signature
from banso.messaging.models import Delivery, OutboxMessage, Suppression
from banso.playbooks import service

QUIET_DAY = date(2025, 6, 19)  # Beta (tech touch) has had no activity for 7 days


def settings(port: int = 1, **overrides: object) -> DeliverySettings:
    values: dict[str, object] = {
        "smtp_host": "127.0.0.1", "smtp_port": port, "mail_from": "cs@vendor.example",
        "public_url": "https://banso.vendor.example", "outbox_backoff_seconds": 1.0,
        "outbox_max_attempts": 3, "outbox_lease_seconds": 60,
    }  # fmt: skip
    return DeliverySettings(**(values | overrides))  # type: ignore[arg-type]


def queue_nudge() -> None:
    with session_scope() as s:
        counts = service.run_playbooks(s, QUIET_DAY, ["tech-touch-inactive"])
    assert counts["tech-touch-inactive"].emails == 1


def statuses() -> list[tuple[str, int]]:
    with session_scope() as s:
        return [(m.status, m.attempts) for m in s.scalars(select(OutboxMessage))]


def test_email_is_sent_once_in_the_contacts_language_with_a_working_unsubscribe_link(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BANSO_PUBLIC_URL", "https://banso.vendor.example")
    build_world()
    queue_nudge()
    queue_nudge_again = service.run_playbooks
    with session_scope() as s:  # the same day again adds nothing
        assert (
            queue_nudge_again(s, QUIET_DAY, ["tech-touch-inactive"])["tech-touch-inactive"].firings
            == 0
        )
    with smtp_server() as (box, port):
        first = outbox.deliver(settings=settings(port))
        second = outbox.deliver(settings=settings(port))
    assert (first.sent, second.sent) == (1, 0)
    [mail] = box.messages
    assert mail["to"] == "beth@beta.example"
    assert mail["subject"] == "Beta合同会社: pick up where you left off"  # Beth reads English
    assert "Hello Beth," in mail["body"]
    link = mail["list_unsubscribe"].strip("<>")
    assert link.startswith("https://banso.vendor.example/unsubscribe/")
    assert link in mail["body"]
    with session_scope() as s:
        assert outbox.unsubscribe(s, "forged-token") is None
        assert outbox.unsubscribe(s, link.rsplit("/", 1)[1]) == "beth@beta.example"
        assert s.scalars(select(Suppression.reason)).all() == ["unsubscribed"]
    # another email to her is not sent any more
    with session_scope() as s:
        outbox.enqueue(s, "manual/2", playbook="manual", account_id=2, trigger_day=QUIET_DAY,
                       channel="email", recipient="beth@beta.example",
                       payload={"subject": "s", "body": "b"})  # fmt: skip
    with smtp_server() as (box2, port):
        assert outbox.deliver(settings=settings(port)).suppressed == 1
    assert box2.messages == []


def test_a_run_killed_between_claim_and_send_delivers_exactly_once_after_the_lease() -> None:
    build_world()
    queue_nudge()
    assert outbox.claim("worker-that-dies", 10, settings()) != []
    with smtp_server() as (box, port):
        assert outbox.deliver(settings=settings(port)).sent == 0  # still leased to the dead one
        later = utcnow() + timedelta(seconds=61)
        assert outbox.deliver(settings=settings(port), now=later).sent == 1
        assert outbox.deliver(settings=settings(port), now=later).sent == 0
    assert len(box.messages) == 1
    assert statuses() == [("sent", 1)]


def test_a_run_killed_after_sending_resends_with_the_same_message_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    build_world()
    queue_nudge()
    real_finish = outbox._finish

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # the process dies before recording "sent"

    with smtp_server() as (box, port):
        monkeypatch.setattr(outbox, "_finish", killed)
        with pytest.raises(KeyboardInterrupt):
            outbox.deliver(settings=settings(port))
        monkeypatch.setattr(outbox, "_finish", real_finish)
        with session_scope() as s:  # the attempt is on record as started, never finished
            assert [d.outcome for d in s.scalars(select(Delivery))] == ["started"]
        later = utcnow() + timedelta(seconds=61)
        assert outbox.deliver(settings=settings(port), now=later).sent == 1
    assert len(box.messages) == 2  # the receiver saw it twice ...
    assert len(box.unique_ids()) == 1  # ... under one Message-ID, so it can keep one
    assert statuses() == [("sent", 2)]


def test_a_hard_bounce_fails_the_message_and_suppresses_the_address() -> None:
    build_world()
    queue_nudge()
    with smtp_server() as (box, port):
        box.refuse.add("beth@beta.example")
        summary = outbox.deliver(settings=settings(port))
    assert summary.failed == 1 and "550" in summary.errors[0]
    assert statuses() == [("failed", 1)]
    with session_scope() as s:
        assert s.scalars(select(Suppression.reason)).all() == ["bounced"]


def test_the_per_domain_rate_limit_holds_back_the_excess() -> None:
    schema.upgrade()
    with session_scope() as s:
        for i in range(3):
            outbox.enqueue(s, f"k{i}", playbook="p", account_id=None, trigger_day=QUIET_DAY,
                           channel="email", recipient=f"u{i}@big.example",
                           payload={"subject": "s", "body": "b"})  # fmt: skip
    with smtp_server() as (box, port):
        limited = settings(port, mail_domain_limit=2, mail_domain_window_seconds=3600)
        summary = outbox.deliver(settings=limited)
    assert (summary.sent, summary.deferred, len(box.messages)) == (2, 1, 2)
    with session_scope() as s:
        held = s.scalars(select(OutboxMessage).where(OutboxMessage.status == "pending")).one()
        wait = held.next_attempt_at.replace(tzinfo=None) - utcnow().replace(tzinfo=None)
        assert held.attempts == 0 and wait > timedelta(minutes=59)


def _webhook_playbook(home: Path) -> None:
    folder = home / "config" / "playbooks"
    folder.mkdir(parents=True)
    (folder / "hooks.yaml").write_text(
        "name: hooks\n"
        "trigger: {type: nps_answered, category: detractor}\n"
        "actions:\n"
        "  - slack: {url_env: TEST_SLACK_URL, text: {en: 'Detractor at {{ account.name }}'}}\n"
        "  - webhook: {url_env: TEST_HOOK_URL, secret_env: TEST_HOOK_SECRET}\n"
    )


def test_slack_and_signed_webhook_are_delivered_once_and_the_signature_verifies(
    banso_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_world()
    log = HttpLog()
    with http_receiver(log) as base:
        monkeypatch.setenv("TEST_SLACK_URL", f"{base}/slack")
        monkeypatch.setenv("TEST_HOOK_URL", f"{base}/hook")
        monkeypatch.setenv("TEST_HOOK_SECRET", "s3cret")
        _webhook_playbook(banso_home)
        with session_scope() as s:
            service.run_playbooks(s, date(2025, 6, 15))
        assert outbox.deliver(settings=settings()).sent == 2
        assert outbox.deliver(settings=settings()).sent == 0
    slack, hook = sorted(log.requests, key=lambda r: str(r["path"]))[::-1]
    assert json.loads(slack["body"]) == {"text": "Detractor at Gamma株式会社"}  # type: ignore[arg-type]
    headers = hook["headers"]
    body = hook["body"]
    assert isinstance(headers, dict) and isinstance(body, bytes)
    assert verify_signature("s3cret", headers["X-Banso-Timestamp"], body,
                            headers["X-Banso-Signature"])  # fmt: skip
    assert not verify_signature("wrong", headers["X-Banso-Timestamp"], body,
                                headers["X-Banso-Signature"])  # fmt: skip
    payload = json.loads(body)
    assert (payload["playbook"], payload["day"], payload["account"]["id"]) == (
        "hooks", "2025-06-15", 3,
    )  # fmt: skip
    assert payload["trigger"] == {"score": 3, "contact_id": 4}
    assert len(headers["Idempotency-Key"]) == 64


def test_a_failing_receiver_is_retried_with_back_off_then_marked_failed() -> None:
    schema.upgrade()
    log = HttpLog(fail_first=2)
    with http_receiver(log) as base:
        with session_scope() as s:
            outbox.enqueue(
                s,
                "flaky",
                playbook="p",
                account_id=None,
                trigger_day=QUIET_DAY,
                channel="webhook",
                recipient=base,
                payload={"body": {"n": 1}},
            )
            outbox.enqueue(
                s,
                "down",
                playbook="p",
                account_id=None,
                trigger_day=QUIET_DAY,
                channel="webhook",
                recipient=base + "/down",
                payload={"body": {}},
            )
        start = utcnow()
        first = outbox.deliver(settings=settings(), now=start)
        assert (first.sent, first.retried) == (0, 2)
        assert outbox.deliver(settings=settings(), now=start).retried == 0  # back-off: 1 s
        log.status = 500  # /down never recovers; flaky gets its 3rd answer = 500 too ...
        second = outbox.deliver(settings=settings(), now=start + timedelta(seconds=1.5))
        assert second.retried == 2  # attempt 2 of 3 for both (503 for flaky, 500 for down)
        log.status = 200
        log.fail_first = 0
        # ... then attempt 3 after 2 s more: flaky (200) sent, down gets 200 too: make it 404
        third = outbox.deliver(settings=settings(), now=start + timedelta(seconds=4))
    assert (third.sent, third.failed) == (2, 0)
    with session_scope() as s:
        outcomes = [
            (m.idempotency_key, [d.outcome for d in s.scalars(
                select(Delivery).where(Delivery.outbox_id == m.id).order_by(Delivery.id))])
            for m in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        ]  # fmt: skip
    assert outcomes == [("flaky", ["error", "error", "sent"]), ("down", ["error", "error", "sent"])]


def test_a_receiver_that_keeps_failing_is_marked_failed_after_the_last_attempt() -> None:
    schema.upgrade()
    log = HttpLog(status=502)
    with http_receiver(log) as base:
        with session_scope() as s:
            outbox.enqueue(
                s,
                "down",
                playbook="p",
                account_id=None,
                trigger_day=QUIET_DAY,
                channel="webhook",
                recipient=base,
                payload={"body": {}},
            )
        start = utcnow()
        results = [
            outbox.deliver(settings=settings(), now=start + timedelta(seconds=t))
            for t in (0, 1.5, 4, 100)
        ]
    assert [(r.retried, r.failed) for r in results] == [(1, 0), (1, 0), (0, 1), (0, 0)]
    assert len(log.requests) == 3
    assert statuses() == [("failed", 3)]


@pytest.mark.postgres
def test_two_concurrent_workers_on_postgresql_never_double_send(pg_url: str) -> None:
    schema.upgrade()
    log = HttpLog()
    with http_receiver(log) as base:
        with session_scope() as s:
            for i in range(60):
                outbox.enqueue(
                    s,
                    f"m{i}",
                    playbook="p",
                    account_id=None,
                    trigger_day=QUIET_DAY,
                    channel="webhook",
                    recipient=base,
                    payload={"body": {"i": i}},
                )
        results: dict[str, outbox.WorkerSummary] = {}

        def work(name: str) -> None:
            results[name] = outbox.deliver(worker=name, settings=settings())

        threads = [threading.Thread(target=work, args=(f"w{n}",)) for n in (1, 2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    keys = [r["headers"]["Idempotency-Key"] for r in log.requests]  # type: ignore[index]
    assert len(keys) == 60 and len(set(keys)) == 60
    assert results["w1"].sent + results["w2"].sent == 60
    with session_scope() as s:
        workers = {d.worker for d in s.scalars(select(Delivery))}
    assert statuses() == [("sent", 1)] * 60
    assert workers <= {"w1", "w2"}
