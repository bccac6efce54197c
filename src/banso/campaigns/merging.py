"""When two accounts merge, the campaign emails written to the merged account's contacts count
for the kept one (the contacts move with the merge). Registered with ``accounts.merging``
through the ``banso.account_merge`` entry point."""

from __future__ import annotations

from sqlalchemy.orm import Session

from banso.accounts.merging import merge_step, move_rows
from banso.campaigns.models import CampaignMessage


@merge_step("campaign_messages")
def move_campaign_messages(session: Session, keep_id: int, other_id: int) -> int:
    return move_rows(session, CampaignMessage.__table__, keep_id, other_id)  # type: ignore[arg-type]
