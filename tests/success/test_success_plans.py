"""Success plans on a hand-made world whose answers are worked out by hand.

World: account Alpha (1, owned by 佐藤) with contact 山本 (10); one health snapshot on
2026-03-31 where Alpha's active_days_28d is 14 and wau_mau 0.45; no usage events.

- "Daily use across the finance team": active_days_28d from baseline 4 to target 20. Current 14,
  so progress = (14 − 4) / (20 − 4) = 10 / 16 = 0.625.
- "Fewer month-end tickets" (a fall is progress): a manual KPI from 40 to 10; entered 31, so
  progress = (31 − 40) / (10 − 40) = −9 / −30 = 0.3; entered 5 (past the target): 1.
"""

from __future__ import annotations

import json
from datetime import date

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from banso import schema
from banso.accounts.models import Account, Contact
from banso.audit.models import AuditEntry
from banso.db import session_scope
from banso.errors import BansoError
from banso.health import snapshots
from banso.success import handoff as handoffs
from banso.success import service
from banso.success.models import ObjectiveEntry
from banso.team.models import TeamMember

DAY = date(2026, 3, 31)


def build_world() -> None:
    schema.upgrade()
    with session_scope() as s:
        s.add_all(
            [
                TeamMember(id=1, name="佐藤 花子", email="sato@vendor.example"),
                TeamMember(id=2, name="Ken Ito", email="ito@vendor.example"),
            ]
        )
        s.flush()
        s.add_all(
            [
                Account(id=1, name="Alpha", normalized_name="alpha", owner_id=1),
                Account(id=2, name="Beta", normalized_name="beta", owner_id=2),
            ]
        )
        s.flush()
        s.add(Contact(id=10, account_id=1, source="crm", external_id="C-10", name="山本 太郎",
                      email="yamamoto@alpha.example", role="champion"))  # fmt: skip
    snapshots.write_day(
        DAY,
        pa.table(
            {
                "account_id": pa.array([1, 2], pa.int64()),
                "day": pa.array([DAY, DAY], pa.date32()),
                "scorecard": ["default", "default"],
                "score": [71.0, 40.0],
                "band": ["yellow", "red"],
                "overridden": [False, False],
                "raw__active_days_28d": [14.0, 2.0],
                "raw__wau_mau": [0.45, None],
            }
        ),
    )


def test_progress_from_a_metric_on_the_health_snapshot() -> None:
    build_world()
    with session_scope() as s:
        o = service.add_objective(
            s, 1, "Daily use across the finance team", measure="active_days_28d",
            baseline=4, target=20, due_date=date(2026, 6, 30), contact_id=10, status="on_track",
        )  # fmt: skip
        oid = o.id
    with session_scope() as s:
        [v] = service.account_plan(s, 1, today=date(2026, 4, 2))
    assert (v.current, v.current_on, v.current_source) == (14.0, DAY, "health")
    assert v.progress == 0.625
    assert (v.owner, v.contact, v.status, v.overdue) == (
        "sato@vendor.example",
        "山本 太郎",
        "on_track",
        False,
    )
    with session_scope() as s:
        [late] = service.account_plan(s, 1, today=date(2026, 7, 1))
    assert late.overdue and late.id == oid


def test_a_metric_baseline_defaults_to_its_value_today() -> None:
    build_world()
    with session_scope() as s:
        o = service.add_objective(s, 1, "Weekly habit", measure="wau_mau", target=0.7,
                                  today=date(2026, 4, 1))  # fmt: skip
        assert o.baseline == 0.45
        [v] = service.account_plan(s, 1, today=date(2026, 4, 1))
        assert v.progress == 0.0
    with session_scope() as s, pytest.raises(BansoError, match="no value of wau_mau"):
        service.add_objective(s, 2, "Weekly habit", measure="wau_mau", target=0.7,
                              today=date(2026, 4, 1))  # fmt: skip


