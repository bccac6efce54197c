"""The qualitative score a manager gives a CSM for a period (one row per member and period;
a new score replaces the old, and every change is in the audit log)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, utcnow


class QualitativeScore(Base):
    __tablename__ = "qualitative_scores"
    __table_args__ = (UniqueConstraint("team_member_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_member_id: Mapped[int] = mapped_column(ForeignKey("team_members.id"), index=True)
    period: Mapped[str] = mapped_column(String(16))
    """Canonical period label: ``FY2025-Q1``, ``FY2025`` or ``2025-03``."""
    score: Mapped[int] = mapped_column(Integer)
    """0-100."""
    note: Mapped[str | None] = mapped_column(Text)
    entered_by: Mapped[str] = mapped_column(String(320))
    """Who entered it: the signed-in user's email, or ``cli:<os user>``."""
    entered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
