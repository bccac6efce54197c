"""CSM activities: meetings, calls, emails, notes, onboarding sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, utcnow
from banso.labels import register

ACTIVITY_KINDS = ("meeting", "call", "email", "note", "onboarding_session")
register("activity_kind", {
    "meeting": "Meeting", "call": "Call", "email": "E-mail", "note": "Note",
    "onboarding_session": "Onboarding session",
})  # fmt: skip


class Activity(Base):
    __tablename__ = "activities"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        # the account page reads one account's newest rows: no sort, no scan of other accounts
        Index("ix_activities_account_id_occurred_at", "account_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("team_members.id"))
    source: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    summary: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
