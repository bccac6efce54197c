"""Batches of usage events from the product (the API and the in-app snippet) into the store.

A batch is checked whole: every event names its account either by Banso's id (``account_id``)
or by the product's own id (``account``), which is looked up among the account identities of
the caller's source (the API token's ``source``, the in-app site's). Every problem is reported
with the event's index and field and nothing is stored when any is found. The store then keeps
only the ``event_id`` s it does not hold yet, so a batch sent twice is stored once. ``wait``
bounds how long a batch waits for another writer of the store (``StoreBusy``: the API answers
429 with ``Retry-After``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.models import Account, AccountIdentity
from banso.i18n import _
from banso.usage.store import (
    EVENT_SCHEMA,
    EventRejected,
    append_events,
    outside_window,
    refuse_writes,
    time_window,
)

MAX_BATCH = 10_000
"""Events per request; larger uploads go through ``banso import events``."""
MAX_ACCOUNT_ID = 2**63 - 1


class EventIn(BaseModel):
    event_id: str = Field(
        min_length=1, max_length=200, description="Unique id; repeats are ignored."
    )
    account_id: int | None = Field(
        default=None, ge=1, le=MAX_ACCOUNT_ID,
        description="Banso's account id; or give `account` instead.",
    )  # fmt: skip
    account: str | None = Field(
        default=None, min_length=1, max_length=300,
        description="The product's own account id, looked up among the account identities of "
        "the API token's source.",
    )  # fmt: skip
    user_id: str | None = Field(
        default=None, max_length=300, description="The product's own user id."
    )
    event: str = Field(min_length=1, max_length=200, description="What the user did, e.g. login.")
    ts: datetime = Field(
        description="When it happened, with a time zone (ISO 8601), from BANSO_EVENT_EARLIEST "
        "(1990-01-01) to BANSO_EVENT_FUTURE_DAYS (7) days from now."
    )
    properties: dict[str, Any] | None = None


class EventProblems(Exception):
    """The batch was not stored: every problem as ``{field: events[i].name, reason}``."""

    def __init__(self, problems: list[dict[str, str]]) -> None:
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


def store_batch(
    session: Session, events: list[EventIn], source: str | None, wait: float | None = None
) -> int:
    """Check the batch, then append its new events; returns how many were new.

    Raises ``EventProblems`` (nothing stored), ``usage.store.StoreBusy``, or
    ``usage.sources.ExternalEventsOwned`` when events.yaml names an external source."""
    refuse_writes()
    accounts, times = _resolve_good_batch(session, events, source)
    if accounts is None or times is None:
        accounts, problems = resolve_batch(session, events, source)
        if problems:
            raise EventProblems(problems)
        times = _utc_times(events)
    try:
        return append_events(_table(events, accounts, times), wait=wait)
    except EventRejected as error:
        raise EventProblems(
            [{"field": f"events[{error.index}].{error.field}", "reason": error.reason}]
        ) from None


def resolve_batch(
    session: Session, events: list[EventIn], source: str | None
) -> tuple[list[int], list[dict[str, str]]]:
    """Banso's account id for each event, and every reason the batch cannot be stored."""
    problems: list[dict[str, str]] = []
    by_ref = _identities(session, {e.account for e in events if e.account is not None}, source)
    ids = {e.account_id for e in events if e.account_id is not None}
    known = set(session.scalars(select(Account.id).where(Account.id.in_(ids)))) if ids else set()
    earliest, latest = time_window()
    accounts: list[int] = []
    for index, e in enumerate(events):
        account = _account_of(index, e, known, by_ref, source, problems)
        accounts.append(account or 0)
        reason = _time_problem(e.ts, earliest, latest)
        if reason:
            problems.append({"field": f"events[{index}].ts", "reason": reason})
    return accounts, problems


