"""Admin pages: users and their roles; API tokens (list, create shown once, revoke); the audit log.

Above the base records (users, audit) and the web kit, so neither of those imports the other."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.audit import service as audit_service
from banso.audit.cli import parse_since
from banso.db import utcnow
from banso.users import service, tokens
from banso.users.models import ROLES, TOKEN_SCOPES, User
from banso.web.auth import db_session, require_role
from banso.web.templating import render

users_pages = APIRouter(include_in_schema=False)
_admin = require_role("admin")


@users_pages.get("/admin/users")
def users_page(
    request: Request,
    session: Annotated[Session, Depends(db_session, scope="function")],
    _user: Annotated[User, Depends(_admin)],
) -> Response:
    people = list(session.scalars(select(User).order_by(User.email)))
    return render(request, "admin_users.html", {"people": people, "roles": ROLES})


@users_pages.post("/admin/users/{user_id}/role")
def users_set_role(
    user_id: int,
    role: Annotated[str, Form()],
    session: Annotated[Session, Depends(db_session, scope="function")],
    _user: Annotated[User, Depends(_admin)],
) -> Response:
    """Change the role; the user's sessions end, so it applies at once (the admin's own too)."""
    person = session.get(User, user_id)
    if person is not None:
        service.set_role(session, person.email, role)
    return RedirectResponse("/admin/users", status_code=303)


@users_pages.get("/admin/tokens")
def tokens_page(
    request: Request,
    session: Annotated[Session, Depends(db_session, scope="function")],
    _user: Annotated[User, Depends(_admin)],
) -> Response:
    return _render_tokens(request, session, created=None)


@users_pages.post("/admin/tokens")
def tokens_create(
    request: Request,
    session: Annotated[Session, Depends(db_session, scope="function")],
    _user: Annotated[User, Depends(_admin)],
    email: Annotated[str, Form()],
    name: Annotated[str, Form()],
    scopes: Annotated[list[str], Form()],
    days: Annotated[int, Form(ge=0, le=3650)] = tokens.DEFAULT_LIFETIME.days,
) -> Response:
    """Create a token and show it on this one response; it is never shown again."""
    expires_at = utcnow() + timedelta(days=days) if days else None
    row, value = tokens.create_token(session, email, name, scopes, expires_at)
    return _render_tokens(request, session, created=(row.name, value))


@users_pages.post("/admin/tokens/{token_id}/revoke")
def tokens_revoke(
    token_id: int,
    session: Annotated[Session, Depends(db_session, scope="function")],
    _user: Annotated[User, Depends(_admin)],
) -> Response:
    tokens.revoke_token(session, token_id)
    return RedirectResponse("/admin/tokens", status_code=303)


def _render_tokens(request: Request, session: Session, created: tuple[str, str] | None) -> Response:
    context = {
        "tokens": tokens.list_tokens(session, include_ended=True),
        "emails": list(session.scalars(select(User.email).order_by(User.email))),
        "scopes": TOKEN_SCOPES,
        "default_days": tokens.DEFAULT_LIFETIME.days,
        "created": created,
    }
    response = render(request, "admin_tokens.html", context)
    response.headers["Cache-Control"] = "no-store"
    return response


audit_pages = APIRouter(include_in_schema=False)
PAGE_SIZE = 200


@audit_pages.get("/admin/audit")
def audit_page(
    request: Request,
    session: Annotated[Session, Depends(db_session, scope="function")],
    _user: Annotated[User, Depends(require_role("admin"))],
    since: str = "",
    actor: str = "",
    action: str = "",
) -> Response:
    entries = audit_service.list_entries(
        session, since=parse_since(since), actor=actor, action=action, limit=PAGE_SIZE
    )
    context = {
        "entries": [audit_service.as_dict(entry) for entry in entries],
        "actions": audit_service.ACTIONS,
        "filters": {"since": since, "actor": actor, "action": action},
        "page_size": PAGE_SIZE,
    }
    return render(request, "admin_audit.html", context)
