"""The Connections page (``/connections``, ops and admin): each connection's objects with their
last sync, counts, cursor and last error, and the buttons "Test connection" and "Sync now" (the
same service as ``banso connect test|sync``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from banso.connectors import service
from banso.errors import BansoError
from banso.i18n import _
from banso.users.models import User
from banso.web.auth import db_session, require_role
from banso.web.templating import render

connections_pages = APIRouter(include_in_schema=False)
_ops = require_role("admin", "ops")
Name = Annotated[str, Path(max_length=50, pattern=r"^[a-z0-9][a-z0-9_-]*$")]


def _page(request: Request, session: Session, message: str | None = None,
          problems: list[str] | None = None, status_code: int = 200) -> Response:  # fmt: skip
    context = {"connections": service.status(session), "message": message,
               "problems": problems or []}  # fmt: skip
    return render(request, "connections.html", context, status_code=status_code)


@connections_pages.get("/connections")
def connections_page(
    request: Request,
    session: Annotated[Session, Depends(db_session, scope="function")],
    _user: Annotated[User, Depends(_ops)],
) -> Response:
    return _page(request, session)


@connections_pages.post("/connections/{name}/test")
def connections_test(
    request: Request,
    name: Name,
    session: Annotated[Session, Depends(db_session, scope="function")],
    _user: Annotated[User, Depends(_ops)],
) -> Response:
    connection = service.get(session, name)
    try:
        detail = service.test(connection)
    except BansoError as exc:
        return _page(request, session, _("{name}: the test failed.", name=name), [str(exc)], 502)
    return _page(request, session, _("{name}: OK ({detail})", name=name, detail=detail))


@connections_pages.post("/connections/{name}/sync")
def connections_sync(
    request: Request,
    name: Name,
    session: Annotated[Session, Depends(db_session, scope="function")],
    _user: Annotated[User, Depends(_ops)],
) -> Response:
    service.get(session, name)
    try:
        results = service.sync(name)
    except BansoError as exc:
        return _page(request, session, _("{name}: not synced.", name=name), [str(exc)], 502)
    session.expire_all()
    problems = [p for r in results for p in r.problems]
    message = _("{name}: {n} records in, {new} new, {updated} updated, {bad} objects failed",
                name=name, n=sum(r.records_in for r in results),
                new=sum(r.inserted for r in results), updated=sum(r.updated for r in results),
                bad=sum(r.status != "ok" for r in results))  # fmt: skip
    return _page(request, session, message, problems)