def test_a_manual_kpi_counts_a_fall_towards_a_lower_target() -> None:
    build_world()
    with session_scope() as s:
        o = service.add_objective(s, 1, "Fewer month-end tickets", kpi="Month-end tickets",
                                  baseline=40, target=10)  # fmt: skip
        oid = o.id
        [v] = service.account_plan(s, 1)
        assert (v.current, v.progress, v.kind) == (None, None, "kpi")
        service.update_objective(s, oid, value=31, today=date(2026, 4, 10))
        [v] = service.account_plan(s, 1)
        assert (v.current, v.current_on, v.current_source, v.progress) == (
            31.0,
            date(2026, 4, 10),
            "manual",
            0.3,
        )
        service.review(s, oid, "Closing went smoothly", value=5, status="achieved")
        [v] = service.account_plan(s, 1)
        assert (v.progress, v.status) == (1.0, "achieved")


def test_every_change_and_review_is_kept_with_who_and_when() -> None:
    build_world()
    with session_scope() as s:
        oid = service.add_objective(s, 1, "Close the books in 3 days", kpi="Days to close",
                                    baseline=8, target=3).id  # fmt: skip
        service.update_objective(s, oid, status="on_track", due_date=date(2026, 9, 30))
        service.review(s, oid, "Still 6 days; the AP team joins in May", status="at_risk",
                       value=6)  # fmt: skip
        service.update_objective(s, oid, status="at_risk")  # no change: no entry
    with session_scope() as s:
        entries = s.scalars(
            select(ObjectiveEntry).where(ObjectiveEntry.objective_id == oid)
            .order_by(ObjectiveEntry.id)
        ).all()  # fmt: skip
        assert [(e.kind, e.status, e.note) for e in entries] == [
            ("created", "not_started", None),
            ("changed", "on_track", None),
            ("reviewed", "at_risk", "Still 6 days; the AP team joins in May"),
        ]
        assert json.loads(entries[1].changes) == {
            "status": {"from": "not_started", "to": "on_track"},
            "due_date": {"from": None, "to": "2026-09-30"},
        }
        assert json.loads(entries[2].changes)["kpi_value"] == {"from": None, "to": 6.0}
        assert all(e.actor.startswith("cli:") and e.at is not None for e in entries)
        actions = s.scalars(
            select(AuditEntry.action).where(AuditEntry.target == f"objective:{oid}")
            .order_by(AuditEntry.id)
        ).all()  # fmt: skip
        assert actions == ["objective.create", "objective.update", "objective.review"]
        [v] = service.account_plan(s, 1)
        assert [h.kind for h in v.history] == ["reviewed", "changed", "created"]


def test_bad_input_is_refused_with_a_sentence() -> None:
    build_world()
    with session_scope() as s:
        for kwargs, message in [
            ({"measure": "nope", "baseline": 1}, "Unknown measure nope"),
            ({"measure": "wau_mau", "kpi": "x", "baseline": 1}, "either a measure"),
            ({"kpi": "x"}, "needs a baseline"),
            ({"kpi": "x", "baseline": 5}, "must differ from the baseline"),
            ({"kpi": "x", "baseline": 1, "status": "done"}, "Unknown status done"),
            ({"kpi": "x", "baseline": 1, "contact_id": 99}, "not a contact of account 1"),
        ]:
            with pytest.raises(BansoError, match=message):
                service.add_objective(s, 1, "Title", target=5, **kwargs)
        oid = service.add_objective(s, 1, "By metric", measure="active_days_28d", baseline=4,
                                    target=20).id  # fmt: skip
        with pytest.raises(BansoError, match="Banso reads its value"):
            service.update_objective(s, oid, value=3)
        with pytest.raises(BansoError, match="needs a note"):
            service.review(s, oid, "  ")


