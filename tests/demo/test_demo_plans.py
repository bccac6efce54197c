"""The demo world's success plans and handoffs: every high-touch customer has a plan of three
objectives (two on health measures, one manual KPI) whose statuses vary with its health, each
with a history that starts with its creation; handoffs only for customers whose latest period
began in the last 180 days, the handoff's promised outcome wording their KPI objective."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from banso import config, db
from banso.accounts.models import Account
from banso.db import session_scope
from banso.revenue.models import Subscription
from banso.success.models import Handoff, ObjectiveEntry, SuccessObjective

END = date(2026, 5, 1)


def test_high_touch_customers_have_plans_and_new_customers_handoffs(cli, banso_home: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").exit_code == 0
    made = cli("demo", "generate", "--accounts", "200", "--months", "12", "--end", END.isoformat())
    assert made.exit_code == 0, made.stderr
    with session_scope() as s:
        high = {a.id for a in s.scalars(select(Account).where(Account.touch_model == "high"))
                if a.lifecycle_stage != "churned"}  # fmt: skip
        objectives = s.scalars(select(SuccessObjective)).all()
        by_account = Counter(o.account_id for o in objectives)
        assert high and set(by_account) == high and set(by_account.values()) == {3}
        assert {o.measure for o in objectives} == {"active_days_28d", "active_users_28d", None}
        assert all(o.kpi_name for o in objectives if o.measure is None)
        statuses = Counter(o.status for o in objectives)
        assert {"on_track", "at_risk", "achieved"} <= set(statuses), statuses
        first = {}
        for e in s.scalars(select(ObjectiveEntry).order_by(ObjectiveEntry.id)):
            first.setdefault(e.objective_id, e.kind)
        assert set(first) == {o.id for o in objectives} and set(first.values()) == {"created"}
        handoffs = s.scalars(select(Handoff)).all()
        assert handoffs and all(h.promised_outcome and h.deal_notes for h in handoffs)
        for h in handoffs:
            starts = s.scalars(select(Subscription.start_date)
                               .where(Subscription.account_id == h.account_id)).all()  # fmt: skip
            assert max(starts) > END - timedelta(days=200)
        from_handoff = [o for o in objectives if o.source == "handoff"]
        promised = {h.account_id: h.promised_outcome for h in handoffs}
        assert from_handoff and all(o.title == promised[o.account_id] for o in from_handoff)
        assert all(o.kpi_name for o in from_handoff)
    db.dispose_engines()
    config.get_settings.cache_clear()
