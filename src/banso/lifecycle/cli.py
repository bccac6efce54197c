"""``banso lifecycle …``: the funnel/flow report of lifecycle stages over a window."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from banso.dates import DayOption, today
from banso.db import session_scope
from banso.errors import BansoError, check_format
from banso.i18n import _, number
from banso.labels import label
from banso.lifecycle import service

lifecycle_app = typer.Typer(help="Lifecycle stages: the funnel and the moves between stages.")
console = Console()


@lifecycle_app.command("report")
def report_command(
    first: Annotated[
        date, typer.Option("--from", help="First day (YYYY-MM-DD).", parser=DayOption("--from"))
    ],
    last: Annotated[
        date | None,
        typer.Option("--to", help="Last day (default: today).", parser=DayOption("--to")),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Accounts entering each stage, in it at the end, the median days in it (over the stays
    that ended in the window) and the moves between stages."""
    check_format(fmt, ("table", "json"))
    last = last or today()
    if last < first:
        raise BansoError(_("--to must not be before --from."))
    with session_scope() as session:
        result = service.lifecycle_report(session, first, last)
    if fmt == "json":
        typer.echo(
            json.dumps(
                {
                    "from": first.isoformat(), "to": last.isoformat(),
                    "stages": [
                        {**asdict(f), "median_days": None if f.median_days is None
                         else str(f.median_days)}
                        for f in result.stages
                    ],
                    "moves": [{"from": a, "to": b, "accounts": n} for a, b, n in result.moves],
                },
                ensure_ascii=False, indent=2,
            )
        )  # fmt: skip
        return
    table = Table(title=_("Lifecycle from {first} to {last}", first=first, last=last))
    for column in (_("stage"), _("entered"), _("in stage at the end"), _("stays ended"),
                   _("median days in stage")):  # fmt: skip
        table.add_column(column)
    for f in result.stages:
        table.add_row(
            label(f.stage, "lifecycle_stage"), number(f.entered), number(f.in_stage_at_end),
            number(f.ended), "—" if f.median_days is None else number(f.median_days),
        )  # fmt: skip
    console.print(table)
    moves = Table(title=_("Moves between stages"))
    for column in (_("from"), _("to"), _("accounts")):
        moves.add_column(column)
    for a, b, n in result.moves:
        moves.add_row(
            label(a, "lifecycle_stage") if a else _("(no stage)"), label(b, "lifecycle_stage"),
            number(n),
        )  # fmt: skip
    console.print(moves)
