"""segments.yaml: rules rejected with file, line and reason; membership by priority, history
across days, touch model and tier from the segment, a manual override and its expiry."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from banso import schema
from banso.accounts.models import Account
from banso.audit.models import AuditEntry
from banso.config import get_settings
from banso.db import session_scope
from banso.revenue.models import Subscription
from banso.segments import service
from banso.segments.config import SegmentsError, load_rule_set

RULES = """\
segments:
  big: {touch_model: high, tier: tier1}
  helped: {touch_model: low, tier: tier2}
  mid: {touch_model: low, tier: tier2}
  small: {touch_model: tech, tier: tier3}
rules:
  - segment: big
    priority: 30
    when:
      mrr: {at_least: 100000}
  - segment: big
    priority: 30
    when:
      employees: {at_least: 1000}
      mrr: {at_least: 50000}
  - segment: mid
    priority: 20
    when:
      arr: {at_least: 300000}
  - segment: helped
    priority: 10
    when:
      it_literacy: [1, 2]
      motivation: [4, 5]
default: small
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "segments.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(SegmentsError) as caught:
        load_rule_set(path, bands={"green", "yellow", "red"})
    return caught.value.problems


# ---------------------------------------------------------------- validation


def test_the_packaged_rules_and_these_rules_load(tmp_path: Path) -> None:
    rules = load_rule_set(_write(tmp_path, RULES))
    assert [(r.segment, r.priority) for r in rules.rules] == [
        ("big", 30), ("big", 30), ("mid", 20), ("helped", 10),
    ]  # fmt: skip
    # arr 300,000 a year is 25,000 a month
    assert rules.rules[2].fields["mrr"].low == 25_000
    load_rule_set()


def test_an_unknown_field_is_rejected_with_file_line_and_reason(tmp_path: Path) -> None:
    path = _write(tmp_path, RULES.replace("employees: {at_least: 1000}", "headcount: 1000"))
    [problem] = _problems(path)
    assert problem.startswith(f"{path}:14: rules.1.when.headcount: ")
    assert "Extra inputs are not permitted" in problem


def test_same_priority_rules_that_can_both_hold_are_rejected(tmp_path: Path) -> None:
    # mid at 30 overlaps big (mrr >= 100,000 is also arr >= 300,000)
    path = _write(tmp_path, RULES.replace("priority: 20", "priority: 30"))
    first, second = _problems(path)
    assert first.startswith(f"{path}:17: rules.2.priority: overlaps rule 1 (big)")
    assert second.startswith(f"{path}:17: rules.2.priority: overlaps rule 2 (big)")


def test_same_priority_rules_that_cannot_both_hold_are_accepted(tmp_path: Path) -> None:
    # mrr below 25,000 (arr below 300,000) and mrr at least 100,000: disjoint; so are two
    # rating lists without a common value
    text = RULES.replace("arr: {at_least: 300000}", "arr: {below: 300000}").replace(
        "priority: 20", "priority: 30"
    )
    text = text.replace("priority: 10", "priority: 30").replace(
        "it_literacy: [1, 2]", "it_literacy: [1, 2]\n      mrr: {at_least: 25000, below: 50000}"
    )
    load_rule_set(_write(tmp_path, text))


def test_mrr_and_arr_bounds_meet_exactly_at_the_month(tmp_path: Path) -> None:
    """arr below 1,200,000 is mrr below 100,000: next to mrr >= 100,000, no overlap; arr
    below 1,200,001 lets mrr = 100,000 in, which overlaps."""
    base = RULES.replace("priority: 20", "priority: 30")
    fine = base.replace("arr: {at_least: 300000}", "arr: {below: 1200000}")
    load_rule_set(
        _write(
            tmp_path,
            fine.replace(
                "priority: 30\n    when:\n      employees",
                "priority: 31\n    when:\n      employees",
            ),
        )
    )
    clash = base.replace("arr: {at_least: 300000}", "arr: {below: 1200001}")
    clash = clash.replace("priority: 30\n    when:\n      employees",
                          "priority: 31\n    when:\n      employees")  # fmt: skip
    assert "overlaps rule 1 (big)" in _problems(_write(tmp_path, clash))[0]


def test_a_rating_outside_1_to_5_is_rejected(tmp_path: Path) -> None:
    path = _write(tmp_path, RULES.replace("motivation: [4, 5]", "motivation: [4, 6]"))
    [problem] = _problems(path)
    assert problem == (
        f"{path}:24: rules.3.when.motivation: a rating is a whole number from 1 to 5; got 6"
    )


def test_unknown_segments_bands_and_touch_models_are_rejected(tmp_path: Path) -> None:
    text = RULES.replace("default: small", "default: tiny").replace(
        "touch_model: tech", "touch_model: email"
    )
    text = text.replace("it_literacy: [1, 2]", "health_band: [purple]")
    problems = _problems(_write(tmp_path, text))
    assert any(":5: segments.small.touch_model: unknown touch model 'email'" in p
               for p in problems)  # fmt: skip


