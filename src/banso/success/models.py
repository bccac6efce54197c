"""Success plans: the customer's own objectives, each with a measurable target, owners on both
sides, a status and a review history; and the sales handoff a plan starts from."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, utcnow
from banso.labels import register

OBJECTIVE_STATUSES = ("not_started", "on_track", "at_risk", "achieved", "abandoned")
"""not_started: agreed, no work or data yet; on_track: moving to the target by the due date;
at_risk: the CSM judges the target will be missed without a change; achieved: the customer
agrees the outcome is reached; abandoned: no longer wanted (kept for the history)."""
OPEN_STATUSES = ("not_started", "on_track", "at_risk")
register(
    "objective_status",
    {
        "not_started": "Not started",
        "on_track": "On track",
        "at_risk": "At risk of missing",
        "achieved": "Achieved",
        "abandoned": "Abandoned",
    },
)
register("objective_source", {"manual": "By hand", "handoff": "From the sales handoff"})
register("handoff_source", {"manual": "By hand", "crm": "CRM", "demo": "Demo"})
register(
    "objective_event",
    {"created": "Added", "changed": "Changed", "reviewed": "Reviewed"},
)


class SuccessObjective(Base):
    """One objective of an account's success plan, in the customer's words.

    Measured either by a product metric (``measure``: a name in ``health.measures.MEASURES``,
    whose current value Banso reads from the health snapshots or the usage store) or by a manual
    KPI (``kpi_name``, its current value ``kpi_value`` entered by the CSM). Exactly one of the
    two is set."""

    __tablename__ = "success_objectives"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    """The outcome as the customer says it."""
    measure: Mapped[str | None] = mapped_column(String(100))
    kpi_name: Mapped[str | None] = mapped_column(String(200))
    kpi_value: Mapped[float | None] = mapped_column(Float)
    """The manual KPI's latest value as entered; None before the first entry."""
    kpi_value_on: Mapped[date | None] = mapped_column(Date)
    baseline: Mapped[float] = mapped_column(Float)
    target: Mapped[float] = mapped_column(Float)
    due_date: Mapped[date | None] = mapped_column(Date, index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("team_members.id"), index=True)
    """Our side: the team member who drives it."""
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    """The customer's side: the contact who owns it there."""
    status: Mapped[str] = mapped_column(String(16), default="not_started", index=True)
    source: Mapped[str] = mapped_column(String(16), default="manual")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class ObjectiveEntry(Base):
    """The review history of an objective: its creation, every change (field: from, to) and
    every review note, with who and when. Never updated or deleted."""

    __tablename__ = "success_objective_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    objective_id: Mapped[int] = mapped_column(
        ForeignKey("success_objectives.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(16))
    """created, changed or reviewed."""
    status: Mapped[str] = mapped_column(String(16))
    """The objective's status after the entry."""
    note: Mapped[str | None] = mapped_column(Text)
    changes: Mapped[str | None] = mapped_column(Text)
    """JSON ``{field: {"from": ..., "to": ...}}``."""


class Handoff(Base):
    """What sales knew when the deal closed, one per account: the CSM's starting point."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), unique=True)
    deal_notes: Mapped[str | None] = mapped_column(Text)
    stakeholders: Mapped[str | None] = mapped_column(Text)
    """Who is who at the customer, as sales wrote it."""
    promised_outcome: Mapped[str | None] = mapped_column(Text)
    """The outcome the customer bought, in their words: the first objective's draft."""
    sales_owner: Mapped[str | None] = mapped_column(String(320))
    source: Mapped[str] = mapped_column(String(16), default="manual")
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
