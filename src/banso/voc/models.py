"""Survey invitations: one row per survey sent to a contact, the credential of its answer link."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, utcnow


class SurveyInvitation(Base):
    """A survey sent to one contact. The link's token names the row and its ``nonce``; the row's
    ``answered_at`` is set by one conditional UPDATE, so a link is answered at most once."""

    __tablename__ = "survey_invitations"
    __table_args__ = (
        # the quiet period and the reminders read one contact's / the unanswered newest rows
        Index("ix_survey_invitations_contact_invited", "contact_id", "invited_on"),
        Index("ix_survey_invitations_answered_invited", "answered_at", "invited_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey: Mapped[str] = mapped_column(String(40))
    survey_type: Mapped[str] = mapped_column(String(8))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    email: Mapped[str] = mapped_column(String(320))
    language: Mapped[str] = mapped_column(String(8))
    origin: Mapped[str] = mapped_column(String(200))
    """Who sent it: ``cli``, ``playbook:<name>``, ``campaign:<id>``."""
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    invited_on: Mapped[date] = mapped_column(Date)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    response_id: Mapped[int | None] = mapped_column(ForeignKey("survey_responses.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
