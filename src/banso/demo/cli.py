"""``banso demo generate``: parse options, call ``demo.service.generate_world``, print a summary."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from banso.dates import DayOption
from banso.db import session_scope
from banso.demo.service import DemoOptions, generate_world
from banso.i18n import _
from banso.progress import progress
from banso.segments import service as segments

demo_app = typer.Typer(
    help="Deterministic synthetic SaaS company for demos, tests, benchmarks.", no_args_is_help=True
)


@demo_app.command()
def generate(
    accounts: Annotated[
        int, typer.Option("--accounts", help="Number of customer accounts (1-157500).")
    ] = 2000,
    months: Annotated[
        int, typer.Option("--months", help="Months of history before the end month (1-240).")
    ] = 36,
    seed: Annotated[int, typer.Option("--seed", help="Random seed: same seed, same world.")] = 7,
    end: Annotated[
        date | None,
        typer.Option(
            "--end",
            help="Last day of the history, YYYY-MM-DD "
            "(default: the first day of the current month in the company time zone).",
            show_default=False,
            parser=DayOption("--end"),
        ),
    ] = None,
    event_scale: Annotated[
        float,
        typer.Option(
            "--event-scale",
            help="Multiplies how often product users are active; 0 writes no usage events.",
        ),
    ] = 1.0,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Delete all accounts (and everything attached to them) and the event store "
            "first; without it the command refuses to write into a database that has accounts.",
        ),
    ] = False,
) -> None:
    """Write a deterministic synthetic SaaS company into the database and the event store.

    Japanese companies and contacts, a CS team, JPY plans with new business, upgrades,
    downgrades, churn and reactivation, usage events, tickets, NPS/CSAT answers and CSM
    activities, all driven by a hidden health that leads churn and expansion. The same seed,
    sizes and --end give identical data.
    """
    options = DemoOptions(
        accounts=accounts,
        months=months,
        seed=seed,
        end=end,
        event_scale=event_scale,
        replace=replace,
    )
    labels = {
        "simulate": _("Simulating accounts"),
        "write": _("Writing accounts"),
        "events": _("Writing usage events (days)"),
    }
    with progress() as shown:
        summary = generate_world(options, shown.reporter(labels))
    typer.echo(
        _(
            "Demo world (seed {seed}): {first} to {end}, generated in {seconds:.1f} s.",
            seed=seed,
            first=summary.first_day.isoformat(),
            end=summary.end.isoformat(),
            seconds=summary.seconds,
        )
    )
    for label, value in (
        (_("CS team members"), summary.team_members),
        (_("Accounts"), summary.accounts),
        (_("Customers at the end"), summary.customers),
        (_("MRR at the end (JPY)"), summary.mrr),
        (_("Subscriptions"), summary.subscriptions),
        (_("Contacts"), summary.contacts),
        (_("Tickets"), summary.tickets),
        (_("Survey responses"), summary.survey_responses),
        (_("CSM activities"), summary.activities),
        (_("Usage events"), summary.events),
        (_("Onboarding programmes"), summary.onboarding_programmes),
    ):
        typer.echo(f"  {label}: {value:,}")
    # the Segments page and the triage need an evaluated day; `banso run` evaluates the next
    rules = segments.rule_set()
    if rules.enabled:
        with session_scope() as session:
            evaluated = segments.evaluate(session, summary.end, rules=rules)
        typer.echo(
            _(
                "Segments evaluated for {day}: {counts}.",
                day=summary.end.isoformat(),
                counts=", ".join(f"{c.segment} {c.accounts:,}" for c in evaluated.counts),
            )
        )
