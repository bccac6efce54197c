"""Segment membership history, the days evaluated, and manual touch-model overrides."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, utcnow


class SegmentMembership(Base):
    """An account was in ``segment`` from ``start_date`` until the day before ``end_date``
    (blank: still is). Boundaries are evaluated days; between two evaluations the earlier
    one's segment holds. At most one interval of an account covers a day."""

    __tablename__ = "segment_memberships"
    __table_args__ = (
        Index("ix_segment_memberships_account_start", "account_id", "start_date"),
        Index("ix_segment_memberships_segment_end", "segment", "end_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    segment: Mapped[str] = mapped_column(String(100))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)


class SegmentEvaluation(Base):
    """A day the rule set was evaluated for: the file's fingerprint and the count of accounts."""

    __tablename__ = "segment_evaluations"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the rule set file's bytes."""
    accounts: Mapped[int] = mapped_column(Integer)
    changed: Mapped[int] = mapped_column(Integer)
    """Accounts whose segment on that day differs from what the history held before."""
    summary: Mapped[str | None] = mapped_column(Text)
    """JSON ``{segment: [accounts, mrr]}`` of that day (MRR in reporting minor units)."""
    evaluated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TouchOverride(Base):
    """A touch model (and optionally a tier) set by hand for an account from ``starts_on``
    through ``expires_on`` (inclusive), instead of the segment's; ``ended_at`` when it was
    replaced or cleared before then."""

    __tablename__ = "touch_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    touch_model: Mapped[str] = mapped_column(String(16))
    tier: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    starts_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    set_by: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
