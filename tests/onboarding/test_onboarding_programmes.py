"""Onboarding programmes: due days in business days across Golden Week and New Year, completion
by event and activity rules on hand-made data, manual ticks, the overdue trigger, and time to
first value by cohort on fixed data."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from banso import schema
from banso.accounts.models import Account
from banso.activities.models import Activity
from banso.audit.models import AuditEntry
from banso.config import get_settings
from banso.db import get_engine, session_scope
from banso.errors import ConfigRejected
from banso.onboarding import report, service
from banso.onboarding.config import load_programmes
from banso.onboarding.models import OnboardingMilestone
from banso.playbooks.config import Playbook
from banso.playbooks.triggers import PlaybookData
from banso.revenue.models import Subscription
from banso.team.models import TeamMember
from banso.usage.store import EVENT_SCHEMA, append_events

PROGRAMME = """
programmes:
  - name: std
    label: {en: Standard, ja: 標準}
    milestones:
      - {key: kickoff, label: {en: Kick-off, ja: キックオフ}, owner: us, due_business_days: 5,
         complete_when: {activity: meeting}}
      - {key: first_value, label: {en: Magic moment, ja: マジックモーメント}, owner: customer,
         due_business_days: 10, magic_moment: true,
         complete_when: {event: report_created, users: 3, within_days: 7}}
      - {key: review, label: {en: Review, ja: 振り返り}, owner: us, due_business_days: 7}
