"""People who sign in to Banso, with their role, and the API tokens they have issued."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, utcnow

ROLES = ("admin", "ops", "csm", "viewer")
"""admin: everything incl. users; ops: edit any account and import data; csm: edit the accounts
they own, read everything; viewer: read only."""


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    """Stored lower-case; the sign-in name."""
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    """argon2id hash in PHC string format."""
    role: Mapped[str] = mapped_column(String(16))
    language: Mapped[str | None] = mapped_column(String(8))
    """ja or en; None means: follow the browser's Accept-Language."""
    team_member_id: Mapped[int | None] = mapped_column(ForeignKey("team_members.id"), index=True)
    """The CS team member this user is; a CSM edits the accounts this member owns."""
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    """Consecutive failed sign-ins since the last successful one."""
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiToken(Base):
    """A bearer token for the JSON API; only its SHA-256 is stored, the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
