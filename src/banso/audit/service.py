"""Record and read audit entries.

``record`` is called by any domain inside the caller's transaction, so an action and its entry
are committed (or rolled back) together. Who acts comes from ``acting`` (set per web request by
``web.auth``), else the operating-system user running the command.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.audit.models import AuditEntry
from banso.db import utcnow

ACTIONS = (
    "sign_in.success",
    "sign_in.failure",
    "sign_in.throttled",
    "sign_out",
    "user.create",
    "user.password",
    "user.role",
    "token.create",
    "token.revoke",
    "data.import",
    "accounts.merge",
    "cta.create",
    "cta.update",
    "cta.task",
    "cta.comment",
    "cta.close",
    "renewal.forecast",
    "churn_reason.record",
    "opportunity.create",
    "opportunity.update",
    "opportunity.close",
    "team.qualitative",
    "team.assign",
    "account.touch",
    "account.touch_override",
    "account.touch_override_clear",
    "account.triage",
    "connection.add",
    "connection.remove",
    "connection.sync",
    "connection.write_back",
    "campaign.create",
    "survey.send",
    "feedback.create",
    "feedback.ask",
    "feedback.merge",
    "feedback.status",
    "feedback.import_tickets",
    "advocacy.create",
    "advocacy.status",
    "program.session_add",
    "program.attendance",
    "inapp.site_add",
    "inapp.site_disable",
    "inapp.message_add",
    "inapp.message_end",
)


@dataclass
class Actor:
    """Who the current web request acts as; filled in once the request is authenticated."""

    name: str | None = None
    address: str | None = None


_current: ContextVar[Actor | None] = ContextVar("banso_audit_actor", default=None)


@contextmanager
def acting(actor: Actor) -> Iterator[Actor]:
    """Attribute entries recorded inside the block to ``actor`` (one web request).

    The same ``Actor`` object is seen by the thread-pool copies of the context that FastAPI
    runs dependencies and routes in, so a dependency can fill in the name for the route.
    """
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)


def current_actor() -> Actor:
    actor = _current.get()
    if actor is not None:
        return actor
    return Actor(name=f"cli:{getpass.getuser()}")


def record(
    session: Session,
    action: str,
    target: str = "",
    *,
    actor: str | None = None,
    **detail: Any,
) -> AuditEntry:
    """Add one audit entry for ``action`` on ``target``; ``detail`` must be JSON-serialisable."""
    current = current_actor()
    entry = AuditEntry(
        at=utcnow(),
        actor=(actor or current.name or "anonymous")[:320],
        action=action,
        target=target[:400],
        detail=json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str),
        address=current.address,
    )
    session.add(entry)
    session.flush()
    return entry


def list_entries(
    session: Session,
    *,
    since: datetime | None = None,
    actor: str | None = None,
    action: str | None = None,
    limit: int = 500,
) -> list[AuditEntry]:
    """Newest first; ``action`` matches exactly or as a prefix ending in a dot (``sign_in.``)."""
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if actor:
        query = query.where(AuditEntry.actor == actor.strip())
    if action:
        query = query.where(
            AuditEntry.action.startswith(action)
            if action.endswith(".")
            else (AuditEntry.action == action)
        )
    return list(session.scalars(query))


def as_dict(entry: AuditEntry) -> dict[str, Any]:
    """An entry as plain JSON values; ``at`` in ISO 8601 UTC."""
    at = entry.at if entry.at.tzinfo else entry.at.replace(tzinfo=UTC)
    return {
        "id": entry.id,
        "at": at.isoformat(timespec="seconds"),
        "actor": entry.actor,
        "action": entry.action,
        "target": entry.target,
        "detail": json.loads(entry.detail),
        "address": entry.address,
    }
