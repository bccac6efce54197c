"""Merging two accounts moves the work later domains keep per account, without conflicts."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime

from sqlalchemy import func, select

from banso import schema
from banso.accounts.models import Account, AccountMerge
from banso.activities.models import Activity
from banso.db import session_scope
from banso.deals.models import Deal
from banso.flows.merge import merge_accounts
from banso.health.models import CsmPulse, HealthOverride
from banso.invoices.models import Invoice
from banso.messaging.models import OutboxMessage
from banso.playbooks.models import Cta, PlaybookFiring
from banso.revenue.models import Subscription
from banso.support.models import Ticket

D = date(2026, 5, 1)


def _cta(account: int, playbook: str, reason: str) -> Cta:
    return Cta(account_id=account, playbook=playbook, reason=reason, type="risk", priority="high",
               title=f"{playbook} {account}", due_date=D, first_triggered_on=D,
               last_triggered_on=D)  # fmt: skip


def test_merge_moves_pulses_overrides_ctas_and_firings(any_db: str) -> None:
    schema.upgrade()
    with session_scope() as s:
        s.add_all([Account(id=1, name="Kept", normalized_name="kept"),
                   Account(id=2, name="Other", normalized_name="other")])  # fmt: skip
        s.flush()
        s.add_all(
            [
                CsmPulse(account_id=2, rating=2, rated_on=D, expires_on=date(2026, 6, 1)),
                HealthOverride(
                    account_id=2,
                    score=40,
                    reason="escalation",
                    starts_on=D,
                    expires_on=date(2026, 6, 1),
                ),  # fmt: skip
                _cta(1, "health-red", "band red"),
                _cta(2, "health-red", "band red"),  # the same open CTA as the kept account's
                _cta(2, "usage-drop", "usage fell"),  # only the other has this one
                PlaybookFiring(playbook="health-red", account_id=1, day=D, reason="band red"),
                PlaybookFiring(playbook="health-red", account_id=2, day=D, reason="band red"),
                PlaybookFiring(playbook="usage-drop", account_id=2, day=D, reason="usage fell"),
            ]
        )
    with session_scope() as s:
        merge_accounts(s, 1, 2)
    with session_scope() as s:
        assert s.get(Account, 2) is None
        assert [p.account_id for p in s.scalars(select(CsmPulse))] == [1]
        assert [o.account_id for o in s.scalars(select(HealthOverride))] == [1]
        ctas = {(c.playbook, c.title): (c.account_id, c.status, c.outcome)
                for c in s.scalars(select(Cta))}  # fmt: skip
        assert ctas == {
            ("health-red", "health-red 1"): (1, "open", None),
            ("health-red", "health-red 2"): (1, "closed", "not_needed"),
            ("usage-drop", "usage-drop 2"): (1, "open", None),
        }
        firings = sorted((f.playbook, f.account_id) for f in s.scalars(select(PlaybookFiring)))
        assert firings == [("health-red", 1), ("usage-drop", 1)]


MERGE_ALONE = """
import sys
from banso.flows.merge import merge_accounts
from banso.db import session_scope

later = [m for m in sys.modules if m.startswith(("banso.health", "banso.playbooks"))]
assert not later, later  # nothing has imported the domains whose rows must move
with session_scope() as s:
    merge_accounts(s, 1, 2)
"""


def test_a_process_that_imported_only_the_merge_moves_everything(any_db: str) -> None:
    schema.upgrade()
    t = datetime(2026, 5, 1, tzinfo=UTC)
    with session_scope() as s:
        s.add_all([Account(id=1, name="Kept", normalized_name="kept"),
                   Account(id=2, name="Other", normalized_name="other")])  # fmt: skip
        s.flush()
        s.add_all(
            [
                CsmPulse(account_id=2, rating=2, rated_on=D, expires_on=date(2026, 6, 1)),
                HealthOverride(account_id=2, score=40, reason="escalation", starts_on=D,
                               expires_on=date(2026, 6, 1)),
                _cta(2, "usage-drop", "usage fell"),
                PlaybookFiring(playbook="usage-drop", account_id=2, day=D, reason="usage fell"),
                OutboxMessage(idempotency_key="usage-drop/2/2026-05-01/0", playbook="usage-drop",
                              account_id=2, trigger_day=D, channel="email",
                              recipient="csm@example.com", payload="{}"),
                Subscription(account_id=2, source="t", external_id="s2", plan="pro",
                             start_date=D, amount=1000, currency="JPY", billing_period_months=1),
                Ticket(account_id=2, source="t", external_id="t2", opened_at=t),
                Activity(account_id=2, source="t", external_id="a2", kind="call", occurred_at=t),
                Deal(account_id=2, source="t", external_id="d2", status="open", currency="JPY"),
                Invoice(account_id=2, source="t", external_id="i2", status="open",
                        amount_due=1000, currency="JPY", issued_on=D),
            ]
        )  # fmt: skip
    done = subprocess.run([sys.executable, "-c", MERGE_ALONE], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    with session_scope() as s:
        assert s.get(Account, 2) is None
        assert s.scalar(select(AccountMerge.kept_account_id)) == 1
        for model in (CsmPulse, HealthOverride, Cta, PlaybookFiring, OutboxMessage,
                      Subscription, Ticket, Activity, Deal, Invoice):  # fmt: skip
            owners = s.scalars(select(model.account_id)).all()  # type: ignore[attr-defined]
            assert owners == [1], model
        assert s.scalar(select(func.count()).select_from(Account)) == 1
