"""A configured connection, where each of its objects' incremental sync stands, and the sync log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, utcnow
from banso.labels import register

KINDS = ("hubspot", "salesforce", "stripe", "zendesk")
register("connector_kind", {"hubspot": "HubSpot", "salesforce": "Salesforce", "stripe": "Stripe",
                            "zendesk": "Zendesk"})  # fmt: skip
register("sync_status", {"running": "Running", "ok": "OK", "rejected": "Rejected",
                         "failed": "Failed"})  # fmt: skip


class Connection(Base):
    """A service Banso pulls from. The secret itself is never stored: ``secret_env`` names the
    environment variable holding it, or ``secret_file`` a file only its owner may read (0600)."""

    __tablename__ = "connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    base_url: Mapped[str] = mapped_column(String(500))
    secret_env: Mapped[str | None] = mapped_column(String(200))
    secret_file: Mapped[str | None] = mapped_column(String(1000))
    mapping: Mapped[str | None] = mapped_column(Text)
    """JSON: per object, import field -> the service's field (overrides the defaults)."""
    write_back: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SyncCursor(Base):
    """Where the incremental sync of one object of a connection stands (the service's own
    cursor: a modification time, an event time or an opaque token)."""

    __tablename__ = "connector_cursors"
    __table_args__ = (UniqueConstraint("connection_id", "object"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    object: Mapped[str] = mapped_column(String(50))
    cursor: Mapped[str] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SyncRun(Base):
    """One sync of one object: the sync log."""

    __tablename__ = "connector_syncs"

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(
        ForeignKey("connections.id", ondelete="CASCADE"), index=True
    )
    object: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(16), default="running")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    records_in: Mapped[int] = mapped_column(Integer, default=0)
    inserted: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    cursor_before: Mapped[str | None] = mapped_column(String(500))
    cursor_after: Mapped[str | None] = mapped_column(String(500))
    error: Mapped[str | None] = mapped_column(Text)


class WriteBack(Base):
    """What Banso last wrote to a record of the service (opt-in write-back), so it writes again
    only when a value changed."""

    __tablename__ = "connector_writebacks"
    __table_args__ = (UniqueConstraint("connection_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(300))
    values_json: Mapped[str] = mapped_column(Text)
    written_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