def test_the_first_objective_starts_from_the_handoff() -> None:
    build_world()
    with session_scope() as s:
        with pytest.raises(BansoError, match="no handoff"):
            service.add_objective(s, 1, None, kpi="x", baseline=0, target=1, from_handoff=True)
        handoffs.set_handoff(s, 1, promised_outcome="Close the month in 3 days, not 8",
                             deal_notes="Chose us over a spreadsheet add-in")  # fmt: skip
        o = service.add_objective(s, 1, None, kpi="Days to close", baseline=8, target=3,
                                  from_handoff=True)  # fmt: skip
        assert (o.title, o.source) == ("Close the month in 3 days, not 8", "handoff")
        assert handoffs.cta_note(s, 1) == (
            "Promised outcome: Close the month in 3 days, not 8\n"
            "Deal notes: Chose us over a spreadsheet add-in"
        )


def test_the_list_pages_and_filters() -> None:
    build_world()
    with session_scope() as s:
        for i in range(7):
            service.add_objective(s, 1 + i % 2, f"Goal {i}", kpi="k", baseline=0, target=10,
                                  due_date=date(2026, 5, 1 + i),
                                  status="at_risk" if i == 3 else "on_track")  # fmt: skip
        page = service.list_objectives(s, service.ObjectiveFilter(page=2), page_size=3)
        assert (page.total, page.pages, [v.title for v in page.items]) == (
            7,
            3,
            ["Goal 3", "Goal 4", "Goal 5"],
        )
        risky = service.list_objectives(s, service.ObjectiveFilter(status="at_risk"))
        assert [v.title for v in risky.items] == ["Goal 3"]
        beta = service.list_objectives(s, service.ObjectiveFilter(account_id=2, owner_id=2))
        assert [v.title for v in beta.items] == ["Goal 1", "Goal 3", "Goal 5"]
        overdue = service.list_objectives(s, service.ObjectiveFilter(overdue=True),
                                          today=date(2026, 5, 3))  # fmt: skip
        assert [v.title for v in overdue.items] == ["Goal 0", "Goal 1"]


@given(baseline=st.floats(-1e6, 1e6), target=st.floats(-1e6, 1e6), current=st.floats(-1e6, 1e6))
def test_progress_is_between_0_and_1_and_1_at_the_target(
    baseline: float, target: float, current: float
) -> None:
    p = service.progress(baseline, target, current)
    if target == baseline:
        assert p is None
        return
    assert p is not None and 0 <= p <= 1
    assert service.progress(baseline, target, target) == 1
    assert service.progress(baseline, target, baseline) == 0


def test_cli_adds_reviews_shows_and_refuses(cli) -> None:  # type: ignore[no-untyped-def]
    build_world()
    added = cli("success-plans", "add-objective", "1", "--title", "Daily use",
                "--measure", "active_days_28d", "--baseline", "4", "--target", "20")  # fmt: skip
    assert added.exit_code == 0 and "Objective 1 added." in added.stdout
    reviewed = cli("success-plans", "review", "1", "--note", "Good month", "--status", "on_track")
    assert reviewed.exit_code == 0
    shown = cli("success-plans", "show", "1", "--format", "json")
    body = json.loads(shown.stdout)
    [o] = body["objectives"]
    assert (o["progress"], o["current"], o["status"]) == (0.625, 14.0, "on_track")
    assert [h["kind"] for h in o["history"]] == ["reviewed", "created"]
    listed = json.loads(cli("success-plans", "list", "--format", "json").stdout)
    assert (listed["total"], listed["items"][0]["title"]) == (1, "Daily use")
    assert "Page 1 of 1; 1 in all." in cli("success-plans", "list").stdout
    for args in (
        ("success-plans", "update", "1", "--status", "done"),
        ("success-plans", "list", "--format", "xml"),
        ("success-plans", "show", "99"),
        ("success-plans", "add-objective", "1", "--target", "3", "--kpi", "x"),
        ("handoff", "set", "1"),
    ):
        bad = cli(*args)
        assert bad.exit_code == 2, (args, bad.stdout, bad.stderr)
        assert bad.stderr.strip().count("\n") == 0 and bad.stderr.strip(), bad.stderr
    saved = cli("handoff", "set", "1", "--notes", "Budget approved in March",
                "--promised-outcome", "Close in 3 days")  # fmt: skip
    assert saved.exit_code == 0
    assert "Promised outcome: Close in 3 days" in cli("handoff", "show", "1").stdout
