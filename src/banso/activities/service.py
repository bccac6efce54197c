"""Activities logged in Banso itself: a note, call, meeting or e-mail on an account's timeline.

Plain functions over a ``Session``; the caller owns the transaction.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from banso.activities.models import Activity
from banso.errors import BansoError
from banso.i18n import _

WEB_SOURCE = "banso"
"""``source`` of activities logged in Banso itself."""
LOGGABLE_KINDS = ("note", "call", "meeting", "email")


def log_activity(
    session: Session,
    account_id: int,
    *,
    kind: str,
    summary: str,
    member_id: int | None,
    occurred_at: datetime | None = None,
) -> Activity:
    """Record a note, call, meeting or e-mail on the account's timeline; the caller has checked
    that the account exists (and who may write on it)."""
    if kind not in LOGGABLE_KINDS:
        raise BansoError(
            _("Activity kind must be one of: {choices}.", choices=", ".join(LOGGABLE_KINDS))
        )
    summary = summary.strip()
    if not summary:
        raise BansoError(_("Write what happened before saving."))
    activity = Activity(
        account_id=account_id,
        member_id=member_id,
        source=WEB_SOURCE,
        external_id=f"web-{uuid.uuid4().hex}",
        kind=kind,
        occurred_at=occurred_at or datetime.now(UTC),
        summary=summary,
    )
    session.add(activity)
    session.flush()
    return activity
