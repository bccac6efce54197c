"""The outbox: side effects recorded in the app database first, performed once by a worker.

``enqueue`` adds a message under its idempotency key (``playbook/account/day/action``) in the
caller's transaction; a key that is already there is left alone, so re-running a day never adds
a second message. ``deliver`` is the worker and owns its transactions:

1. claim a batch — on PostgreSQL ``SELECT … FOR UPDATE SKIP LOCKED`` so concurrent workers take
   disjoint rows; on SQLite one worker at a time holds a lock file (SQLite has one writer
   anyway). A claim is a lease: a worker that dies frees its rows when the lease expires.
2. per message: check suppressions and the per-domain rate limit, commit a ``Delivery`` row
   (``started``) and the attempt count, send, then commit ``sent`` — guarded by the claim, so a
   worker whose lease was taken over cannot overwrite the new owner's result.
3. failures are retried with exponential back-off; permanent ones (SMTP 5xx, HTTP 4xx) and the
   last attempt mark the message ``failed``; an SMTP 5xx also suppresses the address (bounce).

A crash after sending and before step 2's commit leaves a ``started`` delivery; the resend
carries the same Message-ID / Idempotency-Key so the receiver can drop the duplicate.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from banso.accounts.models import Contact
from banso.config import get_settings
from banso.db import get_engine, session_scope, utcnow
from banso.messaging import delivery
from banso.messaging.delivery import DeliverySettings, PermanentFailure, TemporaryFailure
from banso.messaging.models import Delivery, OutboxMessage, Suppression

CLAIM_BATCH = 20


def enqueue(
    session: Session,
    key: str,
    *,
    playbook: str,
    account_id: int | None,
    trigger_day: date,
    channel: str,
    recipient: str,
    payload: dict[str, object],
) -> OutboxMessage | None:
    """Add a message unless ``key`` is already in the outbox; returns the new row or None."""
    exists = session.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key))
    if exists is not None:
        return None
    message = OutboxMessage(
        idempotency_key=key,
        playbook=playbook,
        account_id=account_id,
        trigger_day=trigger_day,
        channel=channel,
        recipient=recipient,
        payload=json.dumps(payload, ensure_ascii=False),
        status="pending",
        attempts=0,
        next_attempt_at=utcnow(),
    )
    session.add(message)
    return message


@dataclass
class WorkerSummary:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    suppressed: int = 0
    deferred: int = 0
    """Held back by the per-domain rate limit (not an attempt)."""
    busy: bool = False
    """Another worker holds the SQLite lock; this one did nothing."""
    errors: list[str] = field(default_factory=list)


def deliver(
    limit: int | None = None,
    worker: str | None = None,
    now: datetime | None = None,
    settings: DeliverySettings | None = None,
) -> WorkerSummary:
    """Send due messages until none is left (or ``limit`` were handled)."""
    settings = settings or delivery.delivery_settings()
    worker = worker or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    summary = WorkerSummary()
    with _single_writer() as acquired:
        if not acquired:
            summary.busy = True
            return summary
        handled = 0
        while limit is None or handled < limit:
            batch = claim(
                worker,
                CLAIM_BATCH if limit is None else min(CLAIM_BATCH, limit - handled),
                settings,
                now,
            )
            if not batch:
                break
            for message_id in batch:
                _deliver_one(message_id, worker, settings, summary, now)
                handled += 1
    return summary


def claim(
    worker: str,
    count: int,
    settings: DeliverySettings | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Claim up to ``count`` due messages for ``worker`` (committed); returns their ids."""
    settings = settings or delivery.delivery_settings()
    at = now or utcnow()
    with session_scope() as session:
        due = or_(
            (OutboxMessage.status == "pending") & (OutboxMessage.next_attempt_at <= at),
            (OutboxMessage.status == "claimed") & (OutboxMessage.claim_expires_at < at),
        )
        query = select(OutboxMessage.id).where(due).order_by(OutboxMessage.id).limit(count)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = list(session.scalars(query))
        if ids:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), due)
                .values(
                    status="claimed",
                    claimed_by=worker,
                    claim_expires_at=at + timedelta(seconds=settings.outbox_lease_seconds),
                )
            )
        return ids


def _deliver_one(
    message_id: int,
    worker: str,
    settings: DeliverySettings,
    summary: WorkerSummary,
    now: datetime | None,
) -> None:
    at = now or utcnow()
    with session_scope() as session:
        message = session.get(OutboxMessage, message_id)
        if message is None or message.claimed_by != worker or message.status != "claimed":
            return
        payload = json.loads(message.payload)
        domain = _domain(message.recipient) if message.channel == "email" else None
        if domain is not None and _suppressed(session, message.recipient):
            message.status = "suppressed"
            message.claimed_by = None
            session.add(_delivery(message, worker, domain, "suppressed", "address suppressed", at))
            summary.suppressed += 1
            return
        if domain is not None:
            wait_until = _rate_limited(session, domain, settings, at)
            if wait_until is not None:
                message.status = "pending"
                message.claimed_by = None
                message.next_attempt_at = wait_until
                summary.deferred += 1
                return
        message.attempts += 1
        attempt = _delivery(message, worker, domain, "started", None, at)
        attempt.finished_at = None
        session.add(attempt)
        session.flush()
        attempt_id, attempts, key = attempt.id, message.attempts, message.idempotency_key
        channel, recipient = message.channel, message.recipient
    try:
        result = _send(settings, channel, recipient, payload, key)
    except PermanentFailure as exc:
        _finish(message_id, attempt_id, worker, "failed", str(exc), at, settings, retry=False)
        if channel == "email":
            _suppress(recipient, "bounced", str(exc))
        summary.failed += 1
        summary.errors.append(str(exc))
        return
    except TemporaryFailure as exc:
        give_up = attempts >= settings.outbox_max_attempts
        _finish(
            message_id, attempt_id, worker, "failed" if give_up else "error", str(exc), at,
            settings, retry=not give_up, attempts=attempts,
        )  # fmt: skip
        if give_up:
            summary.failed += 1
        else:
            summary.retried += 1
        summary.errors.append(str(exc))
        return
    _finish(message_id, attempt_id, worker, "sent", result.detail, at, settings, retry=False)
    summary.sent += 1


