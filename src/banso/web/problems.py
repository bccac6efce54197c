"""How the web answers a request it cannot serve: one JSON problem document for the API, a
friendly page for the browser.

Every API error — FastAPI's validation of parameters and bodies, a domain error
(:class:`banso.errors.BansoError` and its ``NotFound``/``InvalidValue``), an HTTP error, a
refused sign-in or role — is an RFC 9457 (formerly 7807) problem document::

    {"type": "about:blank", "title": "Invalid request", "status": 422,
     "detail": "page: Give a value of at most 1000000.",
     "errors": [{"field": "page", "reason": "Give a value of at most 1000000."}]}

``errors`` lists each bad field (empty when the problem is not about one field); ``detail`` is
one sentence a person can read. Titles and reasons are in the request's language.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from html import escape
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from banso.errors import BansoError, InvalidValue, NotFound
from banso.i18n import _
from banso.web.auth import CsrfRejected, Forbidden, NotSignedIn
from banso.web.headers import SECURITY_HEADERS
from banso.web.templating import render

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = logging.getLogger(__name__)


class FieldProblem(BaseModel):
    field: str = Field(description="The parameter or body field, e.g. page or events[3].ts.")
    reason: str = Field(description="What is wrong and what is allowed, in the caller's language.")


class Problem(BaseModel):
    """The body of every API error response."""

    type: str = Field(default="about:blank", description="Always about:blank.")
    title: str = Field(description="The status in words, e.g. Invalid request.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="One sentence saying what went wrong.")
    errors: list[FieldProblem] = Field(
        default_factory=list, description="Each bad field; empty when no single field is wrong."
    )


def problem_response(
    status: int,
    detail: str,
    errors: Sequence[Mapping[str, str]] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A problem document with ``status``; ``errors`` as ``{field, reason}``."""
    body = Problem(
        title=status_title(status),
        status=status,
        detail=detail,
        errors=[FieldProblem(field=e["field"], reason=e["reason"]) for e in errors],
    )
    return JSONResponse(
        body.model_dump(), status_code=status, headers=dict(headers or {}),
        media_type=PROBLEM_MEDIA_TYPE,
    )  # fmt: skip


def status_title(status: int) -> str:
    titles = {
        400: _("Bad request"),
        401: _("Not signed in"),
        403: _("Not allowed"),
        404: _("Not found"),
        405: _("Method not allowed"),
        413: _("Too large"),
        422: _("Invalid request"),
        429: _("Too many requests"),
        500: _("Server error"),
    }
    return titles.get(status) or HTTPStatus(status).phrase


def field_problems(exc: RequestValidationError) -> list[dict[str, str]]:
    """FastAPI's validation errors as ``{field, reason}`` with translated reasons."""
    return [{"field": field_name(e["loc"]), "reason": reason(e)} for e in exc.errors()]


def field_name(loc: Sequence[str | int]) -> str:
    """``("body", "events", 3, "ts")`` -> ``events[3].ts``; ``("query", "page")`` -> ``page``."""
    parts = list(loc[1:]) if len(loc) > 1 and loc[0] in _SOURCES else list(loc)
    name = ""
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name or "body"


_SOURCES = ("body", "query", "path", "header", "cookie")


