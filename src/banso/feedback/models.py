"""Feedback and feature requests, the asks that link them to accounts and contacts, and
advocacy (references, case studies, reviews, referrals) per account."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, utcnow
from banso.labels import register

REQUEST_STATUSES = ("under_review", "planned", "shipped", "declined")
REQUEST_CATEGORIES = ("feature_request", "improvement", "bug", "integration", "other")
ASK_SOURCES = ("account_360", "survey", "ticket", "api", "cli")
register("feedback_status", {
    "under_review": "Under review", "planned": "Planned", "shipped": "Shipped",
    "declined": "Declined",
})  # fmt: skip
register("feedback_category", {
    "feature_request": "Feature request", "improvement": "Improvement", "bug": "Bug",
    "integration": "Integration", "other": "Other",
})  # fmt: skip
register("feedback_source", {
    "account_360": "Account 360", "survey": "Survey comment", "ticket": "Ticket",
    "api": "API", "cli": "Command line",
})  # fmt: skip

ADVOCACY_KINDS = ("reference", "case_study", "review", "referral")
ADVOCACY_STATUSES = ("proposed", "asked", "agreed", "done", "declined")
ADVOCACY_OPEN = ("proposed", "asked", "agreed")
register("advocacy_kind", {
    "reference": "Reference", "case_study": "Case study", "review": "Review",
    "referral": "Referral",
})  # fmt: skip
register("advocacy_status", {
    "proposed": "Proposed", "asked": "Asked", "agreed": "Agreed", "done": "Done",
    "declined": "Declined",
})  # fmt: skip


class FeedbackRequest(Base):
    """One piece of feedback or feature request as the product team sees it.

    A duplicate merged into another keeps its row (so old links still resolve) with
    ``merged_into_id`` set and no asks of its own: they moved to the kept request."""

    __tablename__ = "feedback_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(300), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(32), default="feature_request")
    status: Mapped[str] = mapped_column(String(16), default="under_review", index=True)
    product_area: Mapped[str | None] = mapped_column(String(100))
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("feedback_requests.id"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class FeedbackAsk(Base):
    """An account (and, when known, a contact) asking for a request: when and where from.

    A ticket or a survey answer becomes at most one ask per request."""

    __tablename__ = "feedback_asks"
    __table_args__ = (
        UniqueConstraint("request_id", "ticket_id", name="uq_feedback_asks_request_ticket"),
        UniqueConstraint(
            "request_id", "survey_response_id", name="uq_feedback_asks_request_survey"
        ),
        Index("ix_feedback_asks_account_id", "account_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("feedback_requests.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    source: Mapped[str] = mapped_column(String(16))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    survey_response_id: Mapped[int | None] = mapped_column(ForeignKey("survey_responses.id"))
    note: Mapped[str | None] = mapped_column(Text)
    asked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_by: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AdvocacyItem(Base):
    """A reference, case study, review or referral an account was asked for (or may be),
    from proposed to done or declined, with the day of each step."""

    __tablename__ = "advocacy_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(100), default="manual")
    """``manual`` or the name of the playbook that proposed it."""
    proposed_on: Mapped[date] = mapped_column(Date)
    asked_on: Mapped[date | None] = mapped_column(Date)
    agreed_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    """The day it was done or declined."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
