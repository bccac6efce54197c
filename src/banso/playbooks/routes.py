"""My tasks: the open calls to action (CTAs) of the signed-in CSM, or of everyone for ops/admin
and viewers; and the public unsubscribe link of playbook e-mails."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from banso.dates import today as company_today
from banso.playbooks import service as playbooks
from banso.playbooks.ctas import OPEN_CTA_ROWS, open_ctas
from banso.users.models import User
from banso.web.auth import current_user, db_session
from banso.web.templating import render

tasks_pages = APIRouter(include_in_schema=False)

@tasks_pages.get("/tasks")
def tasks_page(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    everyone: bool = False,
) -> Response:
    mine = user.role == "csm" and not everyone
    rows = open_ctas(session, owner_id=user.team_member_id if mine else None, limit=OPEN_CTA_ROWS)
    return render(request, "tasks.html", {"rows": rows, "mine": mine, "today": company_today()})


@tasks_pages.get("/unsubscribe/{token}")
def unsubscribe_page(request: Request, token: str) -> Response:
    """The link in playbook e-mails: asks to confirm, so link scanners do not unsubscribe."""
    return render(request, "unsubscribe.html", {"token": token, "email": None, "done": False})


@tasks_pages.post("/unsubscribe/{token}")
def unsubscribe_confirm(
    request: Request, token: str, session: Annotated[Session, Depends(db_session, scope="function")]
) -> Response:
    """Suppress further playbook e-mails to the token's address (also RFC 8058 one-click)."""
    email = playbooks.unsubscribe(session, token)
    status = 200 if email else 400
    context = {"token": token, "email": email, "done": True}
    return render(request, "unsubscribe.html", context, status_code=status)


