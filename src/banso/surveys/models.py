"""Survey responses: NPS (0-10), CSAT (1-5), CES (1-7)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, utcnow
from banso.labels import register

SURVEY_TYPES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
register("survey_type", {"nps": "NPS", "csat": "CSAT", "ces": "CES"})


class SurveyResponse(Base):
    __tablename__ = "survey_responses"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        # the account page reads one account's newest rows: no sort, no scan of other accounts
        Index("ix_survey_responses_account_id_answered_at", "account_id", "answered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    source: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(300))
    survey_type: Mapped[str] = mapped_column(String(8))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    survey: Mapped[str | None] = mapped_column(String(40))
    """The ``surveys.yaml`` survey answered through Banso's page; None for imported answers."""
    answers: Mapped[str | None] = mapped_column(Text)
    """The custom questions' answers, a JSON object by question key (Banso's page only)."""
    answered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
