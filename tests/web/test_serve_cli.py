"""`banso serve` schedules the daily pipeline at a time of day it checks first."""

from __future__ import annotations

import pytest

from banso.errors import BansoError
from banso.web.cli import _time_of_day


def test_time_of_day() -> None:
    assert _time_of_day("06:00") == (6, 0)
    assert _time_of_day("23:59") == (23, 59)
    for bad in ("24:00", "6", "06:60", "six"):
        with pytest.raises(BansoError):
            _time_of_day(bad)


def test_bad_run_at_is_one_sentence(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").exit_code == 0
    result = cli("serve", "--run-at", "25:00")
    assert result.exit_code == 2
    assert "--run-at must be a time of day as HH:MM" in result.stderr


def test_scheduler_runs_the_pipeline_daily_in_company_time() -> None:
    from banso.playbooks.pipeline import start_scheduler

    scheduler = start_scheduler(hour=6, minute=30)
    try:
        job = scheduler.get_job("banso-daily-run")
        assert str(job.trigger.timezone) == "Asia/Tokyo"
        assert job.next_run_time.hour == 6 and job.next_run_time.minute == 30
    finally:
        scheduler.shutdown(wait=False)
