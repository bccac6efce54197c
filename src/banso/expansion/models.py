"""Expansion opportunities: an upsell, a cross-sell or more seats a CSM (or a playbook) expects
an account to buy, with its expected MRR, stage, close date and owner."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, utcnow
from banso.labels import register

OPPORTUNITY_KINDS = ("upsell", "cross_sell", "seats")
DEFAULT_STAGES = ("identified", "qualified", "proposal")
"""Open stages, in order, when the configuration names none (``BANSO_OPPORTUNITY_STAGES``)."""
CLOSED_STAGES = ("won", "lost")
register("opportunity_kind", {"upsell": "Upsell", "cross_sell": "Cross-sell", "seats": "Seats"})
register(
    "opportunity_stage",
    {
        "identified": "Identified",
        "qualified": "Qualified",
        "proposal": "Proposal",
        "won": "Won",
        "lost": "Lost",
    },
)


class Opportunity(Base):
    """One expansion opportunity on one account.

    A playbook opens at most one open opportunity per account, playbook and kind (a partial
    unique index); by hand, any number. ``expected_mrr`` is in integer minor units of the
    reporting currency, like every money column."""

    __tablename__ = "opportunities"
    __table_args__ = (
        Index(
            "uq_opportunities_open_source",
            "account_id",
            "source",
            "kind",
            unique=True,
            sqlite_where=text("closed_at IS NULL AND source <> 'manual'"),
            postgresql_where=text("closed_at IS NULL AND source <> 'manual'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    expected_mrr: Mapped[int] = mapped_column(BigInteger, default=0)
    stage: Mapped[str] = mapped_column(String(32), index=True)
    close_date: Mapped[date | None] = mapped_column(Date, index=True)
    """Expected close day while open; the day it closed once won or lost."""
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("team_members.id"), index=True)
    source: Mapped[str] = mapped_column(String(100), default="manual")
    """``manual`` or the name of the playbook that opened it."""
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
