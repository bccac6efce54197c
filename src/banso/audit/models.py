"""The audit log: who did what, when, from where; rows are only ever added."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, utcnow


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(320), index=True)
    """The signed-in user's e-mail, ``cli:<os user>`` for commands, the e-mail typed at sign-in."""
    action: Mapped[str] = mapped_column(String(64), index=True)
    """Dotted ``area.verb``, one of ``ACTIONS``."""
    target: Mapped[str] = mapped_column(String(400), default="")
    """What was acted on: a user's e-mail, a token id, a file name, ``keep<-merged`` ids."""
    detail: Mapped[str] = mapped_column(Text, default="{}")
    """JSON object with the facts of the action (never a password or a token)."""
    address: Mapped[str | None] = mapped_column(String(64))
    """The client's IP address for web requests."""
