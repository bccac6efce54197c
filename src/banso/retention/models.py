"""Why an account churned or contracted: one row per recording, the newest per account and
month is the one reports use (earlier ones stay as history)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, utcnow


class ChurnReason(Base):
    __tablename__ = "churn_reasons"
    __table_args__ = (Index("ix_churn_reasons_account_month", "account_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    month: Mapped[str] = mapped_column(String(7), index=True)
    """``YYYY-MM``: the month of the churn or contraction (spec §3) the reason explains."""
    code: Mapped[str] = mapped_column(String(64))
    """One of the configured reasons (``churn_reasons.yaml``)."""
    note: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(320))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    cta_id: Mapped[int | None] = mapped_column(Integer)
    """The CTA whose close recorded it, if any (no foreign key: playbooks sit above)."""
