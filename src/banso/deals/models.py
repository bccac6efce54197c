"""Deals of the sales pipeline as the CRM keeps them (HubSpot deals, Salesforce Opportunity):
records the import writes and the account 360 shows. Not MRR and not an expansion opportunity
(see README.md)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, utcnow
from banso.labels import register

STATUSES = ("open", "won", "lost")
register("deal_status", {"open": "Open", "won": "Won", "lost": "Lost"})


class Deal(Base):
    """One deal on one account, keyed by the CRM's id within its source."""

    __tablename__ = "deals"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        Index("ix_deals_account_id_close_date", "account_id", "close_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    source: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(300))
    """The ``deal_id`` of the source system (HubSpot deal id, Salesforce Opportunity Id)."""
    name: Mapped[str | None] = mapped_column(String(300))
    stage: Mapped[str | None] = mapped_column(String(100))
    """The CRM's stage as written (``contractsent``, ``Negotiation/Review``)."""
    status: Mapped[str] = mapped_column(String(8), index=True)
    """One of :data:`STATUSES`."""
    amount: Mapped[int | None] = mapped_column(BigInteger)
    """The deal's amount in the minor unit of ``currency`` (yen for JPY, cents for USD)."""
    currency: Mapped[str] = mapped_column(String(3))
    close_date: Mapped[date | None] = mapped_column(Date)
    """Expected close day while open; the day it closed once won or lost."""
    deal_type: Mapped[str | None] = mapped_column(String(100))
    """The CRM's type as written (``newbusiness``, ``Existing Customer - Upgrade``)."""
    owner: Mapped[str | None] = mapped_column(String(320))
    """The CRM's owner as given (e-mail or name): often a sales rep, not a team member."""
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("team_members.id"))
    """The team member with the owner's e-mail or name, when there is one."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
