"""Sessions of the programmes of the cafeteria (``banso.programs``) and who enrolled in and
attended them: records that health (``programs_attended_90d``), the attendance import and the
programmes' pages read."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, utcnow
from banso.labels import register

STATUSES = ("enrolled", "attended", "no_show")
"""An enrolment's state: signed up, came, signed up and did not come."""
register(
    "attendance_status", {"enrolled": "Signed up", "attended": "Attended", "no_show": "No-show"}
)


class ProgramSession(Base):
    """One dated occurrence of a programme (a webinar on 3 June at 15:00)."""

    __tablename__ = "program_sessions"
    __table_args__ = (UniqueConstraint("program", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program: Mapped[str] = mapped_column(String(64), index=True)
    """The programme's key in ``programs.yaml``."""
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    capacity: Mapped[int | None] = mapped_column(Integer)
    """Most enrolments the session takes (None: no limit)."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ProgramEnrolment(Base):
    """A contact (or, when the source names only the company, an account) in one session."""

    __tablename__ = "program_enrolments"
    __table_args__ = (
        UniqueConstraint("session_id", "account_id", "contact_id"),
        Index("ix_program_enrolments_account_status", "account_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("program_sessions.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    status: Mapped[str] = mapped_column(String(16), default="enrolled")
    """One of :data:`STATUSES`."""
    recorded_by: Mapped[str] = mapped_column(String(320), default="")
    """Who enrolled or marked it (e-mail), or ``import:<file>``."""
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
