"""Books of business and capacity on a small team, every figure worked by hand; the team
commands, and a bad team.yaml rejected with file, line and reason."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from fractions import Fraction
from pathlib import Path

import pytest
from sqlalchemy import select

from banso import schema
from banso.accounts import ownership
from banso.accounts.models import Account
from banso.activities.models import Activity
from banso.audit.models import AuditEntry
from banso.books.capacity import capacity, percentile
from banso.books.config import TeamConfigError, load_team_config
from banso.books.service import books_of_business, load_world
from banso.db import session_scope
from banso.playbooks.models import Cta
from banso.revenue.models import Subscription
from banso.team.models import TeamMember

DAY = date(2026, 7, 15)  # window: 2026-01 .. 2026-06
TEAM_YAML = """\
titles:
  - title: trainee
    max_account_mrr: 100000
    book_size: {low: 40}
  - title: associate
    book_size: {low: 60}
teams:
  - name: Mid
    touch_models: [low]
"""


def _at(y: int, m: int, d: int, hour: int = 3) -> datetime:
    return datetime(y, m, d, hour, 0, tzinfo=UTC)


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch, banso_home: Path) -> Path:
    """Aoi (associate) owns accounts 1-3, Ben (trainee) account 4; account 3 pays ¥200,000 a
    month (outside Ben's band), the others ¥50,000. Touches in the window: Aoi 10 in January
    (one logged 2025-12-31 16:00 UTC, already January 1st in Tokyo) and 6 in February; Ben 4
    activities and 1 closed CTA in March. One activity of 2025-12 falls outside."""
    monkeypatch.setenv("BANSO_TODAY", DAY.isoformat())
    schema.upgrade()
    with session_scope() as s:
        s.add_all(
            [
                TeamMember(id=1, name="Aoi", email="aoi@x", job_title="associate", team="Mid"),
                TeamMember(id=2, name="Ben", email="ben@x", job_title="trainee", team="Mid"),
            ]
        )
        for i in range(1, 5):
            s.add(Account(id=i, name=f"A{i}", normalized_name=f"a{i}", touch_model="low"))
        s.flush()
        for i in range(1, 5):
            s.add(Subscription(account_id=i, source="t", external_id=str(i),
                               start_date=date(2025, 1, 1), end_date=None,
                               amount=200_000 if i == 3 else 50_000, currency="JPY",
                               billing_period_months=1))  # fmt: skip
        s.flush()
        ownership.set_owners(s, {1: 1, 2: 1, 3: 1, 4: 2}, source="manual", day=date(2025, 1, 1))
        n = 0

        def act(member: int, at: datetime) -> None:
            nonlocal n
            n += 1
            s.add(Activity(account_id=1 if member == 1 else 4, member_id=member, source="t",
                           external_id=str(n), kind="call", occurred_at=at))  # fmt: skip

        act(1, datetime(2025, 12, 31, 16, 0, tzinfo=UTC))
        for d in range(1, 10):
            act(1, _at(2026, 1, d))
        for d in range(1, 7):
            act(1, _at(2026, 2, d))
        for d in range(1, 5):
            act(2, _at(2026, 3, d))
        act(2, _at(2025, 12, 1))
        s.add(Cta(account_id=4, playbook="p", reason="r", type="risk", priority="high",
                  title="t", status="closed", owner_id=2, due_date=DAY,
                  first_triggered_on=DAY, last_triggered_on=DAY,
                  closed_at=_at(2026, 3, 20)))  # fmt: skip
    path = banso_home / "team.yaml"
    path.write_text(TEAM_YAML, encoding="utf-8")
    return path


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([10, 6, 5], Fraction(8, 10)) == Fraction(42, 5)  # 6 + 0.6 × 4
    assert percentile([7], Fraction(8, 10)) == 7


def test_books_and_capacity_by_hand(world: Path) -> None:
    config = load_team_config(world).model
    with session_scope() as s:
        w = load_world(s, DAY)
        books = {b.member.name: b for b in books_of_business(w, config)}
        (low,) = capacity(s, w, config)
    assert books["Aoi"].books["low"].accounts == 3
    assert books["Aoi"].books["low"].mrr == 300_000
    assert books["Aoi"].books["low"].target == 60
    assert books["Ben"].books["low"].accounts == 1
    assert books["Aoi"].band_violations == books["Ben"].band_violations == 0
    # touches 10 + 6 + 5 = 21 over 4 accounts × 6 months
    assert low.touches == 21
    assert low.per_account == Fraction(21, 24)
    # monthly touches per CSM: 10, 6, 5 -> 80th percentile 8.4; 8.4 / 0.875 = 9.6 -> 9
    assert low.per_csm == Fraction(42, 5)
    assert low.servable == 9
    assert low.csms == 2
    assert low.utilisation == Fraction(4, 18)
    assert low.headroom == 14


def test_team_commands(world: Path, cli) -> None:  # type: ignore[no-untyped-def]
    # caps ⌈4 × 60/100⌉ = 3 for Aoi, ⌈4 × 40/100⌉ = 2 for Ben: nothing to move
    result = cli("team", "assign", "--propose", "--file", str(world))
    assert result.exit_code == 0, result.stderr
    assert "0 accounts moved, 0 unowned accounts assigned." in result.stdout
    hires = cli("team", "capacity", "--hires", "2", "--title", "trainee", "--format", "json",
                "--file", str(world))  # fmt: skip
    assert hires.exit_code == 0, hires.stderr
    data = json.loads(hires.stdout)
    assert data["now"][0]["csms"] == 2 and data["with_hires"][0]["csms"] == 4
    assert data["with_hires"][0]["utilisation"] == str(round(4 / 36, 3))
    # with two trainee hires the caps are ⌈4 × 60/180⌉ = 2 and ⌈4 × 40/180⌉ = 1: Aoi gives one
    proposal = cli("team", "assign", "--propose", "--hires", "2", "--title", "trainee",
                   "--format", "json", "--file", str(world))  # fmt: skip
    assert proposal.exit_code == 0, proposal.stderr
    assert json.loads(proposal.stdout)["moved"] == 1
    assert "1 account moved" in proposal.stderr
    refused = cli("team", "assign", "--apply", "--hires", "1", "--title", "trainee",
                  "--file", str(world))  # fmt: skip
    assert refused.exit_code == 2


def test_apply_moves_owners_with_history_and_audit(world: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Ben becomes an associate: caps ⌈4 × 60/120⌉ = 2 each, so one of Aoi's accounts moves."""
    with session_scope() as s:
        s.get(TeamMember, 2).job_title = "associate"  # type: ignore[union-attr]
    result = cli("team", "assign", "--apply", "--file", str(world))
    assert result.exit_code == 0, result.stderr
    assert "Applied: 1 account moved" in result.stdout
    with session_scope() as s:
        owners = dict(s.execute(select(Account.id, Account.owner_id)).all())
        assert sorted(owners.values()) == [1, 1, 2, 2]
        moved = next(a for a in (1, 2, 3) if owners[a] == 2)
        assert ownership.owner_on(s, moved, date(2026, 7, 14)) == 1
        assert ownership.owner_on(s, moved, DAY) == 2
        (entry,) = s.scalars(select(AuditEntry).where(AuditEntry.action == "team.assign"))
        assert json.loads(entry.detail)["moved"] == 1
    again = cli("team", "assign", "--propose", "--file", str(world))
    assert "0 accounts moved" in again.stdout


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (TEAM_YAML.replace("title: trainee", "title: intern"),
         "team.yaml:2: titles.0.title: 'intern' is not a job title"),
        (TEAM_YAML.replace("{low: 40}", "{mid: 40}"),
         "team.yaml:4: titles.0.book_size: 'mid' is not a touch model"),
        (TEAM_YAML.replace("    max_account_mrr: 100000\n",
                           "    max_account_mrr: 100000\n    min_account_mrr: 200000\n"),
         "team.yaml:2: titles.0: max_account_mrr is below min_account_mrr"),
        (TEAM_YAML + "colour: red\n", "team.yaml:10: colour: Extra inputs are not permitted"),
    ],
)  # fmt: skip
def test_bad_config_is_rejected_with_file_line_and_reason(
    text: str,
    problem: str,
    banso_home: Path,
    cli,  # type: ignore[no-untyped-def]
) -> None:
    path = banso_home / "team.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TeamConfigError) as err:
        load_team_config(path)
    assert any(p.endswith(problem) or problem in p for p in err.value.problems), err.value.problems
    result = cli("team", "check-config", "--file", str(path))
    assert result.exit_code == 2
    assert problem in result.stderr
