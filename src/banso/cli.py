"""The ``banso`` command: parses, calls one service, prints. No business logic here."""

from __future__ import annotations

import os
import sys
from functools import cache
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from typer._click import exceptions as click_errors
from typer._click.core import Command

from banso import cli_errors, schema
from banso.accounts.cli import accounts_app
from banso.audit.cli import audit_app
from banso.bi.cli import bi_app
from banso.books.cli import team_app
from banso.campaigns.cli import campaigns_app
from banso.config import get_settings, set_overrides
from banso.connectors.cli import connect_app
from banso.demo.cli import demo_app
from banso.ebr.cli import ebr
from banso.errors import BansoError
from banso.evaluation.cli import add_commands as add_evaluation_commands
from banso.expansion.cli import opportunities_app
from banso.feedback.cli import advocacy_app, feedback_app
from banso.flows.cli import merge_command, run
from banso.health import snapshots
from banso.health.cli import health_app
from banso.i18n import _, set_language
from banso.inapp.cli import inapp_app
from banso.ingest.cli import import_app
from banso.lifecycle.cli import lifecycle_app
from banso.onboarding.cli import onboarding_app
from banso.operations.cli import backup, restore
from banso.playbooks.cli import ctas_app, playbooks_app
from banso.prediction.cli import churn_app
from banso.programs.cli import programs_app
from banso.renewals.cli import renewals_app
from banso.renewals.pipeline_cli import pipeline_app
from banso.retention.cli import churn_reasons_app, goals_app
from banso.revenue.cli import metrics_app
from banso.segments.cli import segments_app
from banso.server.cli import serve
from banso.success.cli import handoff_app, success_app
from banso.targets.cli import targets_app
from banso.usage.cli import events_app
from banso.users.cli import users_app
from banso.voc.cli import surveys_app

app = typer.Typer(
    name="banso",
    help="Banso (伴走): customer success platform — data hub, revenue KPIs, health, playbooks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(import_app, name="import")
accounts_app.command("merge")(merge_command)  # a merge moves every domain's rows: a flow
app.add_typer(accounts_app, name="accounts")
app.add_typer(metrics_app, name="metrics")
# one `banso renewals` group: the calendar and the pipeline (list, forecast)
renewals_app.registered_commands += pipeline_app.registered_commands
app.add_typer(renewals_app, name="renewals")
app.add_typer(targets_app, name="targets")
app.add_typer(segments_app, name="segments")
app.add_typer(campaigns_app, name="campaigns")
app.add_typer(demo_app, name="demo")
app.add_typer(health_app, name="health")
app.add_typer(events_app, name="events")
app.add_typer(users_app, name="users")
app.command("serve")(serve)
app.add_typer(playbooks_app, name="playbooks")
app.add_typer(ctas_app, name="ctas")
app.add_typer(opportunities_app, name="opportunities")
app.add_typer(feedback_app, name="feedback")
app.add_typer(advocacy_app, name="advocacy")
app.add_typer(audit_app, name="audit")
app.add_typer(churn_reasons_app, name="churn-reasons")
app.add_typer(churn_app, name="churn")
app.add_typer(goals_app, name="goals")
add_evaluation_commands(team_app)
app.add_typer(success_app, name="success-plans")
app.add_typer(handoff_app, name="handoff")
app.add_typer(onboarding_app, name="onboarding")
app.add_typer(programs_app, name="programs")
app.add_typer(lifecycle_app, name="lifecycle")
app.add_typer(team_app, name="team")
app.add_typer(connect_app, name="connect")
app.add_typer(surveys_app, name="surveys")
app.add_typer(inapp_app, name="inapp")
app.command("run")(run)
app.command("ebr")(ebr)
app.add_typer(bi_app, name="bi")
app.command("backup")(backup)
app.command("restore")(restore)

err_console = Console(stderr=True, soft_wrap=True)


@app.callback()
def _global_options(
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            help="Data directory (overrides BANSO_HOME).",
            show_default=False,
            parser=_creatable_directory,
        ),
    ] = None,
    lang: Annotated[
        str | None,
        typer.Option("--lang", help="Message language: ja or en (default: BANSO_LANG/locale)."),
    ] = None,
) -> None:
    """Global options apply to every command."""
    set_overrides(home=home)
    set_language(lang)


