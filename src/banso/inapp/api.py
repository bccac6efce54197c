"""The public endpoints the in-app snippet calls from the customer's product, and the snippet.

Each call carries a site's public key (``site_key``) and comes from a page of one of the site's
allowed origins (the browser's ``Origin`` header); anything else is answered 403 without CORS
headers, so the browser gives the page nothing. The key opens only these three operations: the
site's own events (accounts named by the product's ids in the site's identity source, never
Banso's ids), the messages meant for one user, and that user's NPS answer. Calls are limited
per key and client address (``BANSO_INAPP_RATE_PER_MINUTE``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from banso.config import get_settings
from banso.errors import InvalidValue
from banso.i18n import _
from banso.inapp import service
from banso.inapp.models import InappSite
from banso.ingest.event_batches import MAX_BATCH, EventIn, EventProblems, store_batch
from banso.usage.store import StoreBusy
from banso.web.auth import client_address, db_session
from banso.web.limits import RateLimit
from banso.web.problems import problem_response

inapp_api = APIRouter(prefix="/api/inapp", tags=["in-app"])
snippet_route = APIRouter(include_in_schema=False)

SNIPPET = Path(__file__).parent / "static" / "banso.js"
MAX_SNIPPET_BATCH = 500
"""Events per batch from a browser; the snippet sends far fewer."""
_calls = RateLimit()
_CORS_METHODS = "GET, POST, OPTIONS"
SiteKey = Annotated[str, Query(min_length=1, max_length=64, description="The site's public key.")]


class InappEventBatchIn(BaseModel):
    events: list[EventIn] = Field(max_length=min(MAX_SNIPPET_BATCH, MAX_BATCH))


class InappEventsOut(BaseModel):
    received: int
    stored: int


class ShownMessageOut(BaseModel):
    id: int
    kind: str
    title: str
    body: str


class MessagesOut(BaseModel):
    messages: list[ShownMessageOut]


class NpsAnswerIn(BaseModel):
    prompt: int = Field(ge=1, le=2**31 - 1, description="The NPS prompt's message id.")
    account: str = Field(min_length=1, max_length=300, description="The product's account id.")
    user: str = Field(min_length=1, max_length=300, description="The product's user id.")
    score: int = Field(ge=0, le=10)
    comment: str | None = Field(default=None, max_length=4000)


class NpsAnswerOut(BaseModel):
    stored: bool
    """False: this user had answered this prompt already (the first answer stays)."""


@snippet_route.get("/inapp/banso.js")
def snippet() -> FileResponse:
    """The script a product embeds; any origin may load it (it holds no secret)."""
    return FileResponse(
        SNIPPET,
        media_type="text/javascript; charset=utf-8",
        headers={"Cross-Origin-Resource-Policy": "cross-origin", "Cache-Control": "max-age=300"},
    )


@inapp_api.options("/{operation}", include_in_schema=False)
def preflight(
    operation: str,
    request: Request,
    session: Annotated[Session, Depends(db_session, scope="function")],
    site_key: SiteKey,
) -> Response:
    """The browser's CORS preflight: allowed only for the site's origins."""
    refused = _refusal(request, session, site_key)
    if isinstance(refused, JSONResponse):
        return refused
    headers = _cors(request) | {
        "Access-Control-Allow-Methods": _CORS_METHODS,
        "Access-Control-Allow-Headers": "content-type",
        "Access-Control-Max-Age": "600",
    }
    return Response(status_code=204, headers=headers)


@inapp_api.get("/messages", response_model=MessagesOut, responses={403: {}, 429: {}})
def messages(
    request: Request,
    session: Annotated[Session, Depends(db_session, scope="function")],
    site_key: SiteKey,
    account: Annotated[str, Query(min_length=1, max_length=300)],
    user: Annotated[str, Query(min_length=1, max_length=300)],
    lang: Annotated[str, Query(pattern="^(ja|en)$")] = "en",
) -> MessagesOut | JSONResponse:
    """The announcements and NPS prompts shown to this user of the product now."""
    site = _refusal(request, session, site_key)
    if isinstance(site, JSONResponse):
        return site
    shown = service.messages_for(session, site, account, user, lang)
    body = MessagesOut(messages=[ShownMessageOut(**m.__dict__) for m in shown])
    return JSONResponse(body.model_dump(), headers=_cors(request))


@inapp_api.post("/events", response_model=InappEventsOut, responses={403: {}, 429: {}})
def events(
    batch: InappEventBatchIn,
    request: Request,
    session: Annotated[Session, Depends(db_session, scope="function")],
    site_key: SiteKey,
) -> InappEventsOut | JSONResponse:
    """Usage events of the site's product, named by the product's account and user ids;
    idempotent by ``event_id`` like ``POST /api/events``."""
    site = _refusal(request, session, site_key)
    if isinstance(site, JSONResponse):
        return site
    named = [i for i, e in enumerate(batch.events) if e.account_id is not None]
    if named:
        reason = _("A site key names accounts by the product's ids (account), not account_id.")
        problems = [{"field": f"events[{i}].account_id", "reason": reason} for i in named]
        return problem_response(422, _("The batch was not stored."), problems, _cors(request))
    try:
        stored = store_batch(
            session, batch.events, site.source, wait=get_settings().events_store_wait
        )
    except EventProblems as rejected:
        return problem_response(
            422, _("The batch was not stored."), rejected.problems, _cors(request)
        )
    except StoreBusy:
        headers = _cors(request) | {"Retry-After": "1"}
        return problem_response(429, _("The event store is busy; send again shortly."), (), headers)
    body = InappEventsOut(received=len(batch.events), stored=stored)
    return JSONResponse(body.model_dump(), headers=_cors(request))


@inapp_api.post("/nps", response_model=NpsAnswerOut, responses={403: {}, 429: {}})
def nps(
    answer: NpsAnswerIn,
    request: Request,
    session: Annotated[Session, Depends(db_session, scope="function")],
    site_key: SiteKey,
) -> NpsAnswerOut | JSONResponse:
    """The user's answer to an NPS prompt of the site; kept once per user per prompt."""
    site = _refusal(request, session, site_key)
    if isinstance(site, JSONResponse):
        return site
    try:
        stored = service.answer_nps(
            session, site, answer.prompt, answer.account, answer.user, answer.score, answer.comment
        )
    except InvalidValue as bad:
        problems = [{"field": bad.field, "reason": bad.reason}]
        return problem_response(422, bad.reason, problems, _cors(request))
    return JSONResponse(NpsAnswerOut(stored=stored).model_dump(), headers=_cors(request))


def _refusal(request: Request, session: Session, site_key: str) -> InappSite | JSONResponse:
    """The site, or the 403/429 answer: unknown key, origin not allowed, too many calls."""
    try:
        site = service.site_for(session, site_key, request.headers.get("origin"))
    except service.SiteRefused as refused:
        return problem_response(403, str(refused))
    per_minute = get_settings().inapp_rate_per_minute
    if per_minute > 0:
        wait = _calls.retry_after(f"{site.site_key}:{client_address(request) or '-'}", per_minute)
        if wait:
            detail = _("Too many requests with this site key; send again in {s} seconds.", s=wait)
            return problem_response(429, detail, (), _cors(request) | {"Retry-After": str(wait)})
    return site


def _cors(request: Request) -> dict[str, str]:
    """Headers letting the (already checked) origin read the answer; no cookies are allowed."""
    return {
        "Access-Control-Allow-Origin": request.headers.get("origin", ""),
        "Vary": "Origin",
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
