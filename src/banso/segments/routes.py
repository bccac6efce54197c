"""The Segments page (``GET /segments``): the rules, accounts and MRR per segment on the newest
evaluated day, and a segment's members linked to their accounts; the same figures as
``banso segments list`` and ``show``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from banso.errors import InvalidValue
from banso.i18n import _
from banso.segments import service
from banso.segments.views import overview
from banso.users.models import User
from banso.web.auth import current_user, db_session
from banso.web.templating import render

segments_pages = APIRouter(include_in_schema=False)

PAGE_SIZE = 100


@segments_pages.get("/segments")
def segments_page(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    segment: Annotated[str, Query(max_length=100)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    seen = overview(session)
    names = [r.segment for r in seen.rows]
    if segment and segment not in names:
        raise InvalidValue("segment", _("Unknown segment {segment}.", segment=segment))
    shown = segment or (names[0] if names else "")
    total, members = (
        service.members(session, shown, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        if shown
        else (0, [])
    )
    context = {
        "seen": seen, "shown": shown, "members": members, "total": total, "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
    }  # fmt: skip
    return render(request, "segments.html", context)
