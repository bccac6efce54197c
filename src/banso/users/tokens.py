"""API tokens: named, scoped, expiring and revocable; stored as SHA-256, shown once.

A token acts as its user (whose role still applies) within its scopes: ``read`` for GET/HEAD,
``write`` for changes (events included), ``events`` for ``POST /api/events`` only.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from banso.audit import service as audit
from banso.db import utcnow
from banso.errors import BansoError
from banso.i18n import _
from banso.users.models import TOKEN_SCOPES, ApiToken, User
from banso.users.service import get_user_by_email

TOKEN_PREFIX = "bns_"
DEFAULT_LIFETIME = timedelta(days=90)
USE_RECORDED_EVERY = timedelta(minutes=1)
"""A token's ``last_used_at`` is at most this old while it is in use."""
EVENTS_PATH = "/api/events"
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class TokenListing:
    token: ApiToken
    email: str

    @property
    def status(self) -> str:
        """active, expired or revoked (English; translated where shown)."""
        return token_status(self.token)


def create_token(
    session: Session,
    email: str,
    name: str,
    scopes: list[str],
    expires_at: datetime | None,
    source: str | None = None,
) -> tuple[ApiToken, str]:
    """A new token for the user: the row and the token itself, which is never seen again.

    ``source``: the identity source (``account_identities.source``) whose ids the token's event
    batches may use to name accounts (the product's own account ids)."""
    user = get_user_by_email(session, email)
    chosen = _check_scopes(scopes)
    name = name.strip()
    if not name:
        raise BansoError(_("Give the token a name that says what it is for."))
    value = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        name=name[:200],
        token_hash=_token_hash(value),
        scopes=" ".join(chosen),
        hint=value[:10],
        expires_at=expires_at,
        created_at=utcnow(),
        source=(source or "").strip()[:100] or None,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        "token.create",
        user.email,
        token_id=row.id,
        name=row.name,
        scopes=row.scopes,
        expires_at=expires_at.isoformat() if expires_at else None,
        source=row.source,
    )
    return row, value


def list_tokens(
    session: Session, email: str | None = None, *, include_ended: bool = False
) -> list[TokenListing]:
    """Tokens newest first, with their user's e-mail; only live ones unless ``include_ended``."""
    query = (
        select(ApiToken, User.email)
        .join(User, User.id == ApiToken.user_id)
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    if email:
        query = query.where(User.email == email.strip().lower())
    listings = [TokenListing(token, user_email) for token, user_email in session.execute(query)]
    if include_ended:
        return listings
    return [listing for listing in listings if listing.status == "active"]


def revoke_token(session: Session, token_id: int) -> ApiToken:
    """Stop the token working from now on (the row stays, for the record)."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise BansoError(_("No API token has the id {id}.", id=token_id))
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        user = session.get(User, row.user_id)
        audit.record(
            session, "token.revoke", user.email if user else "", token_id=row.id, name=row.name
        )
    return row


def token_user(session: Session, value: str, now: datetime | None = None) -> tuple[User, str]:
    """The user a live token belongs to and its scopes. Reads only: the caller records the use
    with ``record_use`` in a short transaction of its own.

    Raises ``LookupError`` for an unknown, revoked or expired token."""
    now = now or utcnow()
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(value)))
    if row is None or token_status(row, now) != "active":
        raise LookupError("no live token")
    user = session.get(User, row.user_id)
    if user is None:
        raise LookupError("no live token")
    return user, row.scopes


def token_source(session: Session, value: str) -> str | None:
    """The identity source a token names the product's account ids in (None: none set)."""
    return session.scalar(select(ApiToken.source).where(ApiToken.token_hash == _token_hash(value)))


def record_use(session: Session, value: str, now: datetime | None = None) -> None:
    """Note that the token was used now, at most once a minute (``USE_RECORDED_EVERY``).

    Meant for a transaction of its own: kept in a request's transaction, this write would hold
    SQLite's write lock for the whole request, and a report that caches its rows from another
    connection in the meantime waited 30 seconds for it."""
    now = now or utcnow()
    session.execute(
        update(ApiToken)
        .where(ApiToken.token_hash == _token_hash(value))
        .where(
            (ApiToken.last_used_at.is_(None))
            | (ApiToken.last_used_at < now - USE_RECORDED_EVERY)
        )
        .values(last_used_at=now)
    )


def scope_allows(scopes: str, method: str, path: str) -> bool:
    """Whether a token with ``scopes`` may make this request (before the role is checked)."""
    granted = set(scopes.split())
    if method.upper() in _READ_METHODS:
        return "read" in granted
    if "write" in granted:
        return True
    return "events" in granted and method.upper() == "POST" and path.rstrip("/") == EVENTS_PATH


def token_status(row: ApiToken, now: datetime | None = None) -> str:
    now = now or utcnow()
    if row.revoked_at is not None:
        return "revoked"
    expires = row.expires_at
    if expires is not None and (expires if expires.tzinfo else expires.replace(tzinfo=UTC)) <= now:
        return "expired"
    return "active"


def _check_scopes(scopes: list[str]) -> list[str]:
    chosen = [s.strip().lower() for s in scopes if s.strip()]
    unknown = [s for s in chosen if s not in TOKEN_SCOPES]
    if unknown or not chosen:
        raise BansoError(
            _("Scopes must be one or more of: {choices}.", choices=", ".join(TOKEN_SCOPES))
        )
    return [s for s in TOKEN_SCOPES if s in chosen]


def _token_hash(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough; argon2 is for low-entropy passwords.
    return hashlib.sha256(token.encode()).hexdigest()
