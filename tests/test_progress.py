"""Progress of long commands: off a terminal (a log, a pipe) a line when a step starts, then at
most one every BANSO_PROGRESS_SECONDS, and one when it ends; on a terminal a bar instead."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from banso import config, i18n
from banso.progress import ProgressDisplay, progress


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_log_gets_a_line_at_the_start_every_interval_and_at_the_end() -> None:
    out, clock = io.StringIO(), Clock()
    shown = ProgressDisplay(out, terminal=False, interval=10, clock=clock)
    advance = shown.counter("Scoring days", 90)
    for _ in range(30):  # one day scored per second for 30 s
        clock.now += 1
        advance(1)
    clock.now += 1
    shown.advance("Scoring days", 60)  # the rest at once: the step ends
    assert out.getvalue().splitlines() == [
        "Scoring days: 0 of 90 (0%), 0 s",
        "Scoring days: 10 of 90 (11%), 10 s",
        "Scoring days: 20 of 90 (22%), 20 s",
        "Scoring days: 30 of 90 (33%), 30 s",
        "Scoring days: done, 90 in 31 s",
    ]


def test_steps_of_unknown_length_bytes_and_japanese(monkeypatch: pytest.MonkeyPatch) -> None:
    out, clock = io.StringIO(), Clock()
    shown = ProgressDisplay(out, terminal=False, interval=0, clock=clock)
    with shown.step("Running playbooks"):
        clock.now += 3
    shown.update("Importing big.csv", 16 << 20, 64 << 20, size=True)
    shown.update("Importing big.csv", 64 << 20, 64 << 20, size=True)
    shown.update("Importing big.csv", 64 << 20, 64 << 20, size=True)  # said once only
    i18n.set_language("ja")
    shown.update("受信", 5)
    assert out.getvalue().splitlines() == [
        "Running playbooks…",
        "Running playbooks: done in 3 s",
        "Importing big.csv: 16.0 MB of 64.0 MB (25%), 0 s",
        "Importing big.csv: done, 64.0 MB in 0 s",
        "受信: 5、0 秒",
    ]


def test_a_terminal_draws_bars_and_writes_no_log_lines() -> None:
    out = io.StringIO()
    with progress(out, terminal=True, interval=0) as shown:
        assert shown.bars is not None
        with shown.step("Scoring days", 3) as advance:
            advance(3)
    assert "Scoring days:" not in out.getvalue()  # a transient bar, not lines
    quiet = ProgressDisplay(out := io.StringIO(), terminal=False, interval=0, quiet=True)
    quiet.counter("Scoring days", 2)(2)
    assert out.getvalue() == ""


def test_a_bad_progress_interval_is_a_clear_setting_error(
    cli,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BANSO_PROGRESS_SECONDS", "-1")
    result = cli("init")
    assert result.exit_code == 2 and "Invalid setting" in result.stderr


def test_demo_health_score_and_run_write_progress_lines_to_a_log(
    cli,  # type: ignore[no-untyped-def]
    banso_home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The commands' stderr is not a terminal here (as in cron or a CI log): each long step
    says where it is, while stdout keeps only the commands' own output."""
    monkeypatch.setenv("BANSO_PROGRESS_SECONDS", "0")
    config.get_settings.cache_clear()
    assert cli("init").exit_code == 0
    demo = cli(
        "demo", "generate", "--accounts", "30", "--months", "4", "--end", "2026-06-01",
        "--event-scale", "0.2",
    )  # fmt: skip
    assert demo.exit_code == 0, demo.stderr
    lines = demo.stderr.splitlines()
    assert any(re.fullmatch(r"Simulating accounts: done, 30 in \d+ s", x) for x in lines)
    assert any(re.fullmatch(r"Writing accounts: done, 30 in \d+ s", x) for x in lines)
    # 2026-02-01 to 2026-06-01: 121 days, a line per day at an interval of 0 s
    days = [x for x in lines if x.startswith("Writing usage events (days): ")]
    assert len(days) == 121
    assert re.fullmatch(r"Writing usage events \(days\): 60 of 121 \(50%\), \d+ s", days[59])
    assert re.fullmatch(r"Writing usage events \(days\): done, 121 in \d+ s", days[-1])
    assert "Simulating accounts" not in demo.stdout

    score = cli("health", "score", "--from", "2026-05-01", "--to", "2026-05-10")
    assert score.exit_code == 0, score.stderr
    lines = score.stderr.splitlines()
    assert lines[0] == "Scoring days: 0 of 10 (0%), 0 s"
    assert any(re.fullmatch(r"Scoring days: 5 of 10 \(50%\), \d+ s", x) for x in lines)
    assert any(re.fullmatch(r"Scoring days: done, 10 in \d+ s", x) for x in lines)

    monkeypatch.setenv("BANSO_BI_EXPORT_DIR", str(banso_home / "bi"))
    run = cli("run", "--as-of", "2026-05-31", "--no-send")
    assert run.exit_code == 0, run.stderr
    steps = [x for x in run.stderr.splitlines() if x.endswith("…")]
    assert steps == [
        "Importing the inbox…",
        "Recording feature requests from tickets…",
        "Evaluating segments…",
        "Updating onboarding progress…",
        "Running playbooks…",
        "Setting lifecycle stages…",
        "Queuing campaigns…",
        "Queuing survey reminders…",
        "Scoring churn risk…",
        "Checking the health validation report…",
        "Computing the dashboard's revenue figures…",
    ]
    assert any(
        re.fullmatch(r"Scoring days: done, \d+ in \d+ s", x) for x in run.stderr.splitlines()
    )
    # the last step, when BANSO_BI_EXPORT_DIR is set: the nine BI views
    assert re.fullmatch(r"Exporting BI views: done, 9 in \d+ s", run.stderr.splitlines()[-1])
    assert (banso_home / "bi" / "accounts.parquet").exists()
    assert run.stdout.startswith("Run for 2026-05-31.")
    assert "Churn risk: skipped, no churn model is kept (`banso churn train`)." in run.stdout
