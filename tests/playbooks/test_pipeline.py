"""``banso run`` is the daily pipeline and running a day twice does nothing twice."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select
from tests.playbooks.world import build_world

from banso.db import session_scope
from banso.health import snapshots
from banso.messaging.models import OutboxMessage
from banso.playbooks.models import Cta, PlaybookFiring
from banso.surveys.models import SurveyResponse


def test_run_twice_for_a_day_scores_health_and_acts_once(banso_home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    build_world()
    first = cli("run", "--as-of", "2025-06-17", "--no-send")
    assert first.exit_code == 0, first.stderr
    assert "usage-inactive: 1 account, 1 CTA opened, 0 updated, 0 messages queued." in (
        first.stdout
    )
    again = cli("run", "--as-of", "2025-06-17", "--no-send")
    assert again.exit_code == 0, again.stderr
    assert "usage-inactive" not in again.stdout
    # the day itself and the days the health playbooks compare with are scored
    assert {d.isoformat() for d in snapshots.scored_days()} >= {
        "2025-06-17", "2025-06-16", "2025-06-03",
    }  # fmt: skip
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Cta)) == 1
        firings = s.execute(select(PlaybookFiring.playbook, PlaybookFiring.account_id)).all()
        assert sorted(firings) == [("usage-inactive", 1)]
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_run_imports_the_inbox_and_moves_files(banso_home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    build_world()
    inbox = banso_home / "inbox" / "surveys"
    inbox.mkdir(parents=True)
    (inbox / "nps.csv").write_text(
        "account_id,survey_type,score,answered_at,response_id\n3,nps,10,2025-06-18T10:00:00+09:00,r9\n"
    )
    (inbox / "broken.csv").write_text("nothing,useful\n1,2\n")
    result = cli("run", "--as-of", "2025-06-18", "--no-send")
    assert result.exit_code == 0, result.stderr
    assert "Inbox: 1 file imported, 1 rejected." in result.stdout
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(SurveyResponse)) == 2
    assert (inbox / "done" / "nps.csv").exists() and (inbox / "rejected" / "broken.csv").exists()
