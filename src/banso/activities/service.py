"""Activities logged in Banso itself: a note, call, meeting or e-mail on an account's timeline.

Plain functions over a ``Session``; the caller owns the transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import UTC, datetime

from sqlalchemy import func, select
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


def last_touches(session: Session, account_ids: Collection[int]) -> dict[int, datetime]:
    """Each account's last touch: when its newest activity (meeting, call, e-mail, note,
    onboarding session; from any source) took place, up to now. Accounts never touched are
    absent. One step down the ``(account_id, occurred_at)`` index per account."""
    if not account_ids:
        return {}
    rows = session.execute(
        select(Activity.account_id, func.max(Activity.occurred_at))
        .where(
            Activity.account_id.in_(list(account_ids)),
            Activity.occurred_at <= datetime.now(UTC),
        )
        .group_by(Activity.account_id)
    ).all()
    return {account_id: _aware(at) for account_id, at in rows if at is not None}


def _aware(value: datetime | str) -> datetime:
    """SQLite gives ``max()`` of a timestamp column back as text, naive UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
