"""When two accounts merge, the CSM pulses and overrides of the merged one move to the kept one.
(Its ``health_current`` row is derived: it goes with the account, and the next scoring gives the
kept account its own.) Registered with ``accounts.merging`` through the ``banso.account_merge``
entry point."""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.orm import Session

from banso.accounts.merging import merge_step, move_rows
from banso.health.models import CsmPulse, HealthOverride


@merge_step("csm_pulses")
def move_pulses(session: Session, keep_id: int, other_id: int) -> int:
    table: Table = CsmPulse.__table__  # type: ignore[assignment]
    return move_rows(session, table, keep_id, other_id)


@merge_step("health_overrides")
def move_overrides(session: Session, keep_id: int, other_id: int) -> int:
    table: Table = HealthOverride.__table__  # type: ignore[assignment]
    return move_rows(session, table, keep_id, other_id)
