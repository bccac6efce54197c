"""Who is asking and what they may do: sessions, API tokens, roles, CSRF.

A browser is known by a signed session cookie (``uid``, ``csrf``, ``lang``); a program by an
``Authorization: Bearer`` API token. Every state-changing request made with the cookie must carry
the session's CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.config import get_settings
from banso.db import session_scope
from banso.users.models import User
from banso.users.service import user_for_token

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSUBSCRIBE_PREFIX = "/unsubscribe/"
STREAMED_UPLOADS = frozenset({"/data"})
"""Multipart forms whose CSRF field ``web/uploads.py`` checks as the body streams in, before the
file is stored, rather than here after reading the whole body."""
EDITOR_ROLES = ("admin", "ops")
"""Roles that may change any account; a CSM changes only the accounts they own."""


@dataclass(frozen=True)
class SignedIn:
    """What pages show about the user; outlives the request's database session."""

    id: int
    name: str
    role: str
    team_member_id: int | None

    @classmethod
    def of(cls, user: User) -> SignedIn:
        return cls(user.id, user.name, user.role, user.team_member_id)


class NotSignedIn(Exception):
    """No valid session or API token: pages redirect to sign-in, the API answers 401."""


class Forbidden(Exception):
    """Signed in, but the role does not allow this: 403."""


class CsrfRejected(Exception):
    """A state-changing browser request without the session's CSRF token: 403."""


def secret_key() -> str:
    """Key that signs session cookies: BANSO_SECRET_KEY, else one generated once in BANSO_HOME."""
    configured = os.environ.get("BANSO_SECRET_KEY")
    if configured:
        return configured
    path: Path = get_settings().home / "secret_key"
    if not path.exists():
        # written whole under a temporary name, then linked into place: of several processes
        # starting at once (``serve --workers``), the first link wins and all read that key
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".secret_key.{secrets.token_hex(8)}")
        tmp.write_text(secrets.token_urlsafe(48))
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


def db_session() -> Iterator[Session]:
    """The request's unit of work: committed when the route returns, rolled back on error."""
    with session_scope() as session:
        yield session


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use (also for signed-out visitors)."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


async def verify_csrf(request: Request) -> None:
    """Reject unsafe browser requests whose CSRF token does not match the session's."""
    if request.method in SAFE_METHODS or _bearer(request) is not None:
        return
    if request.url.path.startswith("/api/") and "uid" not in request.session:
        return  # no cookie identity to abuse: the API answers 401 for the missing credentials
    if request.url.path.startswith(UNSUBSCRIBE_PREFIX):
        return  # the signed token in the link is the credential; mail clients post one-click
    expected = request.session.get("csrf")
    sent = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    if (
        sent is None
        and content_type.startswith("multipart/form-data")
        and request.url.path in STREAMED_UPLOADS
    ):
        return
    if sent is None and content_type.startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not secrets.compare_digest(str(expected), sent):
        raise CsrfRejected


def current_user(request: Request, session: Annotated[Session, Depends(db_session)]) -> User:
    """The signed-in user (session cookie) or the API token's owner; else NotSignedIn."""
    token = _bearer(request)
    user: User | None
    if token is not None:
        user = user_for_token(session, token)
    else:
        uid = request.session.get("uid")
        user = session.get(User, uid) if isinstance(uid, int) else None
    if user is None:
        raise NotSignedIn
    request.state.user = SignedIn.of(user)
    return user


def optional_user(
    request: Request, session: Annotated[Session, Depends(db_session)]
) -> User | None:
    uid = request.session.get("uid")
    user = session.get(User, uid) if isinstance(uid, int) else None
    request.state.user = SignedIn.of(user) if user is not None else None
    return user


def require_role(*roles: str) -> Callable[..., User]:
    """A dependency that lets through only users with one of ``roles``."""

    def check(user: Annotated[User, Depends(current_user)]) -> User:
        if user.role not in roles:
            raise Forbidden
        return user

    return check


def can_edit_account(user: User, account: Account) -> bool:
    """Admin and ops change any account; a CSM the accounts they own; a viewer none."""
    if user.role in EDITOR_ROLES:
        return True
    return (
        user.role == "csm"
        and user.team_member_id is not None
        and account.owner_id == user.team_member_id
    )


def sign_in(request: Request, user: User) -> None:
    """Start a fresh session for ``user``: new CSRF token, the user's language if set."""
    lang = request.session.get("lang")
    request.session.clear()
    request.session["uid"] = user.id
    request.session["csrf"] = secrets.token_urlsafe(32)
    if user.language or lang:
        request.session["lang"] = user.language or lang


def sign_out(request: Request) -> None:
    lang = request.session.get("lang")
    request.session.clear()
    if lang:
        request.session["lang"] = lang


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None
