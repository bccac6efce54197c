"""Campaigns to a segment, their runs, and one row per contact a run wrote to (with its
tracking counts)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, utcnow
from banso.labels import register

SCHEDULES = ("once", "weekly", "monthly")
register("campaign_schedule", {"once": "Once", "weekly": "Every week", "monthly": "Every month"})


class Campaign(Base):
    """An email to the contacts of a segment's accounts, once or every week or month.

    ``next_send_on`` is the company-local day of the next run (blank: nothing left to send)."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    segment: Mapped[str] = mapped_column(String(100))
    touch_model: Mapped[str | None] = mapped_column(String(16))
    tier: Mapped[str | None] = mapped_column(String(32))
    lifecycle_stage: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str | None] = mapped_column(String(8))
    """Only contacts of this language (blank: every contact, each in their language)."""
    schedule: Mapped[str] = mapped_column(String(16), default="once")
    next_send_on: Mapped[date | None] = mapped_column(Date)
    subject_en: Mapped[str] = mapped_column(String(300))
    body_en: Mapped[str] = mapped_column(Text)
    subject_ja: Mapped[str] = mapped_column(String(300))
    body_ja: Mapped[str] = mapped_column(Text)
    tracking: Mapped[bool] = mapped_column(Boolean, default=True)
    survey: Mapped[str | None] = mapped_column(String(50))
    """A survey of ``surveys.yaml``: each recipient gets its invitation (``banso.voc``: signed
    single-use link, the survey's quiet period) instead of the template email."""
    """Open pixel and redirect links (also off when ``BANSO_CAMPAIGN_TRACKING=false``)."""
    created_by: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CampaignRun(Base):
    """One send of a campaign on a day; the audience counted when it was queued."""

    __tablename__ = "campaign_runs"
    __table_args__ = (UniqueConstraint("campaign_id", "run_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    run_on: Mapped[date] = mapped_column(Date)
    queued: Mapped[int] = mapped_column(Integer, default=0)
    excluded_suppressed: Mapped[int] = mapped_column(Integer, default=0)
    excluded_no_email: Mapped[int] = mapped_column(Integer, default=0)
    excluded_quiet: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CampaignMessage(Base):
    """The email a run queued for one contact, and what the tracking endpoints saw of it."""

    __tablename__ = "campaign_messages"
    __table_args__ = (
        UniqueConstraint("run_id", "contact_id"),
        Index("ix_campaign_messages_contact_sent", "contact_id", "sent_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("campaign_runs.id"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    email: Mapped[str] = mapped_column(String(320))
    outbox_key: Mapped[str] = mapped_column(String(400))
    sent_on: Mapped[date] = mapped_column(Date)
    """The run's day: what the per-contact quiet period counts from."""
    opens: Mapped[int] = mapped_column(Integer, default=0)
    clicks: Mapped[int] = mapped_column(Integer, default=0)
    first_opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_clicked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
