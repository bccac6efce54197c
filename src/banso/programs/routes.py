"""The Programmes page (``/programs``: the catalogue, its sessions, adding a session), a
session's page with its roster (enrol a contact, mark attended or no-show) and the effect page.
Admin and ops add sessions; admin, ops and the CSM who owns the contact's account record
enrolment and attendance (``web.auth.may_edit_account``); a viewer reads. Audited by
``programs.service``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.i18n import _, current_language
from banso.programs import effect as program_effect
from banso.programs import service
from banso.users.models import User
from banso.web.auth import (
    EDITOR_ROLES,
    Forbidden,
    current_user,
    db_session,
    may_edit_account,
    require_role,
)
from banso.web.params import MAX_ID
from banso.web.templating import render

program_pages = APIRouter(include_in_schema=False)
SessionId = Annotated[int, Path(ge=1, le=MAX_ID)]


@program_pages.get("/programs")
def programs_page(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> Response:
    context = {
        "programs": service.program_rows(session, current_language()),
        "sessions": service.sessions(session),
        "may_add": user.role in EDITOR_ROLES,
    }
    return render(request, "programs.html", context)


@program_pages.post("/programs/sessions")
def add_session(
    program: Annotated[str, Form(max_length=64)],
    starts: Annotated[str, Form(max_length=40)],
    user: Annotated[User, Depends(require_role(*EDITOR_ROLES))],
    session: Annotated[Session, Depends(db_session, scope="function")],
    capacity: Annotated[int | None, Form(ge=1, le=100_000)] = None,
) -> Response:
    row = service.add_session(session, program, service.parse_start(starts), capacity)
    return RedirectResponse(f"/programs/sessions/{row.id}", status_code=303)


@program_pages.get("/programs/sessions/{session_id}")
def session_page(
    request: Request,
    session_id: SessionId,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> Response:
    target = service.get_session(session, session_id)
    [view] = [v for v in service.sessions(session, target.program) if v.id == session_id]
    context = {
        "program": service.program(target.program),
        "view": view,
        "roster": service.roster(session, session_id),
        "may_record": user.role in (*EDITOR_ROLES, "csm"),
        "lang": current_language(),
    }
    return render(request, "program_session.html", context)


@program_pages.post("/programs/sessions/{session_id}/attendance")
def record(
    session_id: SessionId,
    email: Annotated[str, Form(min_length=3, max_length=320)],
    status: Annotated[str, Form(pattern=r"^(enrolled|attended|no_show)$")],
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    new: Annotated[bool, Form()] = False,
) -> Response:
    """Enrol (``new``) or mark a contact; back to the session's page."""
    contact = service.contact_by_email(session, email)
    account = session.get(Account, contact.account_id)
    if not may_edit_account(user, account.owner_id if account else None):
        raise Forbidden(_("A CSM records attendance for contacts of the accounts they own."))
    if new:
        service.enrol(session, session_id, email, user.email)
    else:
        service.record_attendance(session, session_id, email, status, user.email)
    return RedirectResponse(f"/programs/sessions/{session_id}", status_code=303)


@program_pages.get("/programs/effect")
def effect_page(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    program: Annotated[str, Query(max_length=64)] = "",
    days: Annotated[int, Query(ge=1, le=365)] = 60,
) -> Response:
    context = {
        "results": program_effect.effect(session, program or None, days),
        "titles": {p["key"]: p["title"] for p in service.program_rows(session, current_language())},
        "days": days,
    }
    return render(request, "program_effect.html", context)
