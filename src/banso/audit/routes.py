"""The audit log page, for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from banso.audit import service
from banso.audit.cli import parse_since
from banso.users.models import User
from banso.web.auth import db_session, require_role
from banso.web.templating import render

audit_pages = APIRouter(include_in_schema=False)
PAGE_SIZE = 200


@audit_pages.get("/admin/audit")
def audit_page(
    request: Request,
    session: Annotated[Session, Depends(db_session)],
    _user: Annotated[User, Depends(require_role("admin"))],
    since: str = "",
    actor: str = "",
    action: str = "",
) -> Response:
    entries = service.list_entries(
        session, since=parse_since(since), actor=actor, action=action, limit=PAGE_SIZE
    )
    context = {
        "entries": [service.as_dict(entry) for entry in entries],
        "actions": service.ACTIONS,
        "filters": {"since": since, "actor": actor, "action": action},
        "page_size": PAGE_SIZE,
    }
    return render(request, "admin_audit.html", context)
