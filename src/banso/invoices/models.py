"""Invoices as the billing system keeps them (Stripe invoices, or a file): records the import
writes. Not revenue: MRR comes only from contract lines (see README.md)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, utcnow
from banso.labels import register

STATUSES = ("open", "paid", "void", "uncollectible")
register("invoice_status", {"open": "Open", "paid": "Paid", "void": "Void",
                            "uncollectible": "Uncollectible"})  # fmt: skip


class Invoice(Base):
    """One invoice to one account, keyed by the billing system's id within its source."""

    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        Index("ix_invoices_account_id_issued_on", "account_id", "issued_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    source: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(300))
    """The ``invoice_id`` of the source system (Stripe ``in_…``)."""
    number: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), index=True)
    """One of :data:`STATUSES`."""
    amount_due: Mapped[int] = mapped_column(BigInteger)
    """In the minor unit of ``currency`` (yen for JPY, cents for USD)."""
    amount_paid: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    issued_on: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date, index=True)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int | None] = mapped_column(Integer)
    """Payment attempts so far (Stripe ``attempt_count``); open with attempts: a failed payment."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