def _send(
    settings: DeliverySettings, channel: str, recipient: str, payload: dict, key: str
) -> delivery.Sent:  # type: ignore[type-arg]
    if channel == "email":
        return delivery.send_email(
            settings,
            recipient,
            payload["subject"],
            payload["body"],
            key,
            payload.get("unsubscribe_url"),
            payload.get("html"),
        )
    url = _resolve(recipient)
    secret_env = payload.get("secret_env")
    secret = os.environ.get(secret_env) if secret_env else None
    if secret_env and not secret:
        raise TemporaryFailure(f"environment variable {secret_env} is not set")
    return delivery.post_json(settings, url, payload["body"], key, secret)


def _resolve(recipient: str) -> str:
    """A stored URL, or ``env:NAME`` read now (webhook URLs are secrets kept out of the DB)."""
    if recipient.startswith("env:"):
        name = recipient.removeprefix("env:")
        value = os.environ.get(name)
        if not value:
            raise TemporaryFailure(f"environment variable {name} is not set")
        return value
    return recipient


def _finish(
    message_id: int,
    attempt_id: int,
    worker: str,
    outcome: str,
    detail: str,
    at: datetime,
    settings: DeliverySettings,
    retry: bool,
    attempts: int = 1,
) -> None:
    finished = utcnow()
    with session_scope() as session:
        attempt = session.get(Delivery, attempt_id)
        if attempt is not None:
            attempt.outcome = outcome
            attempt.detail = detail[:2000]
            attempt.finished_at = finished
        values: dict[str, object] = {"claimed_by": None, "claim_expires_at": None}
        if outcome == "sent":
            values.update(status="sent", sent_at=finished, last_error=None)
        elif retry:
            backoff = settings.outbox_backoff_seconds * 2 ** (attempts - 1)
            values.update(
                status="pending",
                next_attempt_at=at + timedelta(seconds=backoff),
                last_error=detail[:2000],
            )
        else:
            values.update(status="failed", last_error=detail[:2000])
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.claimed_by == worker)
            .values(**values)
        )


def _delivery(
    message: OutboxMessage,
    worker: str,
    domain: str | None,
    outcome: str,
    detail: str | None,
    at: datetime,
) -> Delivery:
    return Delivery(
        outbox_id=message.id,
        attempt=message.attempts,
        worker=worker,
        domain=domain,
        started_at=at,
        finished_at=at,
        outcome=outcome,
        detail=detail,
    )


def _domain(email: str) -> str:
    return email.rpartition("@")[2].lower()


def _suppressed(session: Session, email: str) -> bool:
    return (
        session.scalar(select(Suppression.id).where(Suppression.email == email.lower())) is not None
    )


def _suppress(email: str, reason: str, detail: str) -> None:
    with session_scope() as session:
        if not _suppressed(session, email):
            session.add(Suppression(email=email.lower(), reason=reason, detail=detail[:2000]))


def _rate_limited(
    session: Session, domain: str, settings: DeliverySettings, at: datetime
) -> datetime | None:
    """When the domain's quota frees up, if it is used up now; else None."""
    since = at - timedelta(seconds=settings.mail_domain_window_seconds)
    recent = select(Delivery.started_at).where(
        Delivery.domain == domain,
        Delivery.outcome.in_(("started", "sent", "error")),
        Delivery.started_at > since,
    )
    count = session.scalar(select(func.count()).select_from(recent.subquery())) or 0
    if count < settings.mail_domain_limit:
        return None
    oldest = session.scalar(select(func.min(recent.subquery().c.started_at)))
    if oldest is None:
        return None
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=at.tzinfo)
    return oldest + timedelta(seconds=settings.mail_domain_window_seconds, microseconds=1)


@contextmanager
def _single_writer() -> Iterator[bool]:
    """On SQLite, an exclusive lock file so that one worker sends at a time; on PostgreSQL
    nothing (row locks keep concurrent workers apart)."""
    if get_engine().dialect.name != "sqlite":
        yield True
        return
    path: Path = get_settings().home / "outbox.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def counts_by_status(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).all()
    return {status: n for status, n in rows}


def unsubscribe(session: Session, token: str) -> str | None:
    """Record the unsubscribe a link's token asks for; returns the address, or None for a token
    Banso did not sign. Repeating it is harmless (for the web route ``/unsubscribe/{token}``)."""
    parsed = delivery.read_unsubscribe_token(token)
    if parsed is None:
        return None
    email, contact_id = parsed
    existing = session.scalars(select(Suppression).where(Suppression.email == email)).first()
    if existing is None:
        if contact_id is not None and session.get(Contact, contact_id) is None:
            contact_id = None
        session.add(Suppression(email=email, reason="unsubscribed", contact_id=contact_id))
        session.flush()
    return email
