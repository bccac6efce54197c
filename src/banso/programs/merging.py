"""When two accounts merge, the merged one's enrolments and attendance move to the kept one; a
company-level row (no contact) for a session the kept account already has is dropped, so a
session never counts one company twice. Registered with ``accounts.merging`` through the
``banso.account_merge`` entry point."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from banso.accounts.merging import merge_step, move_rows
from banso.attendance.models import ProgramEnrolment


@merge_step("program_enrolments")
def move_enrolments(session: Session, keep_id: int, other_id: int) -> int:
    E = ProgramEnrolment
    kept_sessions = select(E.session_id).where(E.account_id == keep_id, E.contact_id.is_(None))
    session.execute(
        delete(E).where(
            E.account_id == other_id, E.contact_id.is_(None), E.session_id.in_(kept_sessions)
        )
    )
    return move_rows(session, E.__table__, keep_id, other_id)  # type: ignore[arg-type]
