"""``banso onboarding …``: the onboarding report (completion rate and time to first value)."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from banso.dates import DayOption, today
from banso.db import session_scope
from banso.errors import check_format
from banso.i18n import _, number, percent
from banso.labels import label
from banso.onboarding import report as onboarding_report
from banso.onboarding import service

onboarding_app = typer.Typer(help="Onboarding programmes: progress, completion, time to value.")
console = Console()
AS_OF = typer.Option("--as-of", help="Day (default: today).", parser=DayOption("--as-of"))


@onboarding_app.command("report")
def report_command(
    by: Annotated[
        str, typer.Option("--by", help="cohort (month of the contract start), segment or owner.")
    ] = "cohort",
    as_of: Annotated[
        date | None,
        typer.Option("--as-of", help="Day (default: today).", parser=DayOption("--as-of")),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Per cohort month, segment or CSM: accounts enrolled, programmes completed, the completion
    rate and the median time to first value (days from the contract start to the magic moment)."""
    check_format(fmt, ("table", "json"))
    check_format(by, onboarding_report.BREAKDOWNS)
    with session_scope() as session:
        result = onboarding_report.onboarding_report(session, as_of or today(), by)  # type: ignore[arg-type]
    if fmt == "json":
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
        return
    heading = {"cohort": _("cohort month"), "segment": _("segment"), "owner": _("CSM")}[by]
    table = Table(title=_("Onboarding as of {day}", day=result.as_of))
    for column in (heading, _("enrolled"), _("completed"), _("completion rate"),
                   _("reached first value"), _("median days to first value")):  # fmt: skip
        table.add_column(column)
    for r in [*result.rows, result.total]:
        if r is result.total:
            name = _("all")
        elif r.key is None:
            name = "—"
        elif by == "segment":
            name = label(r.key, "segment")
        else:
            name = result.names.get(r.key, r.key)
        table.add_row(
            name, number(r.enrolled), number(r.completed),
            "—" if r.completion_rate is None else percent(r.completion_rate),
            number(r.reached_first_value),
            "—" if r.median_ttfv_days is None else number(r.median_ttfv_days),
        )  # fmt: skip
    console.print(table)


@onboarding_app.command("evaluate")
def evaluate_command(
    as_of: Annotated[
        date | None,
        typer.Option("--as-of", help="Day (default: today).", parser=DayOption("--as-of")),
    ] = None,
) -> None:
    """Enrol new customers and complete the milestones whose rule was met (``banso run`` does
    this every day)."""
    with session_scope() as session:
        run = service.evaluate(session, as_of or today())
    typer.echo(
        _(
            "Onboarding: {enrolled} new customers enrolled, {completed} milestones completed "
            "by their rule.",
            enrolled=number(run.enrolled),
            completed=number(run.completed),
        )
    )
