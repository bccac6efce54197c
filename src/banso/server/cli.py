"""``banso serve``: run the web app."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from banso import schema
from banso.config import get_settings
from banso.errors import BansoError
from banso.i18n import _


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.", min=1, max=65535)] = 8000,
    https_only: Annotated[
        bool, typer.Option("--https-only", help="Send the session cookie over HTTPS only.")
    ] = False,
    run_at: Annotated[
        str,
        typer.Option("--run-at", help="Time of day (HH:MM, company time zone) of `banso run`."),
    ] = "06:00",
    scheduler: Annotated[
        bool, typer.Option("--scheduler/--no-scheduler", help="Run the daily pipeline.")
    ] = True,
    workers: Annotated[
        int,
        typer.Option(
            "--workers", min=1, help="Web worker processes (one per CPU core is a good start)."
        ),
    ] = 1,
) -> None:
    """Run the web app and JSON API until interrupted, and the daily pipeline at --run-at."""
    import uvicorn

    from banso.flows.daily_run import start_scheduler
    from banso.revenue import cache as revenue_cache
    from banso.server.app import create_app

    if not schema.is_ready():
        raise BansoError(_("The database is not initialised; run `banso init` first."))
    hour, minute = _time_of_day(run_at)
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::") else host
    typer.echo(_("Banso is running at {url} (Ctrl+C stops it).", url=f"http://{shown}:{port}/"))
    revenue_cache.warm_in_background()
    daily = start_scheduler(hour=hour, minute=minute) if scheduler else None
    if daily is not None:
        typer.echo(
            _("The daily pipeline runs at {time} every day.", time=f"{hour:02d}:{minute:02d}")
        )
    try:
        if workers == 1:
            app = create_app(https_only=https_only)
            uvicorn.run(app, host=host, port=port, log_level="warning", **proxy_options())
        else:
            # worker processes start afresh: hand them this process's settings (--home, --lang)
            os.environ.update(_settings_environment(https_only))
            uvicorn.run(
                "banso.server.app:app_from_environment",
                factory=True,
                workers=workers,
                # uvicorn kills a worker that has not answered its ping in 5 s and starts another;
                # on a loaded machine a starting worker (importing the app) took longer, so the
                # server restarted workers in a loop and never answered
                timeout_worker_healthcheck=60,
                host=host,
                port=port,
                log_level="warning",
                **proxy_options(),
            )
    finally:
        if daily is not None:
            daily.shutdown(wait=False)


def proxy_options() -> dict[str, object]:
    """uvicorn's proxy settings: forwarded headers only from ``BANSO_TRUSTED_PROXIES``
    (uvicorn's own default believes any local process, which could then pose as any address)."""
    trusted = get_settings().trusted_proxies.strip()
    if not trusted:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": trusted}


def _settings_environment(https_only: bool) -> dict[str, str]:
    settings = get_settings()
    values = {name.upper(): getattr(settings, name) for name in type(settings).model_fields}
    env = {f"BANSO_{k}": str(v) for k, v in values.items() if v is not None and k != "HOME"}
    env["BANSO_HOME"] = str(settings.home.resolve())
    env["BANSO_WEB_HTTPS_ONLY"] = "1" if https_only else ""
    return env


def _time_of_day(value: str) -> tuple[int, int]:
    hour, _sep, minute = value.partition(":")
    if hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60:
        return int(hour), int(minute)
    raise BansoError(_("--run-at must be a time of day as HH:MM, not {value!r}.", value=value))
