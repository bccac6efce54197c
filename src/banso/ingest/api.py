"""``POST /api/events``: usage events in batches from the product, appended to the event store.

Each batch is validated whole (every problem reported with its index and field, nothing written
when any is bad), then handed to the event store, which appends the events whose ``event_id`` it
does not hold yet (on any day), so sending the same batch again stores nothing twice. An event
names its account by Banso's id or by the product's own id, looked up among the identities of
the API token's source (``banso users token create --source``). An event time outside the
store's window (``BANSO_EVENT_EARLIEST``, ``BANSO_EVENT_FUTURE_DAYS``) is answered 422 with its
index and field. When another writer holds the store longer than ``BANSO_EVENTS_STORE_WAIT``
seconds, the batch is answered 429 with ``Retry-After`` (nothing stored; send it again).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from banso.config import get_settings
from banso.i18n import _
from banso.ingest.event_batches import MAX_BATCH, EventIn, EventProblems, store_batch
from banso.usage.store import StoreBusy
from banso.users.models import User
from banso.users.tokens import token_source
from banso.web.auth import bearer_token, db_session, require_role
from banso.web.limits import limit_event_posts
from banso.web.problems import problem_response

events_api = APIRouter(prefix="/api", tags=["events"])


class EventBatchIn(BaseModel):
    events: list[EventIn] = Field(max_length=MAX_BATCH)


class EventBatchOut(BaseModel):
    received: int
    stored: int
    """New events written; the rest were already in the store (or repeated in the batch)."""


@events_api.post(
    "/events",
    response_model=EventBatchOut,
    responses={422: {}, 429: {}},
    dependencies=[Depends(limit_event_posts)],
)
def post_events(
    batch: EventBatchIn,
    request: Request,
    user: Annotated[User, Depends(require_role("admin", "ops"))],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> EventBatchOut | JSONResponse:
    """Append a batch of usage events (admin or ops token); idempotent by ``event_id``.

    A batch with a bad event is answered 422 with every problem (``events[3].ts``) and stores
    nothing; more than BANSO_EVENTS_RATE_PER_MINUTE batches a minute from one token, or a store
    busy for longer than BANSO_EVENTS_STORE_WAIT seconds, 429 with ``Retry-After``."""
    token = bearer_token(request)
    source = token_source(session, token) if token else None
    try:
        stored = store_batch(session, batch.events, source, wait=get_settings().events_store_wait)
    except EventProblems as rejected:
        return problem_response(422, _("The batch was not stored."), rejected.problems)
    except StoreBusy:
        return store_busy_response()
    return EventBatchOut(received=len(batch.events), stored=stored)


def store_busy_response() -> JSONResponse:
    return problem_response(
        429, _("The event store is busy; send again shortly."), headers={"Retry-After": "1"}
    )
