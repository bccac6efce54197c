"""Browser sessions kept in the database, so ending one ends every copy of its cookie.

The cookie carries a random session id; only its SHA-256 is stored (``web_sessions``). A session
ends at sign-out, when the user's password or role changes, after ``IDLE_TIMEOUT`` without a
request, and ``ABSOLUTE_TIMEOUT`` after sign-in whatever happens.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, or_
from sqlalchemy.orm import Session

from banso.db import utcnow
from banso.users.models import User, WebSession

IDLE_TIMEOUT = timedelta(hours=2)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
"""A working day; the cookie's own max-age is the same."""
TOUCH_EVERY = timedelta(minutes=1)
"""``last_seen_at`` is written at most this often, not on every request."""


def start_session(
    session: Session, user_id: int, address: str | None = None, now: datetime | None = None
) -> str:
    """A new session for the user; returns the id for the cookie (stored only hashed)."""
    now = now or utcnow()
    session.execute(
        delete(WebSession).where(
            or_(
                WebSession.created_at < now - ABSOLUTE_TIMEOUT,
                WebSession.last_seen_at < now - IDLE_TIMEOUT,
            )
        )
    )
    session_id = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            id_hash=_hash(session_id),
            user_id=user_id,
            created_at=now,
            last_seen_at=now,
            address=address,
        )
    )
    session.flush()
    return session_id


def user_for_session(session: Session, session_id: str, now: datetime | None = None) -> User | None:
    """The user a live session belongs to; None once it has ended or expired."""
    now = now or utcnow()
    row = session.get(WebSession, _hash(session_id))
    if row is None:
        return None
    created, seen = _aware(row.created_at), _aware(row.last_seen_at)
    if now - created > ABSOLUTE_TIMEOUT or now - seen > IDLE_TIMEOUT:
        session.delete(row)
        return None
    if now - seen > TOUCH_EVERY:
        row.last_seen_at = now
    return session.get(User, row.user_id)


def end_session(session: Session, session_id: str) -> int | None:
    """End one session (sign-out); returns its user's id, None if it had already ended."""
    row = session.get(WebSession, _hash(session_id))
    if row is None:
        return None
    user_id = row.user_id
    session.delete(row)
    session.flush()
    return user_id


def end_all_sessions(session: Session, user_id: int) -> int:
    """End every session of the user (password or role changed); returns how many ended."""
    result = session.execute(delete(WebSession).where(WebSession.user_id == user_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
