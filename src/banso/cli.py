"""The ``banso`` command: parses, calls one service, prints. No business logic here."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console

from banso import schema
from banso.accounts.cli import accounts_app
from banso.config import get_settings, set_overrides
from banso.demo.cli import demo_app
from banso.errors import BansoError
from banso.health.cli import health_app
from banso.i18n import _, set_language
from banso.ingest.cli import import_app
from banso.operations.cli import backup, restore
from banso.playbooks.cli import ctas_app, playbooks_app, run
from banso.revenue.cli import metrics_app
from banso.users.cli import users_app
from banso.web.cli import serve

app = typer.Typer(
    name="banso",
    help="Banso (伴走): customer success platform — data hub, revenue KPIs, health, playbooks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(import_app, name="import")
app.add_typer(accounts_app, name="accounts")
app.add_typer(metrics_app, name="metrics")
app.add_typer(demo_app, name="demo")
app.add_typer(health_app, name="health")
app.add_typer(users_app, name="users")
app.command("serve")(serve)
app.add_typer(playbooks_app, name="playbooks")
app.add_typer(ctas_app, name="ctas")
app.command("run")(run)
app.command("backup")(backup)
app.command("restore")(restore)

err_console = Console(stderr=True, soft_wrap=True)


@app.callback()
def _global_options(
    home: Annotated[
        Path | None,
        typer.Option("--home", help="Data directory (overrides BANSO_HOME).", show_default=False),
    ] = None,
    lang: Annotated[
        str | None,
        typer.Option("--lang", help="Message language: ja or en (default: BANSO_LANG/locale)."),
    ] = None,
) -> None:
    """Global options apply to every command."""
    set_overrides(home=home)
    set_language(lang)


@app.command()
def init() -> None:
    """Create the data directory and create or upgrade the app database."""
    settings = get_settings()
    settings.home.mkdir(mode=0o700, parents=True, exist_ok=True)
    revision = schema.upgrade()
    typer.echo(
        _("Database ready at {url} (revision {revision}).", url=_safe_url(), revision=revision)
    )


def _safe_url() -> str:
    from sqlalchemy.engine import make_url

    return make_url(get_settings().db_url).render_as_string(hide_password=True)


def main() -> None:
    """Entry point: domain errors become one clear sentence on stderr and exit code 2."""
    try:
        app(standalone_mode=False)
    except BansoError as exc:
        err_console.print(_("Error: {message}", message=str(exc)), markup=False, highlight=False)
        sys.exit(2)
    except ValidationError as exc:
        first = exc.errors()[0]
        err_console.print(
            _("Invalid setting: {message}", message=first.get("msg", str(exc))),
            markup=False,
            highlight=False,
        )
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(1)
    except Exception as exc:  # click usage errors arrive here in non-standalone mode
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(2)
        raise


if __name__ == "__main__":
    main()
