"""``banso surveys send|remind|report`` on the hand-made world of the playbook tests."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from tests.playbooks.world import build_world

from banso.audit.models import AuditEntry
from banso.db import session_scope
from banso.messaging.models import OutboxMessage

DAY = "2025-07-01"


@pytest.fixture(autouse=True)
def world() -> None:
    build_world()


def test_send_counts_the_audience_then_sends_once_within_the_quiet_period(cli) -> None:  # type: ignore[no-untyped-def]
    dry = cli("surveys", "send", "--survey", "nps", "--segment", "smb", "--dry-run", "--day", DAY)
    assert dry.exit_code == 0, dry.stderr
    assert "Audience of nps: 2 contacts (would be sent 2); nothing sent (dry run)." in dry.stdout
    first = cli("surveys", "send", "--survey", "nps", "--segment", "smb", "--day", DAY)
    assert "Survey nps: 2 contacts (sent 2)" in first.stdout
    again = cli("surveys", "send", "--survey", "nps", "--segment", "smb", "--day", DAY)
    assert "Survey nps: 2 contacts (in the quiet period 2)" in again.stdout
    # Gamma's only contact left: skipped, with the reason
    gamma = cli("surveys", "send", "--survey", "csat", "--account", "3", "--day", DAY)
    assert "(left the company 1)" in gamma.stdout
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 2
        actions = s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["survey.send", "survey.send", "survey.send"]


def test_bad_input_is_one_sentence_and_exit_code_2(cli) -> None:  # type: ignore[no-untyped-def]
    unknown = cli("surveys", "send", "--survey", "xps", "--account", "1", "--day", DAY)
    assert unknown.exit_code == 2 and "There is no survey xps" in unknown.stderr + unknown.stdout
    both = cli("surveys", "send", "--survey", "nps", "--account", "1", "--segment", "smb")
    assert both.exit_code == 2 and "Give --segment or --account" in both.stderr + both.stdout
    report = cli("surveys", "report", "--type", "xps")
    assert report.exit_code == 2 and "Unknown survey type xps" in report.stderr + report.stdout
    assert cli("surveys", "report", "--by", "colour").exit_code == 2


def test_report_as_json_and_csv(cli) -> None:  # type: ignore[no-untyped-def]
    # the world holds one imported NPS answer: Gamma's 3 on 2025-06-15, a detractor
    out = cli("surveys", "report", "--type", "nps", "--by", "touch", "--format", "json")
    assert out.exit_code == 0, out.stderr
    body = json.loads(out.stdout)
    assert body["rows"] == [{"key": "high", "count": 1, "score": -100.0, "ci_low": -100.0,
                             "ci_high": -100.0, "invited": 0, "answered": 0,
                             "response_rate": None}]  # fmt: skip
    csv_out = cli("surveys", "report", "--type", "nps", "--by", "month", "--format", "csv")
    assert csv_out.stdout.splitlines() == [
        "key,count,score,ci_low,ci_high,invited,answered,response_rate",
        "2025-06,1,-100.0,-100.0,-100.0,0,0,",
        "(all),1,-100.0,-100.0,-100.0,0,0,",
    ]
    table = cli("surveys", "report", "--type", "ces")
    assert table.exit_code == 0 and "CES = the mean answer" in table.stdout
