"""Triggers, conditions and CTAs on a hand-made world whose answers are worked out by hand."""

import json
from datetime import date
from pathlib import Path

import pyarrow as pa
from sqlalchemy import delete, func, select
from tests.playbooks.world import build_world

from banso.accounts.lifecycle import StageInterval, history
from banso.accounts.models import Account
from banso.db import session_scope
from banso.messaging.models import OutboxMessage
from banso.playbooks import ctas, service
from banso.playbooks.actions import ActionContext, apply, load_context
from banso.playbooks.config import template_dirs
from banso.playbooks.models import Cta, CtaEvent, CtaTask, PlaybookFiring
from banso.playbooks.triggers import FIRING_SCHEMA

JUNE = (date(2025, 6, 1), date(2025, 6, 30))


def test_replay_of_june_matches_the_hand_checked_days(cli) -> None:  # type: ignore[no-untyped-def]
    build_world()
    result = cli("playbooks", "replay", "--from", "2025-06-01", "--to", "2025-06-30",
                 "--format", "json", "usage-inactive", "tech-touch-inactive", "nps-detractor",
                 "champion-left", "ticket-spike", "renewal-90", "new-account", "contraction",
                 "onboarding-overdue")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    by_name = {r["playbook"]: r for r in json.loads(result.stdout)}
    days = {name: [d["day"] for d in r["days"]] for name, r in by_name.items()}
    assert days == {
        "usage-inactive": ["2025-06-17"],  # Alpha's last event 10 June; Beta is tech touch
        "tech-touch-inactive": ["2025-06-19"],  # Beta's last event 12 June
        "nps-detractor": ["2025-06-15"],  # Gamma answered 3
        "champion-left": ["2025-06-20"],
        "ticket-spike": ["2025-06-25"],  # the 5th ticket in 7 days
        # Gamma's yearly line ends 26 June, before its 1 Sep renewal date, so it is never due
        # (spec §5); its replacement first renews 26 June 2026 (revenue.contracts)
        "renewal-90": [],
        "new-account": ["2025-06-02"],  # Beta's first paid line
        "contraction": ["2025-06-26"],  # 300,000 -> 200,000 a month
        "onboarding-overdue": [],
    }
    assert by_name["tech-touch-inactive"]["totals"]["emails"] == 1  # Beth, the champion
    assert by_name["new-account"]["totals"] | {} == {
        "firings": 1, "ctas_created": 1, "ctas_updated": 0, "emails": 1, "emails_skipped": 0,
        "slack": 0, "webhooks": 0, "field_updates": 1, "opportunities": 0, "advocacy": 0,
        "messages": 1,
    }  # fmt: skip
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Cta)) == 0  # a replay writes nothing
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_replay_needs_health_scores_for_health_playbooks(cli) -> None:  # type: ignore[no-untyped-def]
    build_world()
    result = cli("playbooks", "replay", "health-red", "--from", "2025-06-01", "--to", "2025-06-30")
    assert result.exit_code == 2
    # "is red" reads the days themselves, with no look-back day
    assert "30 days of health scores between 2025-06-01 and 2025-06-30 are missing" in result.stderr
    assert "banso health score --from 2025-06-01 --to 2025-06-30" in result.stderr


