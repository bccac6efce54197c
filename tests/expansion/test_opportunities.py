"""Expansion opportunities on a hand-made world whose answers are worked out by hand.

World (JPY, monthly lines, reporting currency JPY):
- Alpha (1) 100,000 from 2025-01-01; adds an option line of 30,000 on 2025-03-01 (expansion
  30,000 in March).
- Beta (2) 10,000 from 2025-01-01; adds a second product of 5,000 on 2025-04-01 (expansion 5,000
  in April).
- Gamma (3) 20,000 from 2025-01-01, never changes.
So every month from February to April starts with 3 customers.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.playbooks.world import build_world as build_playbook_world

from banso import schema
from banso.accounts.models import Account
from banso.audit.models import AuditEntry
from banso.db import session_scope
from banso.expansion import service as expansion
from banso.expansion.models import Opportunity
from banso.playbooks import service as playbooks
from banso.playbooks.models import PlaybookFiring
from banso.revenue.models import Subscription
from banso.team.models import TeamMember


def build_world() -> None:
    schema.upgrade()
    with session_scope() as s:
        s.add_all(
            [
                TeamMember(id=1, name="佐藤 花子", email="sato@vendor.example", team="east"),
                TeamMember(id=2, name="Ken Ito", email="ito@vendor.example", team="east"),
            ]
        )
        s.flush()
        s.add_all(
            [
                Account(id=1, name="Alpha株式会社", normalized_name="alpha", owner_id=1),
                Account(id=2, name="Beta合同会社", normalized_name="beta", owner_id=2),
                Account(id=3, name="Gamma株式会社", normalized_name="gamma", owner_id=1),
            ]
        )
        s.flush()
        lines = [
            (1, "a1", date(2025, 1, 1), 100_000),
            (1, "a2", date(2025, 3, 1), 30_000),
            (2, "b1", date(2025, 1, 1), 10_000),
            (2, "b2", date(2025, 4, 1), 5_000),
            (3, "c1", date(2025, 1, 1), 20_000),
        ]
        s.add_all(
            [
                Subscription(account_id=a, source="t", external_id=x, plan="pro", start_date=d,
                             amount=amount, currency="JPY", billing_period_months=1)
                for a, x, d, amount in lines
            ]
        )  # fmt: skip


def test_add_update_close_list_and_report_on_both_databases(any_db: str, cli) -> None:  # type: ignore[no-untyped-def]
    build_world()
    r = cli("opportunities", "add", "1", "--kind", "upsell", "--expected-mrr", "25000",
            "--close-date", "2025-03-31")  # fmt: skip
    assert (r.exit_code, r.stdout.strip()) == (0, "Opportunity 1 opened."), r.stderr
    r = cli("opportunities", "add", "2", "--kind", "cross_sell", "--expected-mrr", "8000",
            "--owner", "sato@vendor.example", "--stage", "qualified")  # fmt: skip
    assert r.exit_code == 0, r.stderr
    r = cli("opportunities", "add", "3", "--kind", "upsell", "--expected-mrr", "7000")
    assert r.exit_code == 0, r.stderr
    assert cli("opportunities", "update", "1", "--stage", "proposal").exit_code == 0
    listed = json.loads(cli("opportunities", "list", "--format", "json").stdout)
    assert [(o["id"], o["account_name"], o["kind"], o["expected_mrr"], o["stage"], o["owner"],
             o["close_date"], o["source"]) for o in listed] == [
        (1, "Alpha株式会社", "upsell", 25_000, "proposal", "sato@vendor.example", "2025-03-31",
         "manual"),
        (2, "Beta合同会社", "cross_sell", 8_000, "qualified", "sato@vendor.example", None,
         "manual"),
        (3, "Gamma株式会社", "upsell", 7_000, "identified", "sato@vendor.example", None,
         "manual"),
    ]  # fmt: skip
    assert (
        cli("opportunities", "close", "1", "--outcome", "won", "--on", "2025-03-15").exit_code == 0
    )
    assert (
        cli("opportunities", "close", "2", "--outcome", "won", "--on", "2025-04-10").exit_code == 0
    )
    assert (
        cli("opportunities", "close", "3", "--outcome", "lost", "--on", "2025-03-20").exit_code == 0
    )
    assert json.loads(cli("opportunities", "list", "--format", "json").stdout) == []
    closed = json.loads(
        cli("opportunities", "list", "--status", "closed", "--format", "json").stdout
    )
    assert [(o["id"], o["stage"], o["close_date"]) for o in closed] == [
        (1, "won", "2025-03-15"), (3, "lost", "2025-03-20"), (2, "won", "2025-04-10"),
    ]  # fmt: skip

    r = cli("opportunities", "report", "--from", "2025-02", "--to", "2025-04", "--format", "json")
    assert r.exit_code == 0, r.stderr
    rows = {row["month"]: row for row in json.loads(r.stdout)}
    assert rows["2025-02"] | {} == {
        "month": "2025-02", "won": 0, "won_expected_mrr": 0.0, "won_actual_expansion_mrr": 0.0,
        "won_accounts": 0, "won_accounts_expanded": 0, "expansion_mrr": 0.0,
        "customers_start": 3, "upsell_accounts": 0, "cross_sell_accounts": 0,
        "upsell_rate": 0.0, "cross_sell_rate": 0.0,
    }  # fmt: skip
    march, april = rows["2025-03"], rows["2025-04"]
    # Alpha won (25,000 expected) and grew by 30,000; Gamma's upsell was lost
    assert (march["won"], march["won_expected_mrr"], march["won_actual_expansion_mrr"],
            march["expansion_mrr"], march["upsell_rate"], march["cross_sell_rate"]) == (
        1, 25_000.0, 30_000.0, 30_000.0, 0.333333, 0.0)  # fmt: skip
    assert (april["won"], april["won_expected_mrr"], april["won_actual_expansion_mrr"],
            april["expansion_mrr"], april["upsell_rate"], april["cross_sell_rate"]) == (
        1, 8_000.0, 5_000.0, 5_000.0, 0.0, 0.333333)  # fmt: skip
    # the month's expansion MRR is exactly `metrics revenue`'s
    metrics = json.loads(
        cli("metrics", "revenue", "--from", "2025-02", "--to", "2025-04", "--format", "json").stdout
    )
    assert [m["expansion_mrr"] for m in metrics] == [0.0, 30_000.0, 5_000.0]
    # per owner: Sato's book is Alpha and Gamma (2 customers), Ito's is Beta (1)
    r = cli("opportunities", "report", "--from", "2025-03", "--to", "2025-04", "--by", "owner",
            "--format", "json")  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert [(row["month"], row["owner"], row["customers_start"], row["won"], row["upsell_rate"],
             row["cross_sell_rate"], row["expansion_mrr"]) for row in json.loads(r.stdout)] == [
        ("2025-03", "ito@vendor.example", 1, 0, 0.0, 0.0, 0.0),
        ("2025-03", "sato@vendor.example", 2, 1, 0.5, 0.0, 30_000.0),
        ("2025-04", "ito@vendor.example", 1, 1, 0.0, 1.0, 5_000.0),
        ("2025-04", "sato@vendor.example", 2, 0, 0.0, 0.0, 0.0),
    ]  # fmt: skip
    table = cli("opportunities", "report", "--from", "2025-03", "--to", "2025-03", "--by",
                "owner")  # fmt: skip
    assert table.exit_code == 0 and "50.0%" in table.stdout

    with session_scope() as s:
        actions = s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert (
        actions == ["opportunity.create"] * 3 + ["opportunity.update"] + ["opportunity.close"] * 3
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add", "9", "--kind", "upsell"), "No account with id 9."),
        (("add", "1", "--kind", "resell"),
         "Unknown kind resell; choose one of upsell, cross_sell, seats"),
        (("add", "1", "--kind", "upsell", "--stage", "won"),
         "Unknown stage won; choose one of identified, qualified, proposal (close with won"),
        (("add", "1", "--kind", "upsell", "--expected-mrr", "-5"),
         "The expected MRR must be 0 or more (got -5)."),
        (("add", "1", "--kind", "upsell", "--owner", "nobody@x.example"),
         "No team member with email nobody@x.example."),
        (("close", "1", "--outcome", "maybe"), "Close an opportunity as won or lost (got maybe)."),
        (("update", "7", "--stage", "qualified"), "No opportunity with id 7."),
        (("report", "--from", "2025-05", "--to", "2025-02"), "--from 2025-05 is after --to"),
        (("report", "--by", "colour"), "Unknown breakdown colour; choose one of"),
    ],
)  # fmt: skip
def test_mistakes_get_one_sentence_and_exit_2(cli, args: tuple[str, ...], message: str) -> None:  # type: ignore[no-untyped-def]
    build_world()
    r = cli("opportunities", *args)
    assert r.exit_code == 2
    assert message in r.stderr
    assert "Traceback" not in r.stderr


def test_a_closed_opportunity_does_not_change(cli) -> None:  # type: ignore[no-untyped-def]
    build_world()
    cli("opportunities", "add", "1", "--kind", "seats")
    cli("opportunities", "close", "1", "--outcome", "lost", "--on", "2025-03-01")
    r = cli("opportunities", "update", "1", "--expected-mrr", "100")
    assert (r.exit_code, "Opportunity 1 is closed (Lost)" in r.stderr) == (2, True)
    r = cli("opportunities", "close", "1", "--outcome", "won")
    assert (r.exit_code, "Opportunity 1 is already closed (Lost)." in r.stderr) == (2, True)


def test_stages_come_from_expansion_yaml(banso_home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    build_world()
    (banso_home / "config").mkdir(parents=True, exist_ok=True)
    (banso_home / "config" / "expansion.yaml").write_text("stages: [lead, demo, quote]\n")
    assert cli("opportunities", "add", "1", "--kind", "upsell").exit_code == 0
    assert cli("opportunities", "update", "1", "--stage", "demo").exit_code == 0
    r = cli("opportunities", "update", "1", "--stage", "proposal")
    assert r.exit_code == 2 and "choose one of lead, demo, quote" in r.stderr
    (banso_home / "config" / "expansion.yaml").write_text("stages: [lead, won]\n")
    r = cli("opportunities", "list")
    assert r.exit_code == 0  # listing does not read the stages
    r = cli("opportunities", "add", "1", "--kind", "upsell")
    assert r.exit_code == 2
    assert "expansion.yaml:1: stages: 'won' is a closed stage; list only the open ones" in r.stderr


PLAYBOOK = """\
name: new-customer-upsell
label: {en: New customer, ja: 新規顧客}
trigger: {type: new_account}
actions:
  - open_opportunity: {kind: upsell, expected_mrr: 5000}
