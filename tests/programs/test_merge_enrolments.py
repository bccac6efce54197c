"""Merging two accounts moves the merged one's attendance to the kept one."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from banso import schema
from banso.accounts.models import Account
from banso.attendance.models import ProgramEnrolment, ProgramSession
from banso.db import session_scope
from banso.flows.merge import merge_accounts


def test_enrolments_follow_the_kept_account_and_a_company_counts_once_per_session():
    schema.upgrade()
    with session_scope() as s:
        for i in (1, 2):
            s.add(Account(id=i, name=f"A{i}", normalized_name=f"a{i}"))
        for sid in (1, 2):
            s.add(ProgramSession(id=sid, program="user-meetup",
                                 starts_at=datetime(2026, 6, sid, 6, tzinfo=UTC)))  # fmt: skip
        s.flush()
        s.add_all([
            ProgramEnrolment(session_id=1, account_id=1, status="attended"),
            ProgramEnrolment(session_id=1, account_id=2, status="no_show"),  # same session
            ProgramEnrolment(session_id=2, account_id=2, status="attended"),
        ])  # fmt: skip
    with session_scope() as s:
        merge_accounts(s, 1, 2)
    with session_scope() as s:
        e = ProgramEnrolment
        rows = s.execute(select(e.session_id, e.account_id, e.status).order_by(e.session_id)).all()
    assert [tuple(r) for r in rows] == [(1, 1, "attended"), (2, 1, "attended")]
