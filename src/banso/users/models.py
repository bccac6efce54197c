"""People who sign in to Banso, their sessions, sign-in throttles and API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, utcnow
from banso.labels import register

ROLES = ("admin", "ops", "csm", "viewer")
"""admin: everything incl. users; ops: edit any account and import data; csm: edit the accounts
they own, read everything; viewer: read only."""
register("user_role", {
    "admin": "Administrator", "ops": "CS operations", "csm": "CSM", "viewer": "Viewer",
})  # fmt: skip


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
    """Unused since revision 0010 (failures are counted in ``sign_in_throttles``); kept until no
    branch or fixture sets it, then dropped."""
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """Unused since revision 0010, like ``failed_attempts``."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


TOKEN_SCOPES = ("read", "write", "events")
"""read: GET/HEAD only; write: any change (events included); events: only ``POST /api/events``."""
register("token_scope", {"read": "Read", "write": "Write", "events": "Usage events"})
register("token_status", {"active": "Active", "expired": "Expired", "revoked": "Revoked"})


class ApiToken(Base):
    """A bearer token for the JSON API; only its SHA-256 is stored, the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    scopes: Mapped[str] = mapped_column(String(64), server_default="read write events")
    """Space-separated ``TOKEN_SCOPES``; the user's role still applies on top."""
    hint: Mapped[str | None] = mapped_column(String(16))
    """The token's first characters, so a person can tell tokens apart in a list."""
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """None: never expires (tokens issued before revision 0010)."""
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    source: Mapped[str | None] = mapped_column(String(100))
    """The identity source (``account_identities.source``) in which this token's event batches
    name accounts by the product's own ids; None: Banso's account ids only."""


class WebSession(Base):
    """A signed-in browser; the cookie carries a random id whose SHA-256 is this row's key.

    Deleting the row ends the session even for a copy of the cookie (sign-out, password or role
    change); it also ends when idle too long or too old (``users.sessions``).
    """

    __tablename__ = "web_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    address: Mapped[str | None] = mapped_column(String(64))


class SignInThrottle(Base):
    """Failed sign-ins counted per e-mail (``account:…``) or client address (``address:…``)."""

    __tablename__ = "sign_in_throttles"

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    """Attempts since the last success (an attempt counts before its password is checked)."""
    last_failure_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """No attempt under this key has its password checked before this time."""