"""


def _config(text: str = PROGRAMME) -> None:
    folder = get_settings().config_path
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "onboarding.yaml").write_text(text, encoding="utf-8")


def _customer(s, account_id: int, start: date, segment: str | None = None, owner=None) -> None:  # type: ignore[no-untyped-def]
    s.add(
        Account(
            id=account_id,
            name=f"A{account_id}",
            normalized_name=f"a{account_id}",
            segment=segment,
            owner_id=owner,
        )
    )
    s.flush()
    s.add(
        Subscription(
            account_id=account_id,
            source="t",
            external_id=f"s{account_id}",
            plan="p",
            start_date=start,
            amount=10_000,
            currency="JPY",
            billing_period_months=1,
        )
    )


def _due(account_id: int) -> dict[str, date]:
    with session_scope() as s:
        rows = s.execute(
            select(OnboardingMilestone.milestone, OnboardingMilestone.due_on).where(
                OnboardingMilestone.account_id == account_id
            )
        ).all()
    return dict(rows)  # type: ignore[arg-type]


def test_due_days_skip_golden_week() -> None:
    # Fri 2025-04-25: 28 (Mon) 1, 29 昭和の日, 30 2, May 1 3, 2 4, 3-6 (Sat, Sun, こどもの日,
    # 振替休日), 7 5, 8 6, 9 7, 12 8, 13 9, 14 10
    schema.upgrade()
    _config()
    with session_scope() as s:
        _customer(s, 1, date(2025, 4, 25))
        s.flush()
        assert service.enrol_new_customers(s, date(2025, 4, 26), load_programmes()) == 1
    assert _due(1) == {
        "kickoff": date(2025, 5, 7),
        "review": date(2025, 5, 9),
        "first_value": date(2025, 5, 14),
    }


def test_due_days_skip_new_year_closures(monkeypatch: pytest.MonkeyPatch) -> None:
    # Fri 2025-12-26; closed 29-31 Dec and 2-3 Jan, 1 Jan a holiday: Jan 5 is the 1st business
    # day, 9 the 5th, 12 成人の日, 13 the 6th, 14 the 7th, 15 8th, 16 9th, 19 the 10th
    monkeypatch.setenv("BANSO_COMPANY_HOLIDAYS", "12-29,12-30,12-31,01-02,01-03")
    schema.upgrade()
    _config()
    with session_scope() as s:
        _customer(s, 1, date(2025, 12, 26))
        s.flush()
        service.enrol_new_customers(s, date(2026, 1, 5), load_programmes())
    assert _due(1) == {
        "kickoff": date(2026, 1, 9),
        "review": date(2026, 1, 14),
        "first_value": date(2026, 1, 19),
    }


def _event(account_id: int, user: str, day: date, name: str = "report_created") -> dict:  # type: ignore[type-arg]
    ts = datetime(day.year, day.month, day.day, 3, tzinfo=UTC)  # noon in Tokyo
    return {
        "event_id": f"{account_id}-{user}-{day}-{name}",
        "account_id": account_id,
        "user_id": user,
        "event": name,
        "ts": ts,
        "properties": None,
    }


def test_magic_moment_completes_on_the_first_day_three_users_fall_in_one_week() -> None:
    """Contract from 2 June 2025. u5 on 1 June is before the start; u1 (3 June) and u2 (5 June)
    make two in a week; u3 (12 June) is alone in the week 6-12 June; u4 (14 June) and u2 again
    (15 June) make u3, u4, u2 in 9-15 June: met on 15 June."""
    schema.upgrade()
    _config()
    events = [
        _event(1, "u5", date(2025, 6, 1)),
        _event(1, "u6", date(2025, 6, 1)),
        _event(1, "u1", date(2025, 6, 3)),
        _event(1, "u2", date(2025, 6, 5)),
        _event(1, "u3", date(2025, 6, 12)),
        _event(1, "u4", date(2025, 6, 14)),
        _event(1, "u2", date(2025, 6, 15)),
        _event(1, "u7", date(2025, 6, 15), "login"),
        _event(2, "u1", date(2025, 6, 3)),
        _event(2, "u2", date(2025, 6, 4)),
    ]
    append_events(pa.Table.from_pylist(events, schema=EVENT_SCHEMA))
    with session_scope() as s:
        _customer(s, 1, date(2025, 6, 2))
        _customer(s, 2, date(2025, 6, 2))
        s.add(
            Activity(
                account_id=2,
                kind="meeting",
                summary="kick-off",
                source="t",
                external_id="a1",
                occurred_at=datetime(2025, 6, 3, 1, tzinfo=UTC),
            )
        )
        s.add(
            Activity(
                account_id=1,
                kind="meeting",
                summary="before",
                source="t",
                external_id="a0",
                occurred_at=datetime(2025, 5, 30, 1, tzinfo=UTC),
            )
        )
        s.flush()
        run = service.evaluate(s, date(2025, 6, 14))
        assert (run.enrolled, run.completed) == (2, 1)  # only 2's kick-off so far
        assert service.evaluate(s, date(2025, 6, 16)).completed == 1  # 1's magic moment
    with session_scope() as s:
        done = dict(
            s.execute(
                select(OnboardingMilestone.account_id, OnboardingMilestone.completed_on).where(
                    OnboardingMilestone.milestone == "first_value"
                )
            ).all()
        )
        kickoff = dict(
            s.execute(
                select(OnboardingMilestone.account_id, OnboardingMilestone.completed_on).where(
                    OnboardingMilestone.milestone == "kickoff"
                )
            ).all()
        )
    assert done == {1: date(2025, 6, 15), 2: None}
    assert kickoff == {1: None, 2: date(2025, 6, 3)}


def test_a_tick_is_audited_and_a_rule_completion_cannot_be_unticked() -> None:
    schema.upgrade()
    _config()
    with session_scope() as s:
        _customer(s, 1, date(2025, 6, 2))
        s.flush()
        service.enrol_new_customers(s, date(2025, 6, 3), load_programmes())
        review = s.scalar(
            select(OnboardingMilestone).where(OnboardingMilestone.milestone == "review")
        )
        service.set_milestone(s, review.id, True, date(2025, 6, 20), "sato@vendor.example")
        assert (review.completed_on, review.completed_by) == (
            date(2025, 6, 20),
            "sato@vendor.example",
        )
        entry = s.scalar(
            select(AuditEntry).where(AuditEntry.action == "onboarding.milestone.complete")
        )
        assert entry is not None and entry.target == "account:1"
        kickoff = s.scalar(
            select(OnboardingMilestone).where(OnboardingMilestone.milestone == "kickoff")
        )
        kickoff.completed_on, kickoff.completed_by = date(2025, 6, 4), "rule"
        s.flush()
        with pytest.raises(service.MilestoneNotEditable):
            service.set_milestone(s, kickoff.id, False, date(2025, 6, 20), "sato@vendor.example")


def test_overdue_trigger_fires_the_day_after_the_due_day_for_open_milestones() -> None:
    # kickoff due 2025-06-09 (5 business days after Mon 2 June), review 11 June, first_value 16
    schema.upgrade()
    _config()
    with session_scope() as s:
        _customer(s, 1, date(2025, 6, 2))
        _customer(s, 2, date(2025, 6, 2))
        s.flush()
        service.enrol_new_customers(s, date(2025, 6, 3), load_programmes())
        for m in s.scalars(select(OnboardingMilestone).where(OnboardingMilestone.account_id == 2)):
            if m.milestone == "kickoff":
                m.completed_on = date(2025, 6, 5)
            if m.milestone == "review":
                m.completed_on = date(2025, 6, 12)  # a day late: done on the first overdue day
    june = [date(2025, 6, 1) + timedelta(days=i) for i in range(29)]
    playbook = Playbook.model_validate(
        {
            "name": "t",
            "trigger": {"type": "onboarding_overdue"},
            "actions": [{"set_field": {"field": "tier", "value": "x"}}],
        }
    )
    table = PlaybookData(get_engine()).firings(playbook, june)
    fired = list(zip(table["account_id"].to_pylist(), table["day"].to_pylist(), strict=True))
    assert fired == [
        (1, date(2025, 6, 10)),  # kickoff
        (1, date(2025, 6, 12)),  # review: 2 completed it on the 12th, so it never was overdue
        (1, date(2025, 6, 17)),
        (2, date(2025, 6, 17)),  # first_value
    ]
    one = playbook.model_copy(
        update={"trigger": playbook.trigger.model_copy(update={"milestone": "kickoff"})}
    )
    table = PlaybookData(get_engine()).firings(one, june)
    assert table["account_id"].to_pylist() == [1]


def test_time_to_first_value_by_cohort_segment_and_owner() -> None:
    """Four accounts: May cohort — one reached first value after 10 days and completed, one
    after 20 days (open review); June cohort — one after 7 days, one never."""
    o = report.AccountOutcome
    items = [
        o(1, date(2025, 5, 1), date(2025, 5, 30), date(2025, 5, 11), "smb", 1),
        o(2, date(2025, 5, 20), None, date(2025, 6, 9), "smb", 2),
        o(3, date(2025, 6, 2), None, date(2025, 6, 9), "enterprise", 1),
        o(4, date(2025, 6, 3), None, None, "enterprise", 1),
    ]
    by_cohort = report.summarise(items, "cohort")
    assert [
        (
            r.key,
            r.enrolled,
            r.completed,
            r.completion_rate,
            r.reached_first_value,
            r.median_ttfv_days,
        )
        for r in by_cohort
    ] == [
        ("2025-05", 2, 1, Decimal("0.500000"), 2, Decimal("15.0")),
        ("2025-06", 2, 0, Decimal("0.000000"), 1, Decimal("7.0")),
    ]
    assert [(r.key, r.median_ttfv_days) for r in report.summarise(items, "owner")] == [
        ("1", Decimal("8.5")),
        ("2", Decimal("20.0")),
    ]
    total = report.total_row(items)
    assert (total.completion_rate, total.median_ttfv_days) == (Decimal("0.250000"), Decimal("10.0"))


def test_outcomes_read_from_the_milestones() -> None:
    schema.upgrade()
    _config()
    with session_scope() as s:
        s.add(TeamMember(id=1, name="佐藤", email="sato@vendor.example"))
        s.flush()
        _customer(s, 1, date(2025, 6, 2), "smb", 1)
        s.flush()
        service.enrol_new_customers(s, date(2025, 6, 3), load_programmes())
        for m in s.scalars(select(OnboardingMilestone)):
            m.completed_on = {
                "kickoff": date(2025, 6, 4),
                "first_value": date(2025, 6, 14),
                "review": date(2025, 6, 20),
            }[m.milestone]
        s.flush()
        got = report.outcomes(s, date(2025, 6, 30))
        assert got == [
            report.AccountOutcome(
                1, date(2025, 6, 2), date(2025, 6, 20), date(2025, 6, 14), "smb", 1
            )
        ]
        assert got[0].ttfv_days == 12
        # as of the 15th the review was still open
        assert report.outcomes(s, date(2025, 6, 15))[0].completed_on is None


def test_programme_for_segment_and_bad_yaml(tmp_path: Path) -> None:
    _config(
        PROGRAMME.replace("  - name: std\n", "  - name: std\n    segments: [smb]\n")
        + """
  - name: other
    label: {en: Other, ja: その他}
    milestones:
      - {key: a, label: {en: A, ja: A}, owner: us, due_business_days: 1}
