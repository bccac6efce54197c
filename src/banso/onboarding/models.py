"""An account's onboarding: one row per milestone of the programme it was given."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, utcnow


class OnboardingMilestone(Base):
    """A milestone of an account's programme, copied from the template when the account was
    enrolled (a later template change does not rewrite a running programme)."""

    __tablename__ = "onboarding_milestones"
    __table_args__ = (
        UniqueConstraint("account_id", "milestone"),
        Index("ix_onboarding_milestones_open_due", "completed_on", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    programme: Mapped[str] = mapped_column(String(64))
    milestone: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    owner_side: Mapped[str] = mapped_column(String(16))
    rule: Mapped[str] = mapped_column(String(16))
    """``event``, ``activity`` or ``manual``: how it completes (``onboarding.config``)."""
    magic_moment: Mapped[bool] = mapped_column(Boolean, default=False)
    contract_start: Mapped[date] = mapped_column(Date)
    """The start of the account's first paid line (``revenue.contracts.first_paid_starts_sql``)."""
    due_on: Mapped[date] = mapped_column(Date)
    completed_on: Mapped[date | None] = mapped_column(Date)
    completed_by: Mapped[str | None] = mapped_column(String(320))
    """``rule`` when its completion rule was met, else who ticked it (email)."""
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
