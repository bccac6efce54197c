"""Lifecycle stages: each rule on a hand-made world, the history they write (and that playbooks
and imports write), time in stage and the funnel/flow report."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from banso import schema
from banso.accounts.lifecycle import StageInterval, history, record_stages
from banso.accounts.models import Account
from banso.config import get_settings
from banso.db import session_scope
from banso.errors import ConfigRejected
from banso.expansion.models import Opportunity
from banso.lifecycle import service
from banso.lifecycle.config import load_lifecycle
from banso.onboarding.models import OnboardingMilestone
from banso.revenue.models import Subscription

D1 = date(2025, 6, 1)


def _line(account_id: int, start: date, end: date | None = None, months: int = 1) -> Subscription:
    return Subscription(
        account_id=account_id,
        source="t",
        external_id=f"s{account_id}-{start}",
        plan="p",
        start_date=start,
        end_date=end,
        amount=12_000,
        currency="JPY",
        billing_period_months=months,
    )


def _world() -> None:
    """1 churned in May; 2 in onboarding (a milestone open); 3 renews yearly on 2025-08-15 (75
    days after D1); 4 has an open upsell; 5 a plain monthly customer; 6 a prospect imported as
    "onboarding"; 7 renews 2025-10-01 (122 days: outside 90) and has a closed opportunity."""
    schema.upgrade()
    with session_scope() as s:
        for i in range(1, 8):
            s.add(Account(id=i, name=f"A{i}", normalized_name=f"a{i}"))
        s.flush()
        s.add_all(
            [
                _line(1, date(2024, 1, 1), date(2025, 5, 1)),
                _line(2, date(2025, 5, 20)),
                _line(3, date(2024, 8, 15), months=12),
                _line(4, date(2024, 1, 1)),
                _line(5, date(2024, 1, 1)),
                _line(7, date(2024, 10, 1), months=12),
            ]
        )
        now = datetime(2025, 5, 1, tzinfo=UTC)
        s.add_all(
            [
                Opportunity(
                    account_id=4,
                    kind="upsell",
                    expected_mrr=1000,
                    stage="qualified",
                    source="manual",
                    created_at=now,
                    updated_at=now,
                ),
                Opportunity(
                    account_id=7,
                    kind="upsell",
                    expected_mrr=1000,
                    stage="won",
                    source="manual",
                    created_at=now,
                    updated_at=now,
                    closed_at=now,
                ),
            ]
        )
        s.add(
            OnboardingMilestone(
                account_id=2,
                programme="std",
                milestone="kickoff",
                position=1,
                owner_side="us",
                rule="manual",
                magic_moment=False,
                contract_start=date(2025, 5, 20),
                due_on=date(2025, 5, 27),
            )
        )
        s.flush()
        record_stages(s, {6: "onboarding"}, date(2025, 5, 10), "import:crm")


def _stages() -> dict[int, str | None]:
    with session_scope() as s:
        return dict(s.execute(select(Account.id, Account.lifecycle_stage)).all())  # type: ignore[arg-type]


def test_each_rule_gives_its_stage_and_the_first_rule_wins() -> None:
    _world()
    with session_scope() as s:
        run = service.evaluate(s, D1)
    assert _stages() == {
        1: "churned",
        2: "onboarding",
        3: "renewal",
        4: "expansion",
        5: "adoption",
        6: "onboarding",
        7: "adoption",
    }
    assert run.changed == 6  # 6 was already in onboarding
    assert run.assigned == {
        "churned": 1,
        "onboarding": 1,
        "renewal": 1,
        "expansion": 1,
        "adoption": 2,
    }


def test_history_intervals_time_in_stage_and_the_report() -> None:
    _world()
    with session_scope() as s:
        service.evaluate(s, D1)
        assert service.evaluate(s, D1).changed == 0  # a second run changes nothing
        s.execute(OnboardingMilestone.__table__.update().values(completed_on=date(2025, 6, 10)))
        service.evaluate(s, date(2025, 6, 11))  # 2 moves on to adoption
        # 5 is moved by a playbook, then by the rules back, the same day: one day, one stage
        record_stages(s, {5: "renewal"}, date(2025, 6, 20), "playbook:renewal-90")
        record_stages(s, {5: "adoption"}, date(2025, 6, 20), "rules")
    with session_scope() as s:
        assert history(s, 2) == [
            StageInterval("onboarding", D1, date(2025, 6, 11), "rules"),
            StageInterval("adoption", date(2025, 6, 11), None, "rules"),
        ]
        assert history(s, 2)[0].days(date(2025, 7, 1)) == 10
        assert history(s, 2)[1].days(date(2025, 7, 1)) == 20
        # the playbook's renewal lasted no day: adoption simply goes on
        assert history(s, 5) == [StageInterval("adoption", D1, None, "rules")]
        assert history(s, 6) == [StageInterval("onboarding", date(2025, 5, 10), None, "import:crm")]
        r = service.lifecycle_report(s, D1, date(2025, 6, 30))
    figures = {f.stage: (f.entered, f.in_stage_at_end, f.ended, f.median_days) for f in r.stages}
    assert figures["onboarding"] == (1, 1, 1, Decimal("10.0"))
    assert figures["adoption"] == (3, 3, 0, None)  # 5 and 7 on D1, 2 on 11 June
    assert figures["churned"] == (1, 1, 0, None)
    moves = {(a, b): n for a, b, n in r.moves}
    assert moves[("onboarding", "adoption")] == 1
    assert moves[(None, "churned")] == 1
    assert [f.stage for f in r.stages][:5] == [
        "onboarding",
        "adoption",
        "renewal",
        "expansion",
        "churned",
    ]


def test_same_day_change_replaces_the_interval() -> None:
    _world()
    with session_scope() as s:
        record_stages(s, {5: "renewal"}, date(2025, 6, 20), "playbook:renewal-90")
        record_stages(s, {5: "adoption"}, date(2025, 6, 20), "rules")
        record_stages(s, {5: "expansion"}, date(2025, 6, 25), "rules")
        # 5 had no stage before: the playbook's renewal of the 20th is replaced by adoption
        assert history(s, 5) == [
            StageInterval("adoption", date(2025, 6, 20), date(2025, 6, 25), "rules"),
            StageInterval("expansion", date(2025, 6, 25), None, "rules"),
        ]
        assert s.get(Account, 5).lifecycle_stage == "expansion"  # type: ignore[union-attr]


def test_lifecycle_yaml_problems_name_file_line_and_field() -> None:
    folder = get_settings().config_path
    folder.mkdir(parents=True)
    (folder / "lifecycle.yaml").write_text(
        "funnel: [onboarding, adoption]\nrules:\n  - {stage: adoption, when: customer}\n"
        "  - {stage: renewal, when: renewal}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigRejected) as err:
        load_lifecycle()
    assert err.value.problems == [
        f"{folder / 'lifecycle.yaml'}:4: rules.1: a renewal rule needs days"
    ]


def test_an_accounts_import_records_the_stages_it_sets(cli, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BANSO_TODAY", "2025-06-02")
    schema.upgrade()
    csv = tmp_path / "accounts.csv"
    csv.write_text(
        "account_id,name,lifecycle_stage\nc1,Alpha,onboarding\nc2,Beta,\n", encoding="utf-8"
    )
    assert cli("import", "accounts", str(csv)).exit_code == 0
    csv.write_text(
        "account_id,name,lifecycle_stage\nc1,Alpha,adoption\nc2,Beta,renewal\n", encoding="utf-8"
    )
    monkeypatch.setenv("BANSO_TODAY", "2025-06-09")
    assert cli("import", "accounts", str(csv)).exit_code == 0
    with session_scope() as s:
        ids = dict(s.execute(select(Account.name, Account.id)).all())
        assert history(s, ids["Alpha"]) == [
            StageInterval("onboarding", date(2025, 6, 2), date(2025, 6, 9), "import:import"),
            StageInterval("adoption", date(2025, 6, 9), None, "import:import"),
        ]
        assert history(s, ids["Beta"]) == [
            StageInterval("renewal", date(2025, 6, 9), None, "import:import")
        ]


def test_a_merge_keeps_the_kept_accounts_history_and_moves_a_programme_it_lacks() -> None:
    from banso.flows.merge import merge_accounts

    _world()
    with session_scope() as s:
        service.evaluate(s, D1)  # 2: onboarding (milestone), 5: adoption, 6: onboarding
        s.add(Account(id=8, name="A8", normalized_name="a8"))
        s.flush()
        merge_accounts(s, 8, 2)  # 8 has no stage and no programme: it takes 2's
        merge_accounts(s, 5, 6)  # 5 keeps its own stage and history
    with session_scope() as s:
        assert s.get(Account, 8).lifecycle_stage == "onboarding"  # type: ignore[union-attr]
        assert [i.stage for i in history(s, 8)] == ["onboarding"]
        assert history(s, 5) == [StageInterval("adoption", D1, None, "rules")]
        assert history(s, 2) == [] and history(s, 6) == []
        owners = s.scalars(select(OnboardingMilestone.account_id)).all()
        assert owners == [8]


def test_lifecycle_report_command(cli) -> None:  # type: ignore[no-untyped-def]
    _world()
    with session_scope() as s:
        service.evaluate(s, D1)
        s.execute(OnboardingMilestone.__table__.update().values(completed_on=date(2025, 6, 10)))
        service.evaluate(s, date(2025, 6, 11))
    result = cli("lifecycle", "report", "--from", "2025-06-01", "--to", "2025-06-30",
                 "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    onboarding = next(x for x in data["stages"] if x["stage"] == "onboarding")
    assert onboarding == {"stage": "onboarding", "entered": 1, "in_stage_at_end": 1, "ended": 1,
                          "median_days": "10.0"}  # fmt: skip
    assert {"from": "onboarding", "to": "adoption", "accounts": 1} in data["moves"]
    table = cli("lifecycle", "report", "--from", "2025-06-01", "--to", "2025-06-30")
    assert table.exit_code == 0 and "Onboarding" in table.stdout and "(no stage)" in table.stdout
    backwards = cli("lifecycle", "report", "--from", "2025-06-30", "--to", "2025-06-01")
    assert backwards.exit_code == 2 and "--to" in backwards.stderr
