"""Subscriptions (contract lines, exactly the columns of the KPI spec) and FX rates."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, utcnow


class Subscription(Base):
    """One contract line. ``end_date`` is the first day without service (exclusive)."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    source: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(300))
    """The ``subscription_id`` of the source system."""
    plan: Mapped[str | None] = mapped_column(String(200))
    start_date: Mapped[date] = mapped_column(Date, index=True)
    end_date: Mapped[date | None] = mapped_column(Date, index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    """Price per billing period in the currency's minor unit (yen for JPY)."""
    currency: Mapped[str] = mapped_column(String(3))
    billing_period_months: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class FxRate(Base):
    """Units of the reporting currency's major unit per one major unit of ``currency``."""

    __tablename__ = "fx_rates"
    __table_args__ = (UniqueConstraint("currency", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    month: Mapped[str] = mapped_column(String(7))
    """``YYYY-MM``."""
    rate: Mapped[Decimal] = mapped_column(Numeric(24, 10))
