"""When two accounts merge, the merged one's success objectives (with their history) move to the
kept one; its handoff moves too unless the kept account has its own, which stands. Registered
with ``accounts.merging`` through the ``banso.account_merge`` entry point."""

from __future__ import annotations

from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session

from banso.accounts.merging import merge_step, move_rows
from banso.success.models import Handoff, SuccessObjective


@merge_step("success_plans")
def move_success_plans(session: Session, keep_id: int, other_id: int) -> int:
    objectives: Table = SuccessObjective.__table__  # type: ignore[assignment]
    handoffs: Table = Handoff.__table__  # type: ignore[assignment]
    if session.scalar(select(handoffs.c.id).where(handoffs.c.account_id == keep_id)) is not None:
        session.execute(delete(handoffs).where(handoffs.c.account_id == other_id))
    return move_rows(session, objectives, keep_id, other_id) + move_rows(
        session, handoffs, keep_id, other_id
    )