def _creatable_directory(value: str) -> Path:
    """``--home``: a directory that exists or can be created (checked without creating it)."""
    path = Path(value).expanduser()
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    usable = probe.is_dir() and os.access(probe, os.W_OK | os.X_OK)
    if (path.exists() and not path.is_dir()) or not usable:
        raise BansoError(
            _("--home {path} is not a directory Banso can create or write to.", path=value)
        )
    return path


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
    return make_url(get_settings().db_url).render_as_string(hide_password=True)


def main() -> None:
    """Entry point of the console script: ``sys.exit`` with :func:`run_cli`'s exit code."""
    sys.exit(run_cli(sys.argv[1:]))


@cache
def command() -> Command:
    """The ``banso`` command tree, with every whole number bounded to 64 bits (built once:
    building it takes longer than parsing a command line)."""
    tree = typer.main.get_command(app)
    cli_errors.bound_whole_numbers(tree)
    return tree


def run_cli(args: list[str]) -> int:
    """Run ``banso ARGS``; the exit code. A mistake of the user (a usage error, a bad value, a
    ``BansoError``) is one sentence on stderr and code 2; anything else is one line naming the
    log file with the traceback, and code 1. Never a traceback on the terminal."""
    set_language(_language_in(args))
    try:
        result = command().main(args=args, prog_name="banso", standalone_mode=False)
    except BansoError as exc:
        _say(_("Error: {message}", message=str(exc)))
        return 2
    except click_errors.NoArgsIsHelpError as exc:
        exc.show()
        return exc.exit_code
    except click_errors.UsageError as exc:
        _say(_("Error: {message}", message=cli_errors.usage_sentence(exc)))
        return 2
    except DBAPIError as exc:
        if _database_missing():
            _say(
                _(
                    "Error: {message}",
                    message=_("The database is not initialised; run `banso init` first."),
                )
            )
            return 2
        return _unexpected(exc)
    except ValidationError as exc:
        first = exc.errors()[0]
        _say(_("Invalid setting: {message}", message=first.get("msg", str(exc))))
        return 2
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        return 1
    except Exception as exc:
        return _unexpected(exc)
    finally:
        _report_quarantined()
    return result if isinstance(result, int) else 0


def _unexpected(exc: Exception) -> int:
    """A bug or a broken environment: one line naming the log that holds the traceback."""
    path = cli_errors.log_unexpected(exc, _home_or_none())
    if path is None:
        _say(
            _(
                "Unexpected error ({error}); no log file could be written.",
                error=cli_errors.one_line(exc),
            )
        )
        return 1
    _say(
        _(
            "Unexpected error ({error}); the details are in {path}.",
            error=cli_errors.one_line(exc),
            path=path,
        )
    )
    return 1


def _database_missing() -> bool:
    """Whether the app database has not been created (or upgraded) by ``banso init``: a
    command then fails on a missing file or table, which is the user's to fix."""
    try:
        url = make_url(get_settings().db_url)
    except Exception:  # unreadable settings: not this question's to answer
        return False
    if url.get_backend_name() == "sqlite" and url.database:
        if not Path(url.database).exists():
            return True
    try:
        return not schema.is_ready()
    except DBAPIError:
        return url.get_backend_name() == "sqlite"


def _say(text: str) -> None:
    err_console.print(text, markup=False, highlight=False)


def _language_in(args: list[str]) -> str | None:
    """``--lang`` given before the command: used for errors found before its callback runs."""
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--lang="):
            return arg.partition("=")[2]
    return None


def _home_or_none() -> Path | None:
    try:
        return get_settings().home
    except Exception:  # the settings themselves may be what failed
        return None


def _report_quarantined() -> None:
    for q in snapshots.take_quarantined():
        if q.destination is None:
            _say(
                _(
                    "Health snapshot {path} could not be read ({reason}) and is skipped; the "
                    "scores of {day} are incomplete until that day is scored again.",
                    path=q.path,
                    reason=q.reason,
                    day=q.day.isoformat(),
                )
            )
            continue
        _say(
            _(
                "Health snapshot {path} could not be read ({reason}); it was moved to {moved} "
                "and the scores of {day} are incomplete until that day is scored again.",
                path=q.path,
                reason=q.reason,
                moved=q.destination,
                day=q.day.isoformat(),
            )
        )


if __name__ == "__main__":
    main()
