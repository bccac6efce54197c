"""When two accounts merge, the merged one's feedback asks and advocacy items move to the kept
one (the asks keep their contact, which the merge moves too; ranking counts the kept account
once). Registered with ``accounts.merging`` through the ``banso.account_merge`` entry point."""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.orm import Session

from banso.accounts.merging import merge_step, move_rows
from banso.feedback.models import AdvocacyItem, FeedbackAsk


@merge_step("feedback_asks")
def move_feedback_asks(session: Session, keep_id: int, other_id: int) -> int:
    asks: Table = FeedbackAsk.__table__  # type: ignore[assignment]
    return move_rows(session, asks, keep_id, other_id)


@merge_step("advocacy_items")
def move_advocacy_items(session: Session, keep_id: int, other_id: int) -> int:
    items: Table = AdvocacyItem.__table__  # type: ignore[assignment]
    return move_rows(session, items, keep_id, other_id)
