"""On the demo, one `banso run` gives every red customer of the demo CSM an open CTA (the
"while in band" trigger of the default health-red playbook), and a second run adds nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from banso.accounts.models import Account
from banso.db import session_scope
from banso.health import snapshots
from banso.playbooks.models import Cta, PlaybookFiring
from banso.team.models import TeamMember

DAY = date(2026, 4, 30)


def test_every_red_account_of_the_demo_csm_has_an_open_cta_after_run(
    cli,  # type: ignore[no-untyped-def]
    banso_home: Path,
) -> None:
    assert cli("init").exit_code == 0
    made = cli("demo", "generate", "--accounts", "400", "--months", "6", "--end", "2026-05-01")
    assert made.exit_code == 0, made.stderr
    first = cli("run", "--as-of", DAY.isoformat(), "--no-send")
    assert first.exit_code == 0, first.stderr
    with session_scope() as s:
        # the demo CSM: the team member who owns the most accounts (scripts/demo)
        csm = s.scalars(
            select(TeamMember.id).join(Account, Account.owner_id == TeamMember.id)
            .group_by(TeamMember.id).order_by(func.count().desc(), TeamMember.id).limit(1)
        ).one()  # fmt: skip
        owned = set(s.scalars(select(Account.id).where(Account.owner_id == csm)))
        table = snapshots.read(start=DAY, end=DAY, columns="account_id, band")
        red = {r["account_id"] for r in table.to_pylist() if r["band"] == "red"} & owned
        with_cta = set(
            s.scalars(select(Cta.account_id).where(Cta.status == "open", Cta.owner_id == csm))
        )
        opened = s.scalar(select(func.count()).select_from(Cta))
        fired = s.scalar(select(func.count()).select_from(PlaybookFiring))
    assert len(red) >= 3, "the demo CSM should have red accounts to act on"
    assert red <= with_cta, sorted(red - with_cta)

    again = cli("run", "--as-of", DAY.isoformat(), "--no-send")
    assert again.exit_code == 0, again.stderr
    later = cli("run", "--as-of", "2026-05-01", "--no-send")  # the next day: still open
    assert later.exit_code == 0, later.stderr
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Cta)) >= opened
        health_red = s.scalar(
            select(func.count()).select_from(Cta).where(Cta.playbook == "health-red")
        )
        red_firings = s.scalars(
            select(PlaybookFiring.account_id).where(PlaybookFiring.playbook == "health-red")
        ).all()
        assert s.scalar(select(func.count()).select_from(PlaybookFiring)) >= fired
    # one CTA per red account, however many runs: no firing while its CTA is open
    assert len(red_firings) == len(set(red_firings)) == health_red