def test_a_run_opens_one_cta_and_a_repeat_trigger_updates_it(banso_home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    build_world()
    with session_scope() as s:
        first = service.run_playbooks(s, date(2025, 6, 17), ["usage-inactive"])
    with session_scope() as s:
        again = service.run_playbooks(s, date(2025, 6, 17), ["usage-inactive"])
    assert (first["usage-inactive"].ctas_created, again["usage-inactive"].firings) == (1, 0)
    with session_scope() as s:
        cta = s.scalars(select(Cta)).one()
        # 17 June 2025 is a Tuesday: due in 3 business days is Friday 20 June
        assert (cta.account_id, cta.owner_id, cta.due_date) == (1, 1, date(2025, 6, 20))
        tasks = s.scalars(select(CtaTask)).all()
        assert [(t.title, t.due_date) for t in tasks] == [
            ("Check who stopped and why", date(2025, 6, 18))
        ]
    # the same reason fires again a week later while the CTA is open: no second CTA
    with session_scope() as s:
        playbook = service.selected(["usage-inactive"])[0]
        fired = pa.Table.from_pylist(
            [{"account_id": 1, "day": date(2025, 6, 24), "detail": "{}", "mrr": 100000,
              "band": None, "segment": "enterprise"}], schema=FIRING_SCHEMA,
        )  # fmt: skip
        context: ActionContext = load_context(s, [1], template_dirs(None))
        counts = apply(s, playbook, fired, context)
        assert (counts.ctas_created, counts.ctas_updated) == (0, 1)
    with session_scope() as s:
        cta = s.scalars(select(Cta)).one()
        assert (cta.trigger_count, cta.last_triggered_on) == (2, date(2025, 6, 24))
        actions = [e.action for e in s.scalars(select(CtaEvent).order_by(CtaEvent.id))]
        assert actions == ["created", "retriggered"]

    listed = cli("ctas", "list", "--status", "open", "--owner", "sato@vendor.example",
                 "--format", "json")  # fmt: skip
    assert listed.exit_code == 0, listed.stderr
    [row] = json.loads(listed.stdout)
    assert {k: row[k] for k in ("id", "account_id", "playbook", "reason", "type", "status",
                                "owner", "due_date")} == {
        "id": cta.id, "account_id": 1, "playbook": "usage-inactive", "reason": "inactive",
        "type": "risk", "status": "open", "owner": "sato@vendor.example",
        "due_date": "2025-06-20",
    }  # fmt: skip
    assert json.loads(cli("ctas", "list", "--owner", "ito@vendor.example", "--format",
                          "json").stdout) == []  # fmt: skip

    closed = cli("ctas", "close", str(cta.id), "--outcome", "resolved", "--by",
                 "sato@vendor.example", "--note", "they were on holiday")  # fmt: skip
    assert closed.exit_code == 0, closed.stderr
    assert cli("ctas", "close", str(cta.id), "--outcome", "resolved", "--by", "x").exit_code == 2
    with session_scope() as s:
        events = ctas.events(s, cta.id)
        assert [(e.actor, e.action) for e in events] == [
            ("playbook:usage-inactive", "created"),
            ("playbook:usage-inactive", "retriggered"),
            ("sato@vendor.example", "closed"),
        ]
        assert json.loads(events[-1].detail) == {
            "outcome": "resolved",
            "note": "they were on holiday",
        }
    assert json.loads(cli("ctas", "list", "--status", "open", "--format", "json").stdout) == []


def test_conditions_and_round_robin_assignment(banso_home: Path) -> None:
    build_world()
    folder = banso_home / "config" / "playbooks"
    folder.mkdir(parents=True)
    (folder / "rr.yaml").write_text(
        "name: rr\n"
        "trigger: {type: no_activity, days: 3}\n"
        "conditions: {segment: [enterprise, smb], mrr_min: 10000, mrr_max: 100000}\n"
        "actions:\n"
        "  - cta:\n"
        "      type: activity\n"
        "      title: {en: Check in, ja: 状況確認}\n"
        "      assign: {round_robin: east}\n"
        "  - set_field: {field: lifecycle_stage, value: adoption}\n"
    )
    with session_scope() as s:
        service.run_playbooks(s, date(2025, 6, 13))  # Alpha: 3 quiet days after 10 June
        service.run_playbooks(s, date(2025, 6, 15))  # Beta: 3 quiet days after 12 June
    with session_scope() as s:
        rows = s.execute(select(Cta.account_id, Cta.owner_id).order_by(Cta.id)).all()
        assert rows == [(1, 1), (2, 2)]  # members of team east in turn
        assert s.get(Account, 1).lifecycle_stage == "adoption"
        # the stage change is in the account's history, from the day the playbook fired
        assert history(s, 1) == [StageInterval("adoption", date(2025, 6, 13), None, "playbook:rr")]
    (folder / "rr.yaml").write_text(
        (folder / "rr.yaml").read_text().replace("mrr_min: 10000", "mrr_min: 10001")
    )
    with session_scope() as s:
        s.execute(delete(PlaybookFiring).where(PlaybookFiring.day == date(2025, 6, 15)))
        assert service.run_playbooks(s, date(2025, 6, 15))["rr"].firings == 0  # Beta: 10,000
