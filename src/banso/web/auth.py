"""Who is asking and what they may do: sessions, API tokens, roles, CSRF.

A browser is known by a signed session cookie (``uid``, ``sid``, ``csrf``, ``lang``) whose session
id must name a live row of ``web_sessions`` (so sign-out ends every copy of the cookie); a program
by an ``Authorization: Bearer`` API token, limited to its scopes. Every state-changing request made
with the cookie must carry the session's CSRF token (form field ``csrf_token`` or header
``X-CSRF-Token``).
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
from starlette.types import ASGIApp, Receive, Scope, Send

from banso.audit import service as audit
from banso.config import get_settings
from banso.db import session_scope
from banso.i18n import _
from banso.users.models import User
from banso.users.sessions import end_session, start_session, user_for_session
from banso.users.tokens import record_use, scope_allows, token_user

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSUBSCRIBE_PREFIX = "/unsubscribe/"
TRACKING_PREFIXES = ("/t/o/", "/t/c/")
"""Open pixel and redirect links of campaign emails: read by mail clients, no sign-in."""
SURVEY_ANSWER_PREFIX = "/s/"
"""Public survey answer pages: the signed, single-use token in the path is the credential."""
PUBLIC_PREFIXES = (UNSUBSCRIBE_PREFIX, SURVEY_ANSWER_PREFIX, *TRACKING_PREFIXES)
"""Paths whose signed token in the link is the credential: no session, no CSRF token."""
STREAMED_UPLOADS = frozenset({"/data"})
"""Multipart forms whose CSRF field ``web/uploads.py`` checks as the body streams in, before the
file is stored, rather than here after reading the whole body."""
EDITOR_ROLES = ("admin", "ops")
"""Roles that may change any account; a CSM changes only the accounts they own."""


def may_edit_account(user: User, *owner_ids: int | None) -> bool:
    """The one rule for writing on an account (its forecast, opportunities, churn reasons,
    fields): admin and ops on any; a CSM when they are one of ``owner_ids`` (the account's
    owner, and where it applies the owner of the record itself); a viewer never."""
    if user.role in EDITOR_ROLES:
        return True
    return (
        user.role == "csm" and user.team_member_id is not None and user.team_member_id in owner_ids
    )


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
    """Signed in, but the role (or the token's scopes) does not allow this: 403."""


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
    """The request's unit of work: committed when the route returns, rolled back on error.

    Always used as ``Depends(db_session, scope="function")``: the commit then happens before the
    response is sent, so a write is acknowledged only once it is on disk. (FastAPI's default
    scope commits after the response has gone out: a failed commit was answered 201.)"""
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
    if request.url.path.startswith(PUBLIC_PREFIXES):
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


def current_user(
    request: Request, session: Annotated[Session, Depends(db_session, scope="function")]
) -> User:
    """The signed-in user (live session) or the API token's owner within the token's scopes;
    else NotSignedIn (or Forbidden for a token whose scopes do not cover the request)."""
    token = _bearer(request)
    user: User | None
    if token is not None:
        try:
            user, scopes = token_user(session, token)
        except LookupError:
            raise NotSignedIn from None
        with session_scope() as own:  # a short write of its own; the request's stays read-only
            record_use(own, token)
        if not scope_allows(scopes, request.method, request.url.path):
            raise Forbidden(_("This API token's scopes do not allow this request."))
    else:
        user = _session_user(request, session)
    if user is None:
        raise NotSignedIn
    request.state.user = SignedIn.of(user)
    audit.current_actor().name = user.email
    return user


def optional_user(
    request: Request, session: Annotated[Session, Depends(db_session, scope="function")]
) -> User | None:
    user = _session_user(request, session)
    request.state.user = SignedIn.of(user) if user is not None else None
    if user is not None:
        audit.current_actor().name = user.email
    return user


def require_role(*roles: str) -> Callable[..., User]:
    """A dependency that lets through only users with one of ``roles``."""

    def check(user: Annotated[User, Depends(current_user)]) -> User:
        if user.role not in roles:
            raise Forbidden
        return user

    return check


def sign_in(request: Request, user: User) -> None:
    """Start a fresh session for ``user``: new session id and CSRF token, their language if set.

    The session row is committed before the answer goes out: the request's own transaction
    commits only after the response is sent, and the browser's next request, following the
    redirect at once, must already find the session."""
    lang = request.session.get("lang")
    with session_scope() as session:
        sid = start_session(session, user.id, client_address(request))
    request.session.clear()
    request.session["uid"] = user.id
    request.session["sid"] = sid
    request.session["csrf"] = secrets.token_urlsafe(32)
    if user.language or lang:
        request.session["lang"] = user.language or lang


def sign_out(request: Request) -> None:
    """End the session server-side, committed at once (every copy of the cookie stops working
    before the answer goes out), and forget it."""
    sid = request.session.get("sid")
    if isinstance(sid, str):
        with session_scope() as session:
            user_id = end_session(session, sid)
            user = session.get(User, user_id) if user_id is not None else None
            if user is not None:
                audit.record(session, "sign_out", user.email, actor=user.email)
    lang = request.session.get("lang")
    request.session.clear()
    if lang:
        request.session["lang"] = lang


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


class AuditActor:
    """Attributes the audit entries of each request to its user and client address."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        with audit.acting(audit.Actor(address=client[0] if client else None)):
            await self.app(scope, receive, send)


def _session_user(request: Request, session: Session) -> User | None:
    sid = request.session.get("sid")
    user = user_for_session(session, sid) if isinstance(sid, str) else None
    if user is None and ("uid" in request.session or "sid" in request.session):
        request.session.pop("uid", None)  # the session has ended: the cookie forgets it too
        request.session.pop("sid", None)
    return user


def bearer_token(request: Request) -> str | None:
    """The request's ``Authorization: Bearer`` token, if any."""
    return _bearer(request)


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None
