"""``banso renewals list`` and ``banso renewals forecast``: parse, call the pipeline, print."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from banso.dates import DayOption
from banso.db import session_scope
from banso.errors import BansoError
from banso.i18n import _, number, percent
from banso.labels import label
from banso.renewals import pipeline

pipeline_app = typer.Typer(help="Renewals: the pipeline of renewals due and their forecast.")
console = Console()

FORMATS = ("table", "json", "csv")


def _format(value: str) -> str:
    if value not in FORMATS:
        raise BansoError(
            _("--format must be one of {choices}, not {value!r}.", choices=", ".join(FORMATS),
              value=value)
        )  # fmt: skip
    return value


@pipeline_app.command("list")
def list_command(
    start: Annotated[
        date,
        typer.Option("--from", help="First renewal day (YYYY-MM-DD).", parser=DayOption("--from")),
    ],
    end: Annotated[
        date, typer.Option("--to", help="Last renewal day (YYYY-MM-DD).", parser=DayOption("--to"))
    ],
    fmt: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
    monthly: Annotated[
        bool,
        typer.Option("--by-month", help="The risk-weighted forecast per month (Σ expected MRR)."),
    ] = False,
    by: Annotated[
        str | None,
        typer.Option("--by", help="With --by-month: split each month by owner or band."),
    ] = None,
) -> None:
    """Renewals due from --from to --to: one row per account and renewal date, with health,
    the CSM's forecast, the probability of renewal and the expected MRR."""
    _format(fmt)
    pipeline.check_window(start, end)
    if by is not None and not monthly:
        raise BansoError(_("--by splits the month summary: give --by-month with it."))
    with session_scope() as session:
        rows = pipeline.pipeline(session, start, end)
        if monthly:
            rows = pipeline.by_month(session, rows, by)
    out = [pipeline.rounded(r) for r in rows]
    if fmt == "json":
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
    elif fmt == "csv":
        typer.echo(_csv(out), nl=False)
    elif monthly:
        _month_table(out)
    else:
        _table(out)


def _csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: " ".join(map(str, v)) if isinstance(v, list) else v for k, v in row.items()}
            )
    return buffer.getvalue()


def _money(value: float | None) -> str:
    return "—" if value is None else number(value)


def _table(rows: list[dict[str, Any]]) -> None:
    if not rows:
        typer.echo(_("No renewals fall in this window."))
        return
    table = Table(title=_("Renewal pipeline"))
    for column in (
        _("renewal date"), _("account"), _("owner"), _("MRR due"), _("health"),
        _("forecast"), _("probability"), _("expected MRR"),
    ):  # fmt: skip
        table.add_column(column)
    for r in rows:
        table.add_row(
            r["renewal_date"], r["account_name"], r["owner"] or "—", _money(r["mrr_due"]),
            label(r["health_band"], "health_band") if r["health_band"] else "—",
            label(r["forecast"], "renewal_forecast") if r["forecast"] else "—",
            "—" if r["probability"] is None else percent(r["probability"]),
            _money(r["expected_mrr"]),
        )  # fmt: skip
    console.print(table)


def _month_table(rows: list[dict[str, Any]]) -> None:
    if not rows:
        typer.echo(_("No renewals fall in this window."))
        return
    table = Table(title=_("Risk-weighted renewal forecast by month"))
    group = "owner" if "owner" in rows[0] else "band" if "band" in rows[0] else None
    if group is not None:
        table.add_column(_("owner") if group == "owner" else _("health"))
    for column in (
        _("month"), _("renewals"), _("MRR due"), _("expected MRR"), _("renewed MRR"),
        _("actual − expected"),
    ):  # fmt: skip
        table.add_column(column)
    for r in rows:
        cells = [
            r["month"], number(r["renewals"]), _money(r["mrr_due"]), _money(r["expected_mrr"]),
            _money(r["actual_mrr"]), _money(r["variance"]),
        ]  # fmt: skip
        if group == "band":
            cells.insert(0, label(r["band"], "health_band") if r["band"] else "—")
        elif group == "owner":
            cells.insert(0, r["owner"] or "—")
        table.add_row(*cells)
    console.print(table)


@pipeline_app.command("forecast")
def forecast_command(
    account: Annotated[int, typer.Argument(help="The account's id.")],
    renewal_date: Annotated[
        date,
        typer.Argument(help="The renewal date (YYYY-MM-DD).", parser=DayOption("RENEWAL_DATE")),
    ],
    status: Annotated[
        str, typer.Option("--status", help="commit, likely, at_risk, lost, or none to clear.")
    ],
    note: Annotated[
        str | None, typer.Option("--note", help="Why (kept with the forecast).")
    ] = None,
    reason: Annotated[
        str | None,
        typer.Option(
            "--reason",
            help="With --status lost: the churn reason (banso churn-reasons list), recorded "
            "for the renewal's month.",
        ),
    ] = None,
) -> None:
    """Set the forecast of an account's renewal (the history of changes is kept)."""
    with session_scope() as session:
        row = pipeline.set_forecast(
            session, account, renewal_date, None if status == "none" else status, note, reason
        )
        shown = label(row.status, "renewal_forecast") if row.status else _("none")
    typer.echo(
        _(
            "Forecast of account {account}'s renewal on {day}: {status}.",
            account=account,
            day=renewal_date.isoformat(),
            status=shown,
        )
    )
