"""Manual inputs to health: the CSM's pulse and an admin's override of an account's score.

Daily scores themselves are not relational rows: they are Parquet snapshots (``snapshots.py``);
``health_current`` holds a copy of the newest day's score and band per account, for the accounts
list to filter, sort and join on.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text
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


class HealthCurrent(Base):
    """Each account's health on the newest scored day, copied from that day's snapshot.

    The accounts list filters and sorts by band and score with a join on this table; it is
    replaced whole by ``score_days`` whenever the newest scored day is (re)written. Accounts
    that were not customers that day have no row ("not scored")."""

    __tablename__ = "health_current"
    __table_args__ = (
        Index("ix_health_current_band_score", "band", "score"),
        Index("ix_health_current_score", "score"),
    )

    account_id: Mapped[int] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    day: Mapped[date] = mapped_column(Date)
    scorecard: Mapped[str] = mapped_column(String(100))
    score: Mapped[float | None] = mapped_column(Float)
    """0-100 after any override; null when no measure had data."""
    band: Mapped[str | None] = mapped_column(String(16))
    """green, yellow or red; null with the score."""
    overridden: Mapped[bool] = mapped_column(Boolean, default=False)
    trend_7d: Mapped[str | None] = mapped_column(String(8))
    """up, down or flat against the score 7 days before; null when that day has no score."""
    trend_28d: Mapped[str | None] = mapped_column(String(8))
