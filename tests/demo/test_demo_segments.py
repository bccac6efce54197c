"""The demo world comes with its segments evaluated for its last day: the packaged rules give
the demo's own triage (ARR from 1,000,000 yen enterprise and high touch, from 300,000 mid and
low touch, the rest SMB and tech touch) and most accounts carry triage ratings."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from banso import config
from banso.accounts.models import Account
from banso.db import session_scope
from banso.segments import service
from banso.segments.models import SegmentMembership


def test_the_demo_world_is_segmented_by_the_packaged_rules(cli, banso_home: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").exit_code == 0
    made = cli("demo", "generate", "--accounts", "150", "--months", "12", "--end", "2026-05-01",
               "--event-scale", "0")  # fmt: skip
    assert made.exit_code == 0, made.stderr
    assert "Segments evaluated for 2026-05-01: enterprise" in made.stdout
    config.get_settings.cache_clear()
    with session_scope() as s:
        assert service.evaluated_days(s) == [date(2026, 5, 1)]
        assert s.scalar(select(func.count()).select_from(SegmentMembership)) == 150
        rows = s.execute(
            select(Account.segment, Account.touch_model, Account.tier, Account.touch_source,
                   Account.it_literacy, Account.motivation)
        ).all()  # fmt: skip
        mapping = {(r.segment, r.touch_model, r.tier) for r in rows}
        assert mapping <= {("enterprise", "high", "tier1"), ("mid", "low", "tier2"),
                           ("smb", "tech", "tier3")}  # fmt: skip
        assert {r.touch_source for r in rows} == {"segment"}
        assert {r.segment for r in rows} == {"enterprise", "mid", "smb"}
        rated = [r for r in rows if r.it_literacy is not None]
        assert 0.6 * len(rows) < len(rated) < len(rows)
        assert {r.it_literacy for r in rated} | {r.motivation for r in rated} <= {1, 2, 3, 4, 5}
        counted = service.counts_on(s)
    assert counted is not None
    per_account = {c.segment: c.mrr / c.accounts for c in counted[1]}
    # MRR per account falls from enterprise to mid to SMB (the rules cut by ARR)
    assert per_account["enterprise"] > per_account["mid"] > per_account["smb"]
    assert per_account["enterprise"] * 12 >= 1_000_000
