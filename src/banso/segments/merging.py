"""When two accounts merge, the kept account's segment history stands (the merged account's
intervals are dropped: the next evaluation places the kept one, now with both MRRs) and the
merged account's touch overrides move to the kept one. Registered with ``accounts.merging``
through the ``banso.account_merge`` entry point."""

from __future__ import annotations

from sqlalchemy import Table, delete
from sqlalchemy.orm import Session

from banso.accounts.merging import merge_step, move_rows
from banso.segments.models import SegmentMembership, TouchOverride


@merge_step("segment_memberships")
def drop_memberships(session: Session, keep_id: int, other_id: int) -> int:
    table: Table = SegmentMembership.__table__  # type: ignore[assignment]
    return session.execute(delete(table).where(table.c.account_id == other_id)).rowcount


@merge_step("touch_overrides")
def move_overrides(session: Session, keep_id: int, other_id: int) -> int:
    return move_rows(session, TouchOverride.__table__, keep_id, other_id)  # type: ignore[arg-type]
