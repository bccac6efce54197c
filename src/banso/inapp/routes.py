"""The In-app page (``/inapp``, ops and admin): sites with their public key, snippet and allowed
origins; announcements and NPS prompts with their target segments and dates; forms to add a
site, add a message and end one (CSRF like every form, audited by ``inapp.service``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from banso.dates import today
from banso.errors import InvalidValue
from banso.i18n import _
from banso.inapp import service
from banso.segments.service import rule_set
from banso.users.models import User
from banso.web.auth import db_session, require_role
from banso.web.params import MAX_ID
from banso.web.templating import render

inapp_pages = APIRouter(include_in_schema=False)
Editor = Annotated[User, Depends(require_role("admin", "ops"))]
DbSession = Annotated[Session, Depends(db_session, scope="function")]


@inapp_pages.get("/inapp")
def inapp_page(request: Request, user: Editor, session: DbSession) -> Response:
    return _page(request, session)


@inapp_pages.post("/inapp/sites")
def add_site(
    request: Request, user: Editor, session: DbSession,
    name: Annotated[str, Form(max_length=200)], source: Annotated[str, Form(max_length=100)],
    origins: Annotated[str, Form(max_length=2000)],
) -> Response:  # fmt: skip
    try:
        service.add_site(session, name, source, origins.split())
    except InvalidValue as bad:
        session.rollback()
        return _page(request, session, error=bad.reason, status_code=400)
    return RedirectResponse("/inapp", status_code=303)


@inapp_pages.post("/inapp/messages")
def add_message(
    request: Request, user: Editor, session: DbSession,
    site: Annotated[str, Form(max_length=200)],
    kind: Annotated[str, Form(pattern="^(announcement|nps)$")],
    title_ja: Annotated[str, Form(max_length=200)], title_en: Annotated[str, Form(max_length=200)],
    starts_on: Annotated[date, Form()],
    body_ja: Annotated[str, Form(max_length=4000)] = "",
    body_en: Annotated[str, Form(max_length=4000)] = "",
    segments: Annotated[list[str] | None, Form()] = None,
    ends_on: Annotated[str, Form(max_length=10)] = "",
) -> Response:  # fmt: skip
    try:
        service.add_message(
            session, site, kind, (title_ja, title_en), (body_ja, body_en), segments or [],
            starts_on, _day_or_none(ends_on), user.email,
        )  # fmt: skip
    except InvalidValue as bad:
        session.rollback()
        return _page(request, session, error=bad.reason, status_code=400)
    return RedirectResponse("/inapp", status_code=303)


@inapp_pages.post("/inapp/messages/{message_id}/end")
def end_message(
    user: Editor, session: DbSession, message_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> Response:
    service.end_message(session, message_id)
    return RedirectResponse("/inapp", status_code=303)


def _day_or_none(text: str) -> date | None:
    if not text.strip():
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidValue("ends_on", _("Give the end date as YYYY-MM-DD.")) from None


def _page(
    request: Request, session: Session, error: str | None = None, status_code: int = 200
) -> Response:
    context = {
        "sites": service.list_sites(session),
        "messages": service.list_messages(session),
        "segment_names": sorted(rule_set().segments),
        "base_url": str(request.base_url).rstrip("/"),
        "today": today(),
        "error": error,
    }
    return render(request, "inapp.html", context, status_code=status_code)
