"""``banso run``: the daily run over every domain, one summary line per step."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from banso.dates import DayOption
from banso.flows import daily_run
from banso.i18n import _
from banso.playbooks.cli import echo_outbox


def run(
    as_of: Annotated[
        date | None,
        typer.Option(
            "--as-of",
            help="Day to run (YYYY-MM-DD); default yesterday.",
            parser=DayOption("--as-of"),
        ),
    ] = None,
    no_send: Annotated[
        bool, typer.Option("--no-send", help="Queue messages but do not send the outbox.")
    ] = False,
) -> None:
    """Daily pipeline: import the inbox, score health, run playbooks, send the outbox.
    Safe to repeat for the same day."""
    summary = daily_run.run_pipeline(as_of, send=not no_send)
    typer.echo(_("Run for {day}.", day=summary.as_of))
    if summary.imported or summary.rejected:
        typer.echo(
            _(
                "Inbox: {ok} files imported, {bad} rejected.",
                ok=len(summary.imported),
                bad=len(summary.rejected),
            )
        )
    typer.echo(_("Health scored for {n} days.", n=len(summary.scored_days)))
    for warning in summary.usage_warnings:
        typer.echo(warning, err=True)
    for name, counts in summary.playbooks.items():
        if counts.firings:
            typer.echo(
                _(
                    "{name}: {firings} accounts, {created} CTAs opened, {updated} updated, "
                    "{messages} messages queued.",
                    name=name,
                    firings=counts.firings,
                    created=counts.ctas_created,
                    updated=counts.ctas_updated,
                    messages=counts.messages,
                )
            )
    if summary.outbox is not None:
        echo_outbox(summary.outbox)
        if summary.outbox.busy:
            typer.echo(_("Another worker is sending; this run left the outbox to it."))
    if summary.validation_computed:
        typer.echo(_("Health validation report recomputed (it was a week old or missing)."))
    if summary.reports_computed:
        typer.echo(_("Dashboard revenue figures recomputed for the changed data."))