def test_references_are_checked_once_the_file_is_valid(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        RULES.replace("default: small", "default: tiny").replace(
            "it_literacy: [1, 2]", "health_band: [purple]"
        ),
    )
    assert _problems(path) == [
        f"{path}:25: default: unknown segment 'tiny'",
        f"{path}:23: rules.3.when.health_band: unknown health band 'purple'",
    ]


# ---------------------------------------------------------------- evaluation


def _world(tmp_path: Path) -> dict[str, int]:
    """Five accounts (JPY): A 120,000/month; B 60,000/month and 2,000 people; C 30,000/month;
    D 10,000/month, rated 2 and 5; E 10,000/month, unrated. C's line ends on 2026-03-10, after
    which C pays nothing (not a customer)."""
    schema.upgrade()
    config = get_settings().config_path
    config.mkdir(parents=True, exist_ok=True)
    (config / "segments.yaml").write_text(RULES, encoding="utf-8")
    ids = {}
    with session_scope() as s:
        for name, mrr, people, ratings, end in (
            ("A", 120_000, 50, (None, None), None),
            ("B", 60_000, 2_000, (None, None), None),
            ("C", 30_000, 10, (None, None), date(2026, 3, 10)),
            ("D", 10_000, 5, (2, 5), None),
            ("E", 10_000, 5, (None, None), None),
        ):
            account = Account(
                name=name, normalized_name=name, employee_count=people,
                it_literacy=ratings[0], motivation=ratings[1],
            )  # fmt: skip
            s.add(account)
            s.flush()
            ids[name] = account.id
            s.add(
                Subscription(
                    account_id=account.id, source="billing", external_id=f"sub-{name}",
                    start_date=date(2026, 1, 1), end_date=end, amount=mrr, currency="JPY",
                    billing_period_months=1,
                )
            )  # fmt: skip
    return ids


def _state(ids: dict[str, int]) -> dict[str, tuple]:
    with session_scope() as s:
        rows = s.execute(
            select(Account.name, Account.segment, Account.touch_model, Account.tier,
                   Account.touch_source)
        ).all()  # fmt: skip
    return {r[0]: tuple(r[1:]) for r in rows}


def test_each_account_gets_the_highest_priority_segment_and_its_touch_model(
    tmp_path: Path, any_db: str
) -> None:
    ids = _world(tmp_path)
    with session_scope() as s:
        result = service.evaluate(s, date(2026, 3, 1))
    assert result.changed == 5
    assert {c.segment: (c.accounts, c.mrr) for c in result.counts} == {
        "big": (2, 180_000), "mid": (1, 30_000), "helped": (1, 10_000), "small": (1, 10_000),
    }  # fmt: skip
    assert _state(ids) == {
        "A": ("big", "high", "tier1", "segment"),
        "B": ("big", "high", "tier1", "segment"),
        "C": ("mid", "low", "tier2", "segment"),
        "D": ("helped", "low", "tier2", "segment"),
        "E": ("small", "tech", "tier3", "segment"),
    }
    with session_scope() as s:
        touches = s.scalars(select(AuditEntry).where(AuditEntry.action == "account.touch")).all()
    assert len(touches) == 5
    assert json.loads(touches[0].detail)["to"] == {"touch_model": "high", "tier": "tier1"}


def test_history_across_days_keeps_intervals_and_a_past_day_can_be_reevaluated(
    tmp_path: Path, any_db: str
) -> None:
    ids = _world(tmp_path)
    days = [date(2026, 3, 1), date(2026, 3, 10), date(2026, 3, 20)]
    with session_scope() as s:
        for day in days:
            service.evaluate(s, day)
    # C stops paying on 03-10: from then on it is small
    with session_scope() as s:
        assert service.account_history(s, ids["C"]) == [
            {"segment": "mid", "start": date(2026, 3, 1), "end": date(2026, 3, 10)},
            {"segment": "small", "start": date(2026, 3, 10), "end": None},
        ]
        assert service.account_history(s, ids["A"]) == [
            {"segment": "big", "start": date(2026, 3, 1), "end": None}
        ]
        assert service.membership_on(s, ids["C"], date(2026, 3, 9)) == "mid"
        assert service.membership_on(s, ids["C"], date(2026, 3, 15)) == "small"
        assert service.membership_on(s, ids["C"], date(2026, 2, 28)) is None
        assert service.members(s, "small")[0] == 2
    # D's ratings change; re-evaluating 03-10 only rewrites 03-10 .. 03-19
    with session_scope() as s:
        service.set_ratings(s, ids["D"], it_literacy=5, motivation=5)
    # (the engine reads committed data, as health scoring does)
    with session_scope() as s:
        service.evaluate(s, date(2026, 3, 10))
        assert service.account_history(s, ids["D"]) == [
            {"segment": "helped", "start": date(2026, 3, 1), "end": date(2026, 3, 10)},
            {"segment": "small", "start": date(2026, 3, 10), "end": date(2026, 3, 20)},
            {"segment": "helped", "start": date(2026, 3, 20), "end": None},
        ]
        # the accounts keep the newest day's segment (03-20 still says helped)
        assert s.get(Account, ids["D"]).segment == "helped"
        # evaluating the newest day again with the new ratings closes it; the pieces join
        service.evaluate(s, date(2026, 3, 20))
        assert service.account_history(s, ids["D"]) == [
            {"segment": "helped", "start": date(2026, 3, 1), "end": date(2026, 3, 10)},
            {"segment": "small", "start": date(2026, 3, 10), "end": None},
        ]
        # and back: re-evaluating 03-10 with the old ratings joins all three again
        service.set_ratings(s, ids["D"], it_literacy=2, motivation=5)
    with session_scope() as s:
        service.evaluate(s, date(2026, 3, 10))
        service.evaluate(s, date(2026, 3, 20))
        assert service.account_history(s, ids["D"]) == [
            {"segment": "helped", "start": date(2026, 3, 1), "end": None},
        ]
        assert [d for d in service.evaluated_days(s)] == days