def reason(error: Mapping[str, Any]) -> str:
    """One pydantic error in the request's language (the English message when unlisted)."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "value_error" and "error" in ctx:
        return str(ctx["error"])
    if kind == "missing":
        return _("This field is required.")
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return _("Give a whole number.")
    if kind in ("float_parsing", "float_type", "decimal_parsing"):
        return _("Give a number.")
    if kind in ("bool_parsing", "bool_type"):
        return _("Give true or false.")
    if kind == "greater_than_equal":
        return _("Give a value of at least {limit}.", limit=ctx.get("ge"))
    if kind == "greater_than":
        return _("Give a value above {limit}.", limit=ctx.get("gt"))
    if kind == "less_than_equal":
        return _("Give a value of at most {limit}.", limit=ctx.get("le"))
    if kind == "less_than":
        return _("Give a value below {limit}.", limit=ctx.get("lt"))
    if kind == "string_too_short":
        return _("Give at least {n} characters.", n=ctx.get("min_length"))
    if kind == "string_too_long":
        return _("Give at most {n} characters.", n=ctx.get("max_length"))
    if kind == "too_short":
        return _("Give at least {n} items.", n=ctx.get("min_length"))
    if kind == "too_long":
        return _("Give at most {n} items.", n=ctx.get("max_length"))
    if kind in ("literal_error", "enum"):
        return _("Choose one of: {choices}.", choices=ctx.get("expected", ""))
    if kind == "string_pattern_mismatch":
        return _(
            "The value does not have the expected form ({pattern}).", pattern=ctx.get("pattern")
        )
    if kind.startswith("datetime"):
        return _(
            "Give a date and time in ISO 8601 with a time zone, such as 2026-04-01T09:30:00+09:00."
        )
    if kind.startswith("date"):
        return _("Give a date as YYYY-MM-DD.")
    if kind == "timezone_aware":
        return _("The time needs a time zone, such as 2026-04-01T09:30:00+09:00.")
    if kind == "json_invalid":
        return _("The body is not valid JSON.")
    if kind in ("model_attributes_type", "dict_type", "model_type"):
        return _("Give a JSON object.")
    if kind == "list_type":
        return _("Give a list.")
    if kind in ("string_type", "string_unicode"):
        return _("Give text.")
    return str(error.get("msg", kind))


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error of ``app`` with a problem document (API) or the error page."""
    app.add_exception_handler(NotSignedIn, _not_signed_in)  # type: ignore[arg-type]
    app.add_exception_handler(Forbidden, _forbidden)  # type: ignore[arg-type]
    app.add_exception_handler(CsrfRejected, _csrf)  # type: ignore[arg-type]
    app.add_exception_handler(BansoError, _domain_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid_request)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _server_error)


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_page(
    request: Request, status: int, message: str, errors: Sequence[Mapping[str, str]] = ()
) -> Response:
    """The browser's page for an error: what went wrong, each bad field, a way back."""
    context = {"message": message, "errors": list(errors), "title": status_title(status)}
    return render(request, "error.html", context, status_code=status)


def _answer(
    request: Request,
    status: int,
    message: str,
    errors: Sequence[Mapping[str, str]] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    if wants_json(request):
        return problem_response(status, message, errors, headers)
    return error_page(request, status, message, errors)


async def _not_signed_in(request: Request, exc: NotSignedIn) -> Response:
    if wants_json(request):
        return problem_response(
            401, _("Sign in or send an API token."), headers={"WWW-Authenticate": "Bearer"}
        )
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/sign-in?next={quote(target, safe='')}", status_code=303)


async def _forbidden(request: Request, exc: Forbidden) -> Response:
    # a Forbidden may carry its own reason (a token's scopes)
    return _answer(request, 403, str(exc) or _("Your role does not allow this."))


async def _csrf(request: Request, exc: CsrfRejected) -> Response:
    message = _("The form has expired or did not come from Banso; reload the page and try again.")
    return _answer(request, 403, message)


async def _domain_error(request: Request, exc: BansoError) -> Response:
    if isinstance(exc, InvalidValue):
        return _answer(request, 422, str(exc), [{"field": exc.field, "reason": exc.reason}])
    return _answer(request, 404 if isinstance(exc, NotFound) else 400, str(exc))


async def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
    errors = field_problems(exc)
    detail = " ".join(f"{e['field']}: {e['reason']}" for e in errors)
    return _answer(request, 422, detail or _("The request is not valid."), errors)


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    if exc.status_code == 404:
        message = _("There is nothing at this address.")
    elif isinstance(exc.detail, str) and exc.detail != HTTPStatus(exc.status_code).phrase:
        message = exc.detail
    else:
        message = status_title(exc.status_code)
    return _answer(request, exc.status_code, message, headers=exc.headers)


async def _server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    # outside the session and language middleware: no layout, the default language
    message = _("Something went wrong on our side; the error has been logged.")
    if wants_json(request):
        response: Response = problem_response(500, message)
    else:
        page = f"<!doctype html><title>{status_title(500)}</title><p>{escape(message)}</p>"
        response = HTMLResponse(page, status_code=500)
    # answered outside the security-headers middleware too
    response.headers.update({k.decode(): v.decode() for k, v in SECURITY_HEADERS})
    return response
