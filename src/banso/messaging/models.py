"""Tables of outgoing messages: the outbox of side effects (email, Slack, webhooks) with its
delivery records, and the suppression list (unsubscribes and hard bounces). Any package that
sends something (playbooks, surveys, campaigns) enqueues here; one worker delivers."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, utcnow


class OutboxMessage(Base):
    """A side effect to perform exactly once: an email, a Slack post or a webhook call.

    ``idempotency_key`` is ``playbook/account/trigger day/action``; the worker claims rows (with
    a lease that expires), sends, and records a ``Delivery`` per attempt."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(400), unique=True)
    playbook: Mapped[str] = mapped_column(String(100))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    trigger_day: Mapped[date] = mapped_column(Date)
    channel: Mapped[str] = mapped_column(String(16))
    """email, slack or webhook."""
    recipient: Mapped[str] = mapped_column(String(2000))
    """Email address, or the URL (Slack incoming webhook or generic webhook)."""
    payload: Mapped[str] = mapped_column(Text)
    """JSON: subject/text/html for email, the body for Slack and webhooks, header options."""
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claim_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Delivery(Base):
    """One attempt to deliver an outbox message and what the receiver answered.

    The row is committed (``outcome`` = ``started``) before the message leaves, so a crash
    mid-send is visible afterwards; the resend carries the same Message-ID / Idempotency-Key."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox_messages.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    worker: Mapped[str] = mapped_column(String(100))
    domain: Mapped[str | None] = mapped_column(String(255), index=True)
    """Recipient's email domain (for the per-domain rate limit); null for webhooks."""
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str] = mapped_column(String(16), default="started")
    """started, sent, error (retried), bounced, failed (gave up)."""
    detail: Mapped[str | None] = mapped_column(Text)
    """The SMTP reply or the HTTP status and body excerpt."""


class Suppression(Base):
    """An address Banso must not email: the person unsubscribed, or the address bounced."""

    __tablename__ = "email_suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    reason: Mapped[str] = mapped_column(String(16))
    """unsubscribed or bounced."""
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
