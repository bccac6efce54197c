"""Users: create them, check a password (with lock-out), issue and resolve API tokens.

Plain functions over a ``Session``; the caller owns the transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.db import utcnow
from banso.errors import BansoError
from banso.i18n import LANGUAGES, _
from banso.team.models import TeamMember
from banso.users.models import ROLES, ApiToken, User

MAX_FAILED_SIGN_INS = 5
"""Consecutive wrong passwords after which the user is locked out."""
LOCK_OUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 8
TOKEN_PREFIX = "bns_"

_hasher = PasswordHasher()
# Verifying against this keeps the time of "no such user" equal to "wrong password".
_DUMMY_HASH = _hasher.hash("banso-timing-equaliser")


class SignInRefused(BansoError):
    """Wrong e-mail or password, or the user is locked out; the message says which is safe."""


def create_user(
    session: Session,
    email: str,
    *,
    name: str,
    role: str,
    password: str,
    language: str | None = None,
    member_email: str | None = None,
) -> User:
    """Add a user who signs in with ``email``/``password``; a CSM is linked to a team member."""
    email = _normalise_email(email)
    _check_role(role)
    _check_password(password)
    if language is not None and language not in LANGUAGES:
        raise BansoError(_("Language must be one of: {choices}.", choices=", ".join(LANGUAGES)))
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise BansoError(_("A user with the e-mail {email} already exists.", email=email))
    member_id = _team_member_id(session, member_email or (email if role == "csm" else None))
    if member_email and member_id is None:
        raise BansoError(_("No team member has the e-mail {email}.", email=member_email))
    user = User(
        email=email,
        name=name.strip() or email,
        password_hash=_hasher.hash(password),
        role=role,
        language=language,
        team_member_id=member_id,
        failed_attempts=0,
    )
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, email: str, password: str) -> User:
    """Replace the user's password and lift any lock-out."""
    _check_password(password)
    user = get_user_by_email(session, email)
    user.password_hash = _hasher.hash(password)
    user.failed_attempts = 0
    user.locked_until = None
    return user


def issue_token(session: Session, email: str, name: str) -> str:
    """A new API token for the user; only its hash is kept, so this is the one time it is seen."""
    user = get_user_by_email(session, email)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name, token_hash=_token_hash(token)))
    session.flush()
    return token


def authenticate(session: Session, email: str, password: str, now: datetime | None = None) -> User:
    """The user whose password this is; counts failures and locks out after too many."""
    now = now or utcnow()
    user = session.scalar(select(User).where(User.email == _normalise_email(email)))
    if user is None:
        _verify(_DUMMY_HASH, password)
        raise SignInRefused(_("Wrong e-mail address or password."))
    locked_until = _aware(user.locked_until)
    if locked_until is not None and locked_until > now:
        raise SignInRefused(
            _(
                "Too many failed sign-ins; try again after {time} UTC.",
                time=locked_until.strftime("%H:%M"),
            )
        )
    if not _verify(user.password_hash, password):
        user.failed_attempts += 1
        if user.failed_attempts >= MAX_FAILED_SIGN_INS:
            user.locked_until = now + LOCK_OUT
            user.failed_attempts = 0
        raise SignInRefused(_("Wrong e-mail address or password."))
    user.failed_attempts = 0
    user.locked_until = None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def user_for_token(session: Session, token: str) -> User | None:
    """The user an API token belongs to (recording its use), or None for an unknown token."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(token)))
    if row is None:
        return None
    row.last_used_at = utcnow()
    return session.get(User, row.user_id)


def get_user_by_email(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == _normalise_email(email)))
    if user is None:
        raise BansoError(_("No user has the e-mail {email}.", email=email))
    return user


def set_language(session: Session, user_id: int, language: str | None) -> None:
    """Remember the user's chosen language (ja/en) for every later session."""
    user = session.get(User, user_id)
    if user is not None and (language is None or language in LANGUAGES):
        user.language = language


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _token_hash(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is enough; argon2 is for low-entropy passwords.
    return hashlib.sha256(token.encode()).hexdigest()


def _team_member_id(session: Session, email: str | None) -> int | None:
    if not email:
        return None
    return session.scalar(
        select(TeamMember.id).where(TeamMember.email == email.strip().lower())
    ) or session.scalar(select(TeamMember.id).where(TeamMember.email == email.strip()))


def _normalise_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise BansoError(_("{email} is not an e-mail address.", email=email))
    return email


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise BansoError(_("Role must be one of: {choices}.", choices=", ".join(ROLES)))


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BansoError(
            _("The password must have at least {n} characters.", n=MIN_PASSWORD_LENGTH)
        )


def _aware(value: datetime | None) -> datetime | None:
    # SQLite returns naive datetimes for DateTime(timezone=True); they were stored as UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
