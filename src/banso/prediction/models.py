"""Stored churn scores: one row per account, day and horizon, written by the daily run."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Float, ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, utcnow


class ChurnScore(Base):
    """The kept model's probability that the account churns within ``horizon_days`` after
    ``day``, and its top reasons as JSON (feature, value, typical value, contribution), worded
    when shown so each reader gets their language."""

    __tablename__ = "churn_scores"
    __table_args__ = (Index("ix_churn_scores_account_day", "account_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    day: Mapped[date] = mapped_column(Date, index=True)
    horizon_days: Mapped[int] = mapped_column(Integer)
    probability: Mapped[float] = mapped_column(Float)
    model_version: Mapped[int] = mapped_column(Integer)
    reasons: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
