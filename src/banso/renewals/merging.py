"""When two accounts merge, the renewal forecasts of the merged one (and their history) move to
the kept one. Registered with ``accounts.merging`` through the ``banso.account_merge`` entry
point."""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.orm import Session

from banso.accounts.merging import merge_step, move_rows
from banso.renewals.models import RenewalForecast


@merge_step("renewal_forecasts")
def move_forecasts(session: Session, keep_id: int, other_id: int) -> int:
    table: Table = RenewalForecast.__table__  # type: ignore[assignment]
    return move_rows(session, table, keep_id, other_id)
