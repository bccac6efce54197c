"""Tables of the playbook engine: CTAs with their tasks and audit trail, the outbox of side
effects with its delivery records, the suppression list (unsubscribes and hard bounces), the
round-robin cursors and the record of every trigger that fired."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, utcnow
from banso.labels import register

CTA_TYPES = ("risk", "opportunity", "lifecycle", "activity")
CTA_PRIORITIES = ("low", "medium", "high", "urgent")
CTA_STATUSES = ("open", "closed")
CTA_OUTCOMES = ("resolved", "churned", "expanded", "renewed", "not_needed", "no_response")
register(
    "cta_type",
    {
        "risk": "Risk",
        "opportunity": "Opportunity",
        "lifecycle": "Lifecycle",
        "activity": "Activity",
    },
)
register("cta_priority", {"low": "Low", "medium": "Medium", "high": "High", "urgent": "Urgent"})
register("cta_status", {"open": "Open", "closed": "Closed"})
register(
    "cta_outcome",
    {
        "resolved": "Resolved",
        "churned": "Churned",
        "expanded": "Expanded",
        "renewed": "Renewed",
        "not_needed": "Not needed",
        "no_response": "No response",
    },
)
OUTBOX_STATUSES = ("pending", "claimed", "sent", "failed", "suppressed")


class Cta(Base):
    """A call to action: work a playbook (or a person) asks a CSM to do on one account.

    At most one CTA per account, playbook and reason is open at a time (a partial unique index):
    a repeat trigger updates the open one instead of adding another."""

    __tablename__ = "ctas"
    __table_args__ = (
        Index(
            "uq_ctas_open_reason",
            "account_id",
            "playbook",
            "reason",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    playbook: Mapped[str] = mapped_column(String(100), index=True)
    reason: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(300))
    """The title as typed, or in the language of the run that opened it (rows before 0011)."""
    title_texts: Mapped[str | None] = mapped_column(Text)
    """JSON ``{"en": ..., "ja": ...}`` of a playbook's title: shown in the reader's language."""
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("team_members.id"), index=True)
    due_date: Mapped[date] = mapped_column(Date)
    first_triggered_on: Mapped[date] = mapped_column(Date)
    """Company-local day of the trigger that opened the CTA."""
    last_triggered_on: Mapped[date] = mapped_column(Date)
    trigger_count: Mapped[int] = mapped_column(Integer, default=1)
    note: Mapped[str | None] = mapped_column(Text)
    """What the CTA carries for its owner, as written when it opened (the sales handoff on a
    ``carry: handoff`` CTA); None on most CTAs."""
    outcome: Mapped[str | None] = mapped_column(String(32))
    outcome_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    snoozed_until: Mapped[date | None] = mapped_column(Date)
    """An open CTA leaves the queue until this company-local day."""


class CtaTask(Base):
    """One step of a CTA's task list (from the playbook's task template)."""

    __tablename__ = "cta_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    cta_id: Mapped[int] = mapped_column(ForeignKey("ctas.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    title_texts: Mapped[str | None] = mapped_column(Text)
    """JSON ``{"en": ..., "ja": ...}`` when the step comes from a template."""
    due_date: Mapped[date] = mapped_column(Date)
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    done_by: Mapped[str | None] = mapped_column(String(320))


class CtaEvent(Base):
    """Audit trail: who (a person's email or ``playbook:NAME``) did what to a CTA, and when."""

    __tablename__ = "cta_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    cta_id: Mapped[int] = mapped_column(ForeignKey("ctas.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(32))
    """created, retriggered, assigned, task_done, task_undone, commented, snoozed, updated,
    closed."""
    detail: Mapped[str | None] = mapped_column(Text)
    """JSON object with what changed."""


class PlaybookFiring(Base):
    """A playbook's trigger fired for an account on a day (after its conditions passed).

    Unique per playbook, account and day, so re-running a day acts only once; keeps the band and
    segment at trigger time for ``banso playbooks effect``."""

    __tablename__ = "playbook_firings"
    __table_args__ = (UniqueConstraint("playbook", "account_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    playbook: Mapped[str] = mapped_column(String(100))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    reason: Mapped[str] = mapped_column(String(200))
    band: Mapped[str | None] = mapped_column(String(32))
    segment: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[str | None] = mapped_column(Text)
    """JSON: the trigger's values and the actions taken (CTA id, outbox keys, field changes)."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AssignmentCursor(Base):
    """Where round-robin assignment over a team stands: the member who got the last CTA."""

    __tablename__ = "assignment_cursors"

    id: Mapped[int] = mapped_column(primary_key=True)
    pool: Mapped[str] = mapped_column(String(100), unique=True)
    last_member_id: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
