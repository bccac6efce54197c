"""When two accounts merge, the merged one's churn reasons move to the kept one; for a month
both have a reason for, the kept account's stands (the other's are dropped). Registered with
``accounts.merging`` through the ``banso.account_merge`` entry point."""

from __future__ import annotations

from sqlalchemy import Table, delete, exists
from sqlalchemy.orm import Session

from banso.accounts.merging import merge_step, move_rows
from banso.retention.models import ChurnReason


@merge_step("churn_reasons")
def move_churn_reasons(session: Session, keep_id: int, other_id: int) -> int:
    reasons: Table = ChurnReason.__table__  # type: ignore[assignment]
    kept = reasons.alias("kept")
    session.execute(
        delete(reasons).where(
            reasons.c.account_id == other_id,
            exists().where(kept.c.account_id == keep_id, kept.c.month == reasons.c.month),
        )
    )
    return move_rows(session, reasons, keep_id, other_id)