"""


def test_a_playbook_opens_one_opportunity_exactly_once(any_db: str, banso_home: Path) -> None:
    build_playbook_world()  # Beta (2, owner Ken Ito) becomes a customer on 2025-06-02
    (banso_home / "config" / "playbooks").mkdir(parents=True)
    (banso_home / "config" / "playbooks" / "upsell.yaml").write_text(PLAYBOOK)
    day = date(2025, 6, 2)
    with session_scope() as s:
        first = playbooks.run_playbooks(s, day)
    with session_scope() as s:
        again = playbooks.run_playbooks(s, day)
    assert (first["new-customer-upsell"].opportunities, again["new-customer-upsell"].firings) == (
        1,
        0,
    )
    with session_scope() as s:
        o = s.scalars(select(Opportunity)).one()
        assert (o.account_id, o.kind, o.expected_mrr, o.stage, o.owner_id, o.source) == (
            2, "upsell", 5_000, "identified", 2, "new-customer-upsell",
        )  # fmt: skip
        assert s.scalar(select(func.count()).select_from(PlaybookFiring)) == 1
        # the same playbook firing again while it is open leaves it as it is
        account = s.get(Account, 2)
        assert account is not None
        same, created = expansion.open_from_playbook(
            s, account, "upsell", 9_999, day, "new-customer-upsell"
        )
        assert (same.id, created, same.expected_mrr) == (o.id, False, 5_000)
        actor = s.scalar(select(AuditEntry.actor).where(AuditEntry.action == "opportunity.create"))
        assert actor == "playbook:new-customer-upsell"


def test_replay_counts_the_opportunities_a_playbook_would_open(banso_home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    build_playbook_world()
    (banso_home / "config" / "playbooks").mkdir(parents=True)
    (banso_home / "config" / "playbooks" / "upsell.yaml").write_text(PLAYBOOK)
    r = cli("playbooks", "replay", "--from", "2025-06-01", "--to", "2025-06-30", "--format", "json")
    assert r.exit_code == 0, r.stderr
    (result,) = json.loads(r.stdout)
    assert (result["totals"]["firings"], result["totals"]["opportunities"]) == (1, 1)
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Opportunity)) == 0
    table = cli("playbooks", "replay", "--from", "2025-06-01", "--to", "2025-06-30")
    assert table.exit_code == 0
    row = next(line for line in table.stdout.splitlines() if line.startswith("│"))
    assert [cell.strip() for cell in row.strip("│ ").split("│")][1:] == [
        "1", "0", "0", "0", "0", "0", "0", "1", "1",
    ]  # fmt: skip


def test_a_bad_open_opportunity_action_names_file_line_and_field(banso_home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    build_playbook_world()
    (banso_home / "config" / "playbooks").mkdir(parents=True)
    path = banso_home / "config" / "playbooks" / "upsell.yaml"
    path.write_text(PLAYBOOK.replace("kind: upsell", "kind: resell"))
    r = cli("playbooks", "check-config")
    assert r.exit_code == 2
    assert f"{path}:5: actions.0.open_opportunity.kind:" in r.stderr
