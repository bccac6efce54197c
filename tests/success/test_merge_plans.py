"""Merging two accounts moves the merged one's objectives (with their history); its handoff
moves only when the kept account has none (the kept account's handoff stands)."""

from __future__ import annotations

from sqlalchemy import select

from banso import schema
from banso.accounts.models import Account
from banso.db import session_scope
from banso.flows.merge import merge_accounts
from banso.success import handoff, service
from banso.success.models import Handoff, ObjectiveEntry, SuccessObjective


def test_merge_moves_objectives_and_keeps_the_kept_handoff(any_db: str) -> None:
    schema.upgrade()
    with session_scope() as s:
        s.add_all([Account(id=1, name="Kept", normalized_name="kept"),
                   Account(id=2, name="Other", normalized_name="other"),
                   Account(id=3, name="Third", normalized_name="third")])  # fmt: skip
        s.flush()
        service.add_objective(s, 2, "Close in 3 days", kpi="Days", baseline=8, target=3)
        handoff.set_handoff(s, 1, promised_outcome="Kept's promise")
        handoff.set_handoff(s, 2, promised_outcome="Other's promise")
        handoff.set_handoff(s, 3, promised_outcome="Third's promise")
    with session_scope() as s:
        merge_accounts(s, 1, 2)
    with session_scope() as s:
        assert s.scalars(select(SuccessObjective.account_id)).all() == [1]
        assert len(s.scalars(select(ObjectiveEntry)).all()) == 1
        assert sorted(s.execute(select(Handoff.account_id, Handoff.promised_outcome)).all()) == [
            (1, "Kept's promise"), (3, "Third's promise")
        ]  # fmt: skip
    with session_scope() as s:
        s.add(Account(id=4, name="Fourth", normalized_name="fourth"))
        s.flush()
        merge_accounts(s, 4, 3)  # the kept account has no handoff: the other's moves
    with session_scope() as s:
        assert s.scalar(select(Handoff.promised_outcome).where(Handoff.account_id == 4)) == (
            "Third's promise"
        )