def test_an_override_wins_until_it_expires_then_the_segment_applies_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, any_db: str
) -> None:
    ids = _world(tmp_path)
    monkeypatch.setenv("BANSO_TODAY", "2026-03-01")
    get_settings.cache_clear()
    with session_scope() as s:
        service.evaluate(s, date(2026, 3, 1))
        service.set_override(
            s, ids["E"], "high", "strategic logo, CEO sponsor", date(2026, 3, 15), tier="tier1"
        )
    assert _state(ids)["E"] == ("small", "high", "tier1", "override")
    with session_scope() as s:
        service.evaluate(s, date(2026, 3, 15))  # the last day of the override
    assert _state(ids)["E"] == ("small", "high", "tier1", "override")
    with session_scope() as s:
        assert s.get(Account, ids["E"]).touch_reason == "strategic logo, CEO sponsor"
        service.evaluate(s, date(2026, 3, 16))
        account = s.get(Account, ids["E"])
        assert (account.touch_model, account.tier, account.touch_source) == (
            "tech", "tier3", "segment",
        )  # fmt: skip
        assert account.touch_since == date(2026, 3, 16)
        actions = s.scalars(
            select(AuditEntry.action).where(AuditEntry.target == f"account:{ids['E']}")
            .order_by(AuditEntry.id)
        ).all()  # fmt: skip
    assert actions == [
        "account.touch", "account.touch_override", "account.touch", "account.touch",
    ]  # fmt: skip


def test_an_override_needs_a_reason_and_a_future_expiry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _world(tmp_path)
    monkeypatch.setenv("BANSO_TODAY", "2026-03-01")
    get_settings.cache_clear()
    from banso.errors import BansoError

    with session_scope() as s, pytest.raises(BansoError, match="reason"):
        service.set_override(s, ids["E"], "high", "  ", date(2026, 3, 15))
    with session_scope() as s, pytest.raises(BansoError, match="expire on or after 2026-03-01"):
        service.set_override(s, ids["E"], "high", "x", date(2026, 2, 1))
    with session_scope() as s, pytest.raises(BansoError, match="Unknown touch model"):
        service.set_override(s, ids["E"], "phone", "x", date(2026, 3, 15))


def test_a_playbook_replay_reads_the_segment_of_each_day(tmp_path: Path) -> None:
    """Z pays 10,000 from 03-01 (small) and 150,000 more from 03-15 (big). On 03-01 Z was small,
    so a replay of 03-01 fires a `new_account` playbook for small accounts although Z is big
    today, and not one for big accounts."""
    from banso.db import get_engine
    from banso.playbooks.config import Playbook
    from banso.playbooks.triggers import PlaybookData

    _world(tmp_path)
    with session_scope() as s:
        z = Account(name="Z", normalized_name="Z")
        s.add(z)
        s.flush()
        for n, (start, mrr) in enumerate(((date(2026, 3, 1), 10_000),
                                          (date(2026, 3, 15), 150_000))):  # fmt: skip
            s.add(
                Subscription(
                    account_id=z.id, source="billing", external_id=f"sub-Z{n}", start_date=start,
                    amount=mrr, currency="JPY", billing_period_months=1,
                )
            )  # fmt: skip
        z_id = z.id
    with session_scope() as s:
        service.evaluate(s, date(2026, 3, 1))
        service.evaluate(s, date(2026, 3, 15))
        assert s.get(Account, z_id).segment == "big"

    def fired(segment: str) -> list[int]:
        playbook = Playbook.model_validate(
            {
                "name": "welcome",
                "trigger": {"type": "new_account"},
                "conditions": {"segment": [segment]},
                "actions": [{"cta": {"type": "lifecycle", "title": {"en": "Welcome"}}}],
            }
        )
        table = PlaybookData(get_engine()).firings(playbook, [date(2026, 3, 1)])
        rows = table.to_pylist()
        assert all(r["segment"] == segment for r in rows)
        return [r["account_id"] for r in rows]

    assert z_id in fired("small")
    assert z_id not in fired("big")
