"""``POST /api/events``: usage events in batches from the product, appended to the event store.

Each batch is validated whole (every problem reported with its index and field, nothing written
when any is bad), then handed to the event store, which appends the events whose ``event_id`` it
does not hold yet (on any day), so sending the same batch again stores nothing twice. An event
time outside the store's window (``BANSO_EVENT_EARLIEST``, ``BANSO_EVENT_FUTURE_DAYS``) is refused
by the store and answered 422 with its index and field.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import pyarrow as pa
from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.config import get_settings
from banso.i18n import _
from banso.usage.store import EVENT_SCHEMA, EventRejected, append_events, window_reason
from banso.users.models import User
from banso.web.auth import db_session, require_role
from banso.web.limits import limit_event_posts
from banso.web.params import MAX_ID, check_timestamp
from banso.web.problems import problem_response

events_api = APIRouter(prefix="/api", tags=["events"])

MAX_BATCH = 10_000
"""Events per request; larger uploads go through ``banso import events``."""


class EventIn(BaseModel):
    event_id: str = Field(
        min_length=1, max_length=200, description="Unique id; repeats are ignored."
    )
    account_id: int = Field(ge=1, le=MAX_ID, description="Banso's account id.")
    user_id: str | None = Field(default=None, max_length=300)
    event: str = Field(min_length=1, max_length=200, description="What the user did, e.g. login.")
    ts: datetime = Field(
        description="When it happened, with a time zone (ISO 8601), from BANSO_EVENT_EARLIEST "
        "(1990-01-01) to BANSO_EVENT_FUTURE_DAYS (7) days from now."
    )
    properties: dict[str, Any] | None = None


class EventBatchIn(BaseModel):
    events: list[EventIn] = Field(max_length=MAX_BATCH)


class EventBatchOut(BaseModel):
    received: int
    stored: int
    """New events written; the rest were already in the store (or repeated in the batch)."""


@events_api.post(
    "/events",
    response_model=EventBatchOut,
    responses={422: {}},
    dependencies=[Depends(limit_event_posts)],
)
def post_events(
    batch: EventBatchIn,
    user: Annotated[User, Depends(require_role("admin", "ops"))],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> EventBatchOut | JSONResponse:
    """Append a batch of usage events (admin or ops token); idempotent by ``event_id``.

    A batch with a bad event is answered 422 with every problem (``events[3].ts``) and stores
    nothing; more than BANSO_EVENTS_RATE_PER_MINUTE batches a minute from one token, 429."""
    problems = batch_problems(session, batch.events)
    if problems:
        return problem_response(422, _("The batch was not stored."), problems)
    try:
        stored = store_new_events(batch.events)
    except EventRejected as error:
        problem = {"field": f"events[{error.index}].{error.field}", "reason": error.reason}
        return problem_response(422, _("The batch was not stored."), [problem])
    return EventBatchOut(received=len(batch.events), stored=stored)


def batch_problems(session: Session, events: list[EventIn]) -> list[dict[str, str]]:
    """Every reason the batch cannot be stored, as ``{field: events[i].name, reason}``."""
    problems: list[dict[str, str]] = []
    ids = {e.account_id for e in events}
    known = set(session.scalars(select(Account.id).where(Account.id.in_(ids)))) if ids else set()
    settings = get_settings()
    latest = datetime.now(UTC) + timedelta(days=settings.event_future_days)
    for index, e in enumerate(events):
        if e.account_id not in known:
            reason = _("There is no account with id {id}.", id=e.account_id)
            problems.append({"field": f"events[{index}].account_id", "reason": reason})
        if e.ts.tzinfo is None:
            reason = _("The time needs a time zone, such as 2026-04-01T09:30:00+09:00.")
            problems.append({"field": f"events[{index}].ts", "reason": reason})
            continue
        try:
            check_timestamp(e.ts, latest=latest, earliest_day=settings.event_earliest)
        except ValueError as out_of_range:
            problems.append({"field": f"events[{index}].ts", "reason": str(out_of_range)})
    return problems


def store_new_events(events: list[EventIn]) -> int:
    """Append the events to the store; returns how many were new (the store drops repeats)."""
    table = pa.Table.from_pylist(
        [
            {
                "event_id": e.event_id,
                "account_id": e.account_id,
                "user_id": e.user_id,
                "event": e.event,
                "ts": _utc(index, e.ts),
                "properties": None
                if e.properties is None
                else json.dumps(e.properties, ensure_ascii=False, sort_keys=True),
            }
            for index, e in enumerate(events)
        ],
        schema=EVENT_SCHEMA,
    )
    return append_events(table)


def _utc(index: int, ts: datetime) -> datetime:
    """``ts`` in UTC; a time at the edge of the calendar (0001-01-01T00:00+09:00) has no UTC
    instant and is outside the store's window anyway."""
    try:
        return ts.astimezone(UTC)
    except OverflowError:
        raise EventRejected(index, "ts", window_reason()) from None
