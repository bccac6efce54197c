"""When two accounts merge, the merged account's survey invitations move to the kept one (their
answers, survey responses, are moved by ``flows.merge``). Registered with ``accounts.merging``
through the ``banso.account_merge`` entry point."""

from __future__ import annotations

from sqlalchemy.orm import Session

from banso.accounts.merging import merge_step, move_rows
from banso.voc.models import SurveyInvitation


@merge_step("survey_invitations")
def move_invitations(session: Session, keep_id: int, other_id: int) -> int:
    return move_rows(session, SurveyInvitation.__table__, keep_id, other_id)  # type: ignore[arg-type]
