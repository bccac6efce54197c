"""The CSM's forecast of an account's renewal: every change is a row (history kept); the newest
row of an account and renewal date is the forecast in force."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, utcnow


class RenewalForecast(Base):
    """One forecast set on one renewal (account, renewal date); ``status`` null = cleared."""

    __tablename__ = "renewal_forecasts"
    __table_args__ = (Index("ix_renewal_forecasts_account_date", "account_id", "renewal_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    renewal_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str | None] = mapped_column(String(16))
    """commit, likely, at_risk or lost; null when the forecast was cleared."""
    note: Mapped[str | None] = mapped_column(Text)
    set_by: Mapped[str] = mapped_column(String(320))
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
