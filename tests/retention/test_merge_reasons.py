"""Merging two accounts moves the merged one's churn reasons; the kept account's month stands."""

from __future__ import annotations

from sqlalchemy import select

from banso import schema
from banso.accounts.models import Account
from banso.db import session_scope
from banso.flows.merge import merge_accounts
from banso.retention.models import ChurnReason


def test_merge_moves_churn_reasons(any_db: str) -> None:
    schema.upgrade()
    with session_scope() as s:
        s.add_all([Account(id=1, name="Kept", normalized_name="kept"),
                   Account(id=2, name="Other", normalized_name="other")])  # fmt: skip
        s.flush()
        s.add_all(
            [
                ChurnReason(account_id=1, month="2026-03", code="roi", recorded_by="a"),
                ChurnReason(account_id=2, month="2026-03", code="other", recorded_by="b"),
                ChurnReason(account_id=2, month="2026-04", code="graduation", recorded_by="b"),
            ]
        )
    with session_scope() as s:
        merge_accounts(s, 1, 2)
    with session_scope() as s:
        rows = s.execute(
            select(ChurnReason.account_id, ChurnReason.month, ChurnReason.code).order_by(
                ChurnReason.month
            )
        ).all()
    assert [tuple(r) for r in rows] == [(1, "2026-03", "roi"), (1, "2026-04", "graduation")]
