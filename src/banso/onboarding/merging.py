"""When two accounts merge, the merged one's onboarding milestones move to the kept one if it
has no programme of its own; otherwise the kept account's programme stands and the other's
milestones go. Registered with ``accounts.merging`` through the ``banso.account_merge`` entry
point."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from banso.accounts.merging import merge_step, move_rows
from banso.onboarding.models import OnboardingMilestone


@merge_step("onboarding_milestones")
def move_milestones(session: Session, keep_id: int, other_id: int) -> int:
    M = OnboardingMilestone
    if session.scalar(select(M.id).where(M.account_id == keep_id).limit(1)) is None:
        return move_rows(session, M.__table__, keep_id, other_id)  # type: ignore[arg-type]
    session.execute(delete(M).where(M.account_id == other_id))
    return 0
