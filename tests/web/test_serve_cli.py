"""`banso serve` schedules the daily pipeline at a time of day it checks first."""

from __future__ import annotations

import pytest

from banso.errors import BansoError
from banso.server.cli import _time_of_day


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
    from banso.flows.daily_run import start_scheduler

    scheduler = start_scheduler(hour=6, minute=30)
    try:
        job = scheduler.get_job("banso-daily-run")
        assert str(job.trigger.timezone) == "Asia/Tokyo"
        assert job.next_run_time.hour == 6 and job.next_run_time.minute == 30
    finally:
        scheduler.shutdown(wait=False)


def test_several_workers_serve_the_home_given_on_the_command_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """``--home`` is an in-process setting; worker processes must still open that home."""
    import os
    import re
    import subprocess

    import httpx
    from tests.servers import BANSO, banso_serve

    home = tmp_path / "served-home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANSO_")}
    subprocess.run([BANSO, "--home", str(home), "init"], env=env, check=True)
    subprocess.run(
        [BANSO, "--home", str(home), "users", "create", "w@example.com", "--role", "viewer",
         "--name", "Worker test", "--password", "workers-2026"],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    with (
        banso_serve(home, env=env, cwd=tmp_path, workers=2) as (base, _server),
        httpx.Client(base_url=base) as client,
    ):
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").text)
        assert token is not None
        signed_in = client.post(
            "/sign-in",
            data={"csrf_token": token.group(1), "email": "w@example.com",
                  "password": "workers-2026", "next": "/accounts"},
        )  # fmt: skip
        assert signed_in.status_code == 303
        assert signed_in.headers["location"] == "/accounts"
        pages = [client.get("/accounts").status_code for _ in range(6)]
    assert pages == [200] * 6


def test_forwarded_headers_are_believed_only_from_trusted_proxies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from banso import config
    from banso.server.cli import proxy_options

    assert proxy_options() == {"proxy_headers": False}
    monkeypatch.setenv("BANSO_TRUSTED_PROXIES", "10.0.0.5,10.0.0.6")
    config.get_settings.cache_clear()
    assert proxy_options() == {"proxy_headers": True, "forwarded_allow_ips": "10.0.0.5,10.0.0.6"}
