"""Event triggers read the event store through ``usage.store``: events of an account merged into
another count for the kept one, as they do for the health score."""

from __future__ import annotations

from datetime import date, timedelta

import pyarrow as pa
from tests.playbooks.world import at, build_world

from banso.accounts.models import Account
from banso.db import get_engine, session_scope
from banso.flows.merge import merge_accounts
from banso.playbooks.config import Playbook
from banso.playbooks.triggers import PlaybookData
from banso.revenue.models import Subscription
from banso.usage.store import EVENT_SCHEMA, append_events


def _merged_world() -> None:
    """Alpha (1) stops on 10 June; Alpha's other record (4) logs in 5 times a day to 30 June and
    is merged into Alpha."""
    build_world()
    with session_scope() as s:
        s.add(Account(id=4, name="Alpha K.K.", normalized_name="alpha kk"))
        s.flush()
        s.add(Subscription(account_id=4, source="t", external_id="s4", plan="pro",
                           start_date=date(2025, 1, 1), amount=1, currency="JPY",
                           billing_period_months=1))  # fmt: skip
    rows = []
    day = date(2025, 6, 1)
    while day <= date(2025, 6, 30):
        for n in range(5 if day < date(2025, 6, 16) else 1):
            rows.append({"event_id": f"4-{day}-{n}", "account_id": 4, "user_id": "u9",
                         "event": "login", "ts": at(day), "properties": None})  # fmt: skip
        day += timedelta(days=1)
    append_events(pa.Table.from_pylist(rows, schema=EVENT_SCHEMA))
    with session_scope() as s:
        merge_accounts(s, 1, 4)


def _fired(trigger: dict[str, object], days: list[date]) -> list[tuple[int, date]]:
    action = {"set_field": {"field": "tier", "value": "x"}}
    playbook = Playbook.model_validate({"name": "t", "trigger": trigger, "actions": [action]})
    table = PlaybookData(get_engine()).firings(playbook, days)
    return list(zip(table["account_id"].to_pylist(), table["day"].to_pylist(), strict=True))


def test_no_activity_counts_the_events_of_a_merged_account() -> None:
    _merged_world()
    june = [date(2025, 6, 1) + timedelta(days=i) for i in range(30)]
    # Alpha itself is quiet after 10 June, but the record merged into it is not: no firing for
    # Alpha; Beta (2) stops on 12 June and fires 7 days later
    assert _fired({"type": "no_activity", "days": 7}, june) == [(2, date(2025, 6, 19))]


def test_usage_dropped_counts_the_events_of_a_merged_account() -> None:
    _merged_world()
    june = [date(2025, 6, 1) + timedelta(days=i) for i in range(30)]
    fired = _fired({"type": "usage_dropped", "event": "*", "percent": 50, "min_prior": 10}, june)
    # Alpha with its merged record: 6 a day to 10 June, 5 a day to 15 June, then 1. The week to
    # 19 June holds 19 events against 40 the week before (first ≤ 50 %); to 18 June, 23 vs 41.
    # Beta's 7 a week are under min_prior; alone, Alpha's own 7 would be too.
    assert fired == [(1, date(2025, 6, 19))]


def test_the_ibis_counts_of_the_spark_path_fire_as_the_duckdb_sql(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """``engine="spark"`` counts events with ``usage.metrics.local_day_counts``; bound to DuckDB
    here (no Spark needed), it must fire exactly as the hand SQL, merged accounts included."""
    from banso.playbooks import triggers
    from banso.usage.service import duckdb_connection

    _merged_world()
    monkeypatch.setattr(triggers, "spark_connection", duckdb_connection)
    june = [date(2025, 6, 1) + timedelta(days=i) for i in range(30)]
    action = {"set_field": {"field": "tier", "value": "x"}}
    compared = 0
    for trigger in (
        {"type": "no_activity", "days": 7},
        {"type": "no_activity", "days": 2},
        {"type": "usage_dropped", "event": "*", "percent": 50, "min_prior": 10},
        {"type": "usage_dropped", "event": "login", "percent": 20, "min_prior": 3},
    ):
        playbook = Playbook.model_validate({"name": "t", "trigger": trigger, "actions": [action]})
        sql = PlaybookData(get_engine()).firings(playbook, june).to_pylist()
        ibis_counts = PlaybookData(get_engine(), engine="spark").firings(playbook, june)
        assert ibis_counts.to_pylist() == sql, trigger
        compared += len(sql)
    assert compared >= 3  # the worked examples above fire; the others may add more
