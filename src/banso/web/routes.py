"""Pages that belong to no domain: sign-in, sign-out, language switch."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from banso.i18n import LANGUAGES
from banso.users import service as users
from banso.users.models import User
from banso.web.auth import client_address, db_session, optional_user, sign_in, sign_out
from banso.web.templating import render

pages = APIRouter(include_in_schema=False)


@pages.get("/sign-in")
def sign_in_page(request: Request, next: str = "/") -> Response:
    return render(request, "sign_in.html", {"next": _local(next), "error": None, "email": ""})


@pages.post("/sign-in")
def sign_in_submit(
    request: Request,
    email: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    try:
        user = users.sign_in(email, password, address=client_address(request))
    except users.SignInThrottled as throttled:
        context = {"next": _local(next), "error": str(throttled), "email": email}
        response = render(request, "sign_in.html", context, status_code=429)
        response.headers["Retry-After"] = str(throttled.retry_after)
        return response
    except users.SignInRefused as refused:
        context = {"next": _local(next), "error": str(refused), "email": email}
        return render(request, "sign_in.html", context, status_code=401)
    sign_in(request, user)
    return RedirectResponse(_local(next), status_code=303)


@pages.post("/sign-out")
def sign_out_submit(request: Request) -> Response:
    sign_out(request)
    return RedirectResponse("/sign-in", status_code=303)


@pages.post("/language")
def switch_language(
    request: Request,
    lang: Annotated[str, Form()],
    user: Annotated[User | None, Depends(optional_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Show every page in ``lang`` from now on; a signed-in user keeps it as their setting."""
    if lang in LANGUAGES:
        request.session["lang"] = lang
        if user is not None:
            users.set_language(session, user.id, lang)
    return RedirectResponse(_local(next), status_code=303)


def _local(target: str) -> str:
    """Only same-site paths are followed after sign-in (no open redirect)."""
    # browsers read "\\" as "/" and drop tabs and newlines, so "/\\evil.example" is off-site
    if any(c == "\\" or ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target
