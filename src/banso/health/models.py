"""Manual inputs to health: the CSM's pulse and an admin's override of an account's score.

Daily scores themselves are not relational rows: they are Parquet snapshots (``snapshots.py``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, utcnow


class CsmPulse(Base):
    """The CSM's own 1-5 rating of an account, valid from ``rated_on`` until ``expires_on``."""

    __tablename__ = "csm_pulses"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("team_members.id"))
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    rated_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class HealthOverride(Base):
    """An admin's score for an account, used instead of the computed one until ``expires_on``."""

    __tablename__ = "health_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(Text)
    starts_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    set_by: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
