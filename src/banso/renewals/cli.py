"""``banso renewals calendar``: parse, call :mod:`banso.renewals.calendar`, print."""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from banso.dates import MonthOption
from banso.db import session_scope
from banso.errors import check_format
from banso.i18n import _
from banso.labels import label
from banso.renewals.calendar import (
    BREAKDOWNS,
    CALENDAR_KPIS,
    RenewalCalendar,
    renewal_calendar,
    rounded,
)
from banso.revenue.months import month_text, with_completeness
from banso.revenue.render import kpi_cell, print_wide

renewals_app = typer.Typer(
    help="Renewals: the calendar of MRR due, renewed and lost by month.",
    no_args_is_help=True,
)

FORMATS = ("table", "json", "csv")


@renewals_app.command("calendar")
def calendar(
    start: Annotated[
        str,
        typer.Option("--from", help="First month, YYYY-MM.", parser=MonthOption("--from")),
    ],
    end: Annotated[
        str,
        typer.Option(
            "--to", help="Last month, YYYY-MM (may be in the future).", parser=MonthOption("--to")
        ),
    ],
    by: Annotated[
        str | None,
        typer.Option("--by", help="Split by the account's owner, segment, touch model or plan."),
    ] = None,
    min_term_months: Annotated[
        int,
        typer.Option(
            "--min-term-months",
            help="Only lines billed every N months or more (12: term contracts).",
        ),
    ] = 1,
    output: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
) -> None:
    """MRR due for renewal, renewed and not renewed per month, past and future (spec §5)."""
    check_format(output, FORMATS)
    with session_scope() as session:
        report = renewal_calendar(
            session, start=start, end=end, by=by, min_term_months=min_term_months
        )
    if output == "json":
        rows = [with_completeness(rounded(row)) for row in report.rows]
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
    elif output == "csv":
        typer.echo(calendar_csv(report), nl=False)
    else:
        print_calendar(report, Console())


def calendar_csv(report: RenewalCalendar) -> str:
    """Rounded rows as CSV with a header line; nulls are empty cells."""
    out = io.StringIO()
    rows = [rounded(row) for row in report.rows]
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return out.getvalue()


def print_calendar(report: RenewalCalendar, console: Console) -> None:
    """One line per month (and key): counts, money with the currency, the rate in percent."""
    table = Table(title=_("Renewal calendar ({currency})", currency=report.currency))
    table.add_column(_("Month"), no_wrap=True)
    if report.by is not None:
        table.add_column(BY_LABELS[report.by](), no_wrap=True)
    for kpi in CALENDAR_KPIS[1:]:
        table.add_column(kpi.label(), justify="right", no_wrap=True)
    for row in report.rows:
        key = [] if report.by is None else [_key_text(report.by, row[report.by])]
        cells = [kpi_cell(kpi, row[kpi.key], report.currency) for kpi in CALENDAR_KPIS[1:]]
        table.add_row(month_text(row["month"]), *key, *cells)
    print_wide(console, table)


def _key_text(by: str, value: str | None) -> str:
    if by == "touch":
        return label(value, "touch_model")
    return value or "—"


BY_LABELS = {
    "owner": lambda: _("Owner"),
    "segment": lambda: _("Segment"),
    "touch": lambda: _("Touch model"),
    "plan": lambda: _("Plan"),
}
assert set(BY_LABELS) == set(BREAKDOWNS)
