"""A playbook sends a survey (``send_survey``), and a Banso answer fires ``nps_answered`` on the
next run of the day it was given."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select
from tests.playbooks.world import build_world

from banso.db import session_scope
from banso.playbooks import service as playbooks
from banso.playbooks.models import PlaybookFiring
from banso.voc import service
from banso.voc.models import SurveyInvitation

QUIET_DAY = date(2025, 6, 19)  # Beta (tech touch) has had no activity for 7 days


def _playbook(home: Path, name: str, text: str) -> None:
    folder = home / "config" / "playbooks"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.yaml").write_text(text, encoding="utf-8")


def test_send_survey_invites_the_role_once(banso_home: Path) -> None:
    build_world()
    _playbook(banso_home, "quiet-ces", (
        "name: quiet-ces\n"
        "trigger: {type: no_activity, days: 7}\n"
        "conditions: {touch_model: [tech]}\n"
        "actions:\n"
        "  - send_survey: {survey: ces, to: champion}\n"
    ))  # fmt: skip
    with session_scope() as s:  # a replay counts the invitation as an email, writes nothing
        [replayed] = playbooks.replay(s, ["quiet-ces"], QUIET_DAY, QUIET_DAY)
        assert (replayed.totals.firings, replayed.totals.emails) == (1, 1)
        assert s.scalars(select(SurveyInvitation)).all() == []
    with session_scope() as s:
        counts = playbooks.run_playbooks(s, QUIET_DAY, ["quiet-ces"])["quiet-ces"]
    assert (counts.firings, counts.emails) == (1, 1)
    with session_scope() as s:
        [invitation] = s.scalars(select(SurveyInvitation)).all()
        assert (invitation.contact_id, invitation.survey_type, invitation.origin) == (
            2, "ces", "playbook:quiet-ces",
        )  # fmt: skip
        # the same day again acts on nobody
        counts = playbooks.run_playbooks(s, QUIET_DAY, ["quiet-ces"])["quiet-ces"]
        assert (counts.firings, counts.emails) == (0, 0)
        assert len(s.scalars(select(SurveyInvitation)).all()) == 1


def test_an_unknown_survey_is_a_config_problem(banso_home: Path, cli) -> None:  # type: ignore[no-untyped-def]
    _playbook(banso_home, "typo", (
        "name: typo\n"
        "trigger: {type: no_activity, days: 7}\n"
        "actions:\n"
        "  - send_survey: {survey: nsp}\n"
    ))  # fmt: skip
    result = cli("playbooks", "check-config")
    assert result.exit_code == 2
    assert "typo.yaml:4: actions.0.send_survey.survey: unknown survey 'nsp'" in (
        result.stdout + result.stderr
    )


def test_a_detractor_answer_on_the_page_fires_nps_answered_that_day(banso_home: Path) -> None:
    build_world()
    _playbook(banso_home, "detractor", (
        "name: detractor\n"
        "trigger: {type: nps_answered, category: detractor}\n"
        "actions:\n"
        "  - cta: {type: risk, title: {en: 'Call back'}}\n"
    ))  # fmt: skip
    with session_scope() as s:
        sent = service.invite(s, survey="nps", contact_id=2, origin="cli", day=date(2025, 7, 1))
        invitation = s.get(SurveyInvitation, sent.invitation_id)
        assert invitation is not None
        token = service.answer_token(invitation)
    with session_scope() as s:
        at = datetime(2025, 7, 2, 1, tzinfo=UTC)  # 10:00 in Tokyo on 2 July
        service.answer(s, token, score=4, comment=None, now=at)
    with session_scope() as s:
        fired = playbooks.run_playbooks(s, date(2025, 7, 2), ["detractor"])["detractor"]
        assert fired.firings == 1
        rows = s.scalars(select(PlaybookFiring.account_id)).all()
    assert rows == [2]
