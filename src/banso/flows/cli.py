"""``banso run``: the daily run over every domain, one summary line per step; ``banso accounts
merge`` (registered on the accounts command group by ``banso.cli``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from banso.analytics.engines import resolve_engine
from banso.dates import DayOption
from banso.db import session_scope
from banso.flows import daily_run, merge
from banso.i18n import _, ngettext, number
from banso.playbooks.cli import echo_outbox
from banso.progress import progress
from banso.usage.cli import compaction_line


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
    engine: Annotated[
        str | None,
        typer.Option(
            "--engine",
            help="Analytics engine: duckdb, postgres or spark (default: "
            "BANSO_ANALYTICS_ENGINE, else duckdb). With spark, usage measures and event "
            "triggers read the event store on Spark.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Daily pipeline: import the inbox, score health, run playbooks, send the outbox.
    Safe to repeat for the same day."""
    engine = resolve_engine(engine)  # an unknown engine is refused before anything runs
    with progress() as shown:
        summary = daily_run.run_pipeline(as_of, send=not no_send, shown=shown, engine=engine)
    typer.echo(_("Run for {day}.", day=summary.as_of))
    if summary.imported or summary.rejected:
        typer.echo(
            ngettext(
                "Inbox: {n} file imported, {bad} rejected.",
                "Inbox: {n} files imported, {bad} rejected.",
                len(summary.imported),
                bad=number(len(summary.rejected)),
            )
        )
    for line in summary.connections:
        typer.echo(line, err=summary.connection_failures > 0 and line.startswith("  "))
    if summary.compaction is not None:
        typer.echo(compaction_line(summary.compaction))
    if summary.rescored:
        typer.echo(
            ngettext(
                "Late events: {n} day scored before rescored for the accounts they change "
                "({rows} account-days).",
                "Late events: {n} days scored before rescored for the accounts they change "
                "({rows} account-days).",
                len(summary.rescored),
                rows=number(sum(summary.rescored.values())),
            )
        )
    if summary.health_unchanged and summary.as_of not in summary.rescored:
        typer.echo(
            _(
                "Health for {day} kept as scored: nothing it is computed from has changed.",
                day=summary.as_of,
            )
        )
    typer.echo(
        ngettext(
            "Health scored for {n} day.", "Health scored for {n} days.", len(summary.scored_days)
        )
    )
    for problem in summary.segment_problems:
        typer.echo(problem, err=True)
    if summary.segments is not None:
        typer.echo(
            _(
                "Segments evaluated: {changed} accounts changed segment, {touch} touch model "
                "or tier.",
                changed=number(summary.segments.changed),
                touch=number(summary.segments.touch_changed),
            )
        )
    for warning in summary.usage_warnings:
        typer.echo(warning, err=True)
    for name, counts in summary.playbooks.items():
        if counts.firings:
            typer.echo(
                _(
                    "{name}: {accounts}, {created} opened, {updated} updated, {messages} queued.",
                    name=name,
                    accounts=ngettext("{n} account", "{n} accounts", counts.firings),
                    created=ngettext("{n} CTA", "{n} CTAs", counts.ctas_created),
                    updated=number(counts.ctas_updated),
                    messages=ngettext("{n} message", "{n} messages", counts.messages),
                )
            )
        if counts.opportunities:
            typer.echo(
                ngettext(
                    "{name}: {n} expansion opportunity opened.",
                    "{name}: {n} expansion opportunities opened.",
                    counts.opportunities,
                    name=name,
                )
            )
    if summary.onboarding is not None:
        typer.echo(
            _(
                "Onboarding: {enrolled} new customers enrolled, {completed} milestones completed "
                "by their rule.",
                enrolled=number(summary.onboarding.enrolled),
                completed=number(summary.onboarding.completed),
            )
        )
    if summary.lifecycle is not None:
        typer.echo(_("Lifecycle: {n} accounts changed stage.", n=number(summary.lifecycle.changed)))
    for run in summary.campaigns:
        typer.echo(
            _(
                "Campaign {name}: {queued} emails queued; left out {suppressed} unsubscribed or "
                "bounced, {no_email} without an address, {quiet} in the quiet period.",
                name=run.name,
                queued=number(run.queued),
                suppressed=number(run.excluded_suppressed),
                no_email=number(run.excluded_no_email),
                quiet=number(run.excluded_quiet),
            )
        )
    if summary.usage_reports is not None:
        done = summary.usage_reports
        typer.echo(
            _(
                "Usage reports for {month}: {accounts} accounts, {emails} emails queued, "
                "{none} accounts without a recipient.",
                month=f"{done.month:%Y-%m}",
                accounts=number(done.accounts),
                emails=number(done.emails),
                none=number(done.without_recipients),
            )
        )
    if summary.feedback_tickets is not None and summary.feedback_tickets.asks:
        typer.echo(
            _("Feature requests: {n} asks from tickets.", n=number(summary.feedback_tickets.asks))
        )
    if summary.churn_model is None:
        typer.echo(_("Churn risk: skipped, no churn model is kept (`banso churn train`)."))
    else:
        typer.echo(
            _(
                "Churn risk: {n} customers scored with model version {version}.",
                n=number(summary.churn_scored),
                version=summary.churn_model,
            )
        )
    if summary.outbox is not None:
        echo_outbox(summary.outbox)
        if summary.outbox.busy:
            typer.echo(_("Another worker is sending; this run left the outbox to it."))
    if summary.survey_reminders:
        typer.echo(_("Survey reminders queued: {n}.", n=number(summary.survey_reminders)))
    for problem in summary.survey_problems:
        typer.echo(problem, err=True)
    if summary.validation_computed:
        typer.echo(_("Health validation report recomputed (it was a week old or missing)."))
    if summary.reports_computed:
        typer.echo(_("Dashboard revenue figures recomputed for the changed data."))
    if summary.segment_problems:
        typer.echo(_("Segments were not evaluated: segments.yaml is invalid (above)."), err=True)
    if summary.survey_problems:
        typer.echo(_("No survey reminder was queued: surveys.yaml is invalid (above)."), err=True)
    if summary.segment_problems or summary.survey_problems:
        raise typer.Exit(2)


def merge_command(
    keep: Annotated[int, typer.Argument(help="Id of the account to keep.", show_default=False)],
    other: Annotated[
        int,
        typer.Argument(help="Id of the account merged into it and removed.", show_default=False),
    ],
) -> None:
    """Merge account OTHER into KEEP: identities, contacts, subscriptions, tickets, surveys and
    activities move to KEEP; usage events are mapped to KEEP; OTHER is removed."""
    with session_scope() as session:
        result = merge.merge_accounts(session, keep, other)
    typer.echo(
        _(
            "Merged account {other} into {keep}: {identities} identities, {contacts} contacts,"
            " {subscriptions} subscriptions, {tickets} tickets, {surveys} survey responses,"
            " {activities} activities moved.",
            other=result.merged_id,
            keep=result.kept_id,
            identities=result.identities,
            contacts=result.contacts,
            subscriptions=result.subscriptions,
            tickets=result.tickets,
            surveys=result.surveys,
            activities=result.activities,
        )  # fmt: skip
    )