"""
    )
    loaded = load_programmes()
    assert loaded.for_segment("smb").name == "std"  # type: ignore[union-attr]
    assert loaded.for_segment("enterprise").name == "other"  # type: ignore[union-attr]
    assert loaded.for_segment(None).name == "other"  # type: ignore[union-attr]
    _config(PROGRAMME.replace("owner: customer", "owner: partner"))
    with pytest.raises(ConfigRejected) as err:
        load_programmes()
    problem = err.value.problems[0]
    assert problem.startswith(f"{get_settings().config_path / 'onboarding.yaml'}:8: ")
    assert "programmes.0.milestones.1.owner" in problem


outcome_lists = st.lists(
    st.builds(
        report.AccountOutcome,
        st.integers(1, 10_000),
        st.dates(date(2024, 1, 1), date(2025, 12, 31)),
        st.none() | st.just(date(2026, 1, 31)),
        st.none() | st.dates(date(2026, 1, 1), date(2026, 6, 30)),
        st.sampled_from([None, "smb", "mid"]),
        st.none() | st.integers(1, 3),
    ),
    max_size=40,
)


@given(outcome_lists, st.randoms())
def test_report_rows_are_bounded_and_ignore_order(items, rnd) -> None:  # type: ignore[no-untyped-def]
    rows = report.summarise(items, "cohort")
    shuffled = list(items)
    rnd.shuffle(shuffled)
    assert report.summarise(shuffled, "cohort") == rows
    assert sum(r.enrolled for r in rows) == len(items)
    for r in rows:
        assert r.completion_rate is not None and 0 <= r.completion_rate <= 1
        assert r.reached_first_value <= r.enrolled
        if r.median_ttfv_days is not None:
            assert r.median_ttfv_days >= 0


def test_report_cli_table_json_and_a_bad_format(cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BANSO_TODAY", "2025-07-01")
    schema.upgrade()
    _config()
    with session_scope() as s:
        _customer(s, 1, date(2025, 6, 2), "smb")
        s.flush()
        service.enrol_new_customers(s, date(2025, 6, 3), load_programmes())
        for m in s.scalars(select(OnboardingMilestone)):
            m.completed_on = date(2025, 6, 12) if m.milestone == "first_value" else None
    result = cli("onboarding", "report", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["rows"] == [
        {"key": "2025-06", "name": "2025-06", "enrolled": 1, "completed": 0,
         "completion_rate": "0.000000", "reached_first_value": 1, "median_ttfv_days": "10.0"}
    ]  # fmt: skip
    table = cli("onboarding", "report", "--by", "segment")
    assert table.exit_code == 0 and "SMB" in table.stdout and "10" in table.stdout
    bad = cli("onboarding", "report", "--format", "xml")
    assert bad.exit_code == 2 and "xml" in bad.stderr


def test_board_puts_the_most_overdue_first_and_leaves_out_churned_accounts() -> None:
    # starts 2 June (kickoff due 9 June), 5 June (due 12 June), 16 June (due 23 June); 4 from
    # 2 June churned on 20 June. On 20 June: 1 and 2 overdue at kickoff, 3 not yet due.
    schema.upgrade()
    _config()
    with session_scope() as s:
        for account_id, start in ((1, date(2025, 6, 2)), (2, date(2025, 6, 5)),
                                  (3, date(2025, 6, 16)), (4, date(2025, 6, 2))):  # fmt: skip
            _customer(s, account_id, start)
        s.flush()
        assert service.enrol_new_customers(s, date(2025, 6, 16), load_programmes()) == 4
        s.execute(
            Subscription.__table__.update()
            .where(Subscription.account_id == 4)
            .values(end_date=date(2025, 6, 20))
        )
        page = service.board(s, date(2025, 6, 20), service.BoardFilter(), "en")
        assert [(r.account_id, r.milestone, r.overdue_days) for r in page.rows] == [
            (1, "kickoff", 11),
            (2, "kickoff", 8),
            (3, "kickoff", 0),
        ]
        assert page.by_milestone == [("kickoff", "Kick-off", 3, 2)]
        only = service.board(s, date(2025, 6, 20), service.BoardFilter(overdue_only=True), "en")
        assert (only.total, [r.account_id for r in only.rows]) == (2, [1, 2])