def _resolve_good_batch(
    session: Session, events: list[EventIn], source: str | None
) -> tuple[list[int] | None, pa.Array | None]:
    """``resolve_batch`` for a batch without problems, a column at a time (the API's usual
    case: ten thousand events, each checked and converted once, no per-event calls); the
    accounts and the times as Arrow UTC timestamps. ``(None, None)`` as soon as anything is
    off: ``resolve_batch`` then finds and words every problem."""
    refs = [e.account for e in events]
    ids = [e.account_id for e in events]
    if all(ref is not None for ref in refs) and all(i is None for i in ids):
        if source is None:
            return None, None
        by_ref = _identities(session, set(refs), source)  # type: ignore[arg-type]
        accounts = [by_ref.get(ref, 0) for ref in refs]  # type: ignore[arg-type]
    elif all(i is not None for i in ids) and all(ref is None for ref in refs):
        known = set(session.scalars(select(Account.id).where(Account.id.in_(set(ids)))))
        accounts = [i if i in known else 0 for i in ids]  # type: ignore[misc]
    else:
        return None, None  # mixed: the per-event checks sort it out
    if 0 in accounts:
        return None, None
    stamps = [e.ts for e in events]
    if any(ts.tzinfo is None for ts in stamps):
        return None, None
    try:
        times = pa.array(stamps, EVENT_SCHEMA.field("ts").type)
    except (pa.ArrowException, OverflowError, ValueError):
        return None, None
    if outside_window(times):
        return None, None
    return accounts, times


def _account_of(
    index: int,
    e: EventIn,
    known: set[int],
    by_ref: dict[str, int],
    source: str | None,
    problems: list[dict[str, str]],
) -> int | None:
    if (e.account_id is None) == (e.account is None):
        reason = _("Give either account_id (Banso's id) or account (the product's id).")
        problems.append({"field": f"events[{index}].account", "reason": reason})
        return None
    if e.account_id is not None:
        if e.account_id not in known:
            reason = _("There is no account with id {id}.", id=e.account_id)
            problems.append({"field": f"events[{index}].account_id", "reason": reason})
            return None
        return e.account_id
    if source is None:
        reason = _(
            "This credential names no identity source, so only account_id can be used; "
            "create the API token with --source."
        )
        problems.append({"field": f"events[{index}].account", "reason": reason})
        return None
    found = by_ref.get(e.account or "")
    if found is None:
        reason = _("No account has the id {ref} in source {source}.", ref=e.account, source=source)
        problems.append({"field": f"events[{index}].account", "reason": reason})
    return found


def _identities(session: Session, refs: set[str], source: str | None) -> dict[str, int]:
    """The product's account ids of ``source`` that identities map to Banso accounts."""
    if not refs or source is None:
        return {}
    found: dict[str, int] = {}
    chosen = sorted(refs)
    for start in range(0, len(chosen), 5_000):  # bounded IN lists on both databases
        part = chosen[start : start + 5_000]
        rows = session.execute(
            select(AccountIdentity.external_id, AccountIdentity.account_id).where(
                AccountIdentity.source == source, AccountIdentity.external_id.in_(part)
            )
        )
        found.update({ref: account for ref, account in rows})
    return found


def _time_problem(ts: datetime, earliest: datetime, latest: datetime) -> str | None:
    if ts.tzinfo is None:
        return _("The time needs a time zone, such as 2026-04-01T09:30:00+09:00.")
    try:
        utc = ts.astimezone(UTC)
    except OverflowError:
        utc = None  # the edge of the calendar (0001-01-01T00:00+09:00) has no UTC instant
    if utc is None or not (earliest <= utc < latest):
        return _(
            "Give a time from {first} to {last}.",
            first=earliest.isoformat(),
            last=latest.astimezone(UTC).isoformat(timespec="seconds"),
        )
    return None


def _utc_times(events: list[EventIn]) -> pa.Array:
    """The events' times as Arrow UTC timestamps (Arrow converts each offset to UTC)."""
    return pa.array([e.ts for e in events], EVENT_SCHEMA.field("ts").type)


def _table(events: list[EventIn], accounts: list[int], times: pa.Array) -> pa.Table:
    properties = [e.properties for e in events]
    return pa.table(
        {
            "event_id": pa.array([e.event_id for e in events], pa.string()),
            "account_id": pa.array(accounts, pa.int64()),
            "user_id": pa.array([e.user_id for e in events], pa.string()),
            "event": pa.array([e.event for e in events], pa.string()),
            "ts": times,
            "properties": pa.array(
                [
                    None if p is None else json.dumps(p, ensure_ascii=False, sort_keys=True)
                    for p in properties
                ]
                if any(p is not None for p in properties)
                else [None] * len(properties),
                pa.string(),
            ),
        },
        schema=EVENT_SCHEMA,
    )
