"""Support tickets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, utcnow
from banso.labels import register

PRIORITIES = ("low", "normal", "high", "urgent")
STATUSES = ("open", "pending", "solved", "closed")
register("ticket_priority", {"low": "Low", "normal": "Normal", "high": "High", "urgent": "Urgent"})
register("ticket_status", {
    "open": "Open", "pending": "Pending", "solved": "Solved", "closed": "Closed",
})  # fmt: skip


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        # the account page reads one account's newest rows: no sort, no scan of other accounts
        Index("ix_tickets_account_id_opened_at", "account_id", "opened_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    source: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str | None] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    priority: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str | None] = mapped_column(String(16))
    category: Mapped[str | None] = mapped_column(String(100))
    csat: Mapped[int | None] = mapped_column(Integer)
    """Ticket satisfaction 1-5, when the customer answered."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
