"""Users: create them, change their password or role, sign them in (throttled).

Plain functions over a ``Session``; the caller owns the transaction — except ``sign_in``, which
must commit the count of an attempt before it checks the password (see ``users.throttle``).
"""

from __future__ import annotations

import math
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.audit import service as audit
from banso.db import session_scope, utcnow
from banso.errors import BansoError
from banso.i18n import LANGUAGES, _
from banso.team.models import TeamMember
from banso.users import throttle
from banso.users.models import ROLES, User
from banso.users.sessions import end_all_sessions

MIN_PASSWORD_LENGTH = 8

_hasher = PasswordHasher()
# Verifying against this keeps the time of "no such user" equal to "wrong password".
_DUMMY_HASH = _hasher.hash("banso-timing-equaliser")


class SignInRefused(BansoError):
    """Wrong e-mail or password: the same words whether or not the e-mail belongs to a user."""


class SignInThrottled(BansoError):
    """Too many failed attempts lately: this one was refused without checking the password."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            _("Too many failed sign-ins; try again in {seconds} seconds.", seconds=retry_after)
        )
        self.retry_after = retry_after
        """Seconds until the next attempt is checked."""


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
    audit.record(session, "user.create", email, role=role)
    return user


def set_password(session: Session, email: str, password: str) -> User:
    """Replace the user's password, end all their sessions, forget failed sign-ins."""
    _check_password(password)
    user = get_user_by_email(session, email)
    user.password_hash = _hasher.hash(password)
    ended = end_all_sessions(session, user.id)
    throttle.clear_account(session, user.email)
    audit.record(session, "user.password", user.email, sessions_ended=ended)
    return user


def set_role(session: Session, email: str, role: str) -> User:
    """Give the user another role; their sessions end, so the new role applies at once."""
    _check_role(role)
    user = get_user_by_email(session, email)
    previous = user.role
    user.role = role
    ended = end_all_sessions(session, user.id)
    audit.record(session, "user.role", user.email, role=role, previous=previous,
                 sessions_ended=ended)  # fmt: skip
    return user


def sign_in(email: str, password: str, *, address: str | None, now: datetime | None = None) -> User:
    """The user whose password this is, or ``SignInRefused`` / ``SignInThrottled``.

    Commits on its own, in two steps: the attempt is counted (and committed) before the
    password is checked, so parallel guesses cannot all slip under the limit; then the password
    is checked. An unknown e-mail is counted, delayed and answered exactly like a known one, and
    a dummy hash is verified so that it takes as long.
    """
    fixed_now = now is not None
    now = now or utcnow()
    email = email.strip().lower()
    keys = throttle.keys_for(email, address)
    with session_scope() as session:
        wait = throttle.claim_attempt(session, keys, now)
        if wait is not None:
            seconds = max(1, math.ceil(wait.total_seconds()))
            audit.record(session, "sign_in.throttled", email, actor=email, retry_after=seconds)
    if wait is not None:
        raise SignInThrottled(seconds)
    with session_scope() as session:
        user = session.scalar(select(User).where(User.email == email))
        if user is not None and _verify(user.password_hash, password):
            throttle.attempt_succeeded(session, keys, now)
            if _hasher.check_needs_rehash(user.password_hash):
                user.password_hash = _hasher.hash(password)
            audit.record(session, "sign_in.success", email, actor=email)
            return user
        if user is None:
            _verify(_DUMMY_HASH, password)
        throttle.attempt_failed(session, keys, now if fixed_now else utcnow())
        audit.record(session, "sign_in.failure", email, actor=email)
    raise SignInRefused(_("Wrong e-mail address or password."))


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
