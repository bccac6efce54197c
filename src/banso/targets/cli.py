"""``banso targets build``: parse, call :mod:`banso.targets.plan`, print."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from banso.dates import EARLIEST_DAY
from banso.db import session_scope
from banso.errors import check_format
from banso.i18n import _
from banso.labels import label
from banso.revenue.months import month_text
from banso.revenue.render import kpi_cell, print_wide
from banso.targets.actual import ACTUAL_KPIS, targets_actual
from banso.targets.actual import rounded as actual_rounded
from banso.targets.config import load_targets
from banso.targets.plan import TARGET_KPIS, TargetPlan, build_targets, rounded

targets_app = typer.Typer(
    help="Targets the seed's way: renewal, expansion and new-business targets by month.",
    no_args_is_help=True,
)

FORMATS = ("table", "json")


@targets_app.command("build")
def build(
    fiscal_year: Annotated[
        int,
        typer.Option(
            "--fiscal-year",
            help="Fiscal year, named by the calendar year it starts in.",
            min=EARLIEST_DAY.year,
        ),
    ],
    output: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    file: Annotated[
        Path | None,
        typer.Option("--file", help="The targets file (default: targets.yaml in the config)."),
    ] = None,
) -> None:
    """Per month of the fiscal year: MRR due, planned renewal churn and the targets."""
    check_format(output, FORMATS)
    targets = load_targets(file).model
    with session_scope() as session:
        plan = build_targets(session, fiscal_year, targets)
    if output == "json":
        typer.echo(json.dumps([rounded(r) for r in plan.rows], ensure_ascii=False, indent=1))
    else:
        print_plan(plan, Console())


@targets_app.command("actual")
def actual(
    fiscal_year: Annotated[
        int,
        typer.Option(
            "--fiscal-year",
            help="Fiscal year, named by the calendar year it starts in.",
            min=EARLIEST_DAY.year,
        ),
    ],
    by: Annotated[str | None, typer.Option("--by", help="Split by team or owner (CSM).")] = None,
    output: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    file: Annotated[
        Path | None,
        typer.Option("--file", help="The targets file (default: targets.yaml in the config)."),
    ] = None,
) -> None:
    """Plan vs actual for each month of the fiscal year that is over."""
    check_format(output, FORMATS)
    targets = load_targets(file).model
    with session_scope() as session:
        report = targets_actual(session, fiscal_year, targets, by=by)
    if output == "json":
        typer.echo(
            json.dumps([actual_rounded(r) for r in report.rows], ensure_ascii=False, indent=1)
        )
        return
    table = Table(
        title=_(
            "Plan vs actual FY{year} ({currency})",
            year=report.fiscal_year,
            currency=report.currency,
        )
    )
    table.add_column(_("Month"), no_wrap=True)
    if report.by is not None:
        table.add_column(_("Team") if report.by == "team" else _("Owner"), no_wrap=True)
    for kpi in ACTUAL_KPIS[1:]:
        table.add_column(kpi.label(), justify="right", no_wrap=True)
    for row in report.rows:
        key = [] if report.by is None else [row[report.by] or "—"]
        cells = [kpi_cell(kpi, row[kpi.key], report.currency) for kpi in ACTUAL_KPIS[1:]]
        table.add_row(row["month"], *key, *cells)
    print_wide(Console(), table)


def print_plan(plan: TargetPlan, console: Console) -> None:
    table = Table(
        title=_("Targets FY{year} ({currency})", year=plan.fiscal_year, currency=plan.currency)
    )
    table.add_column(_("Month"), no_wrap=True)
    for kpi in TARGET_KPIS[1:]:
        table.add_column(kpi.label(), justify="right", no_wrap=True)
    table.add_column(_("Basis of the rate"))
    for row in plan.rows:
        cells = [kpi_cell(kpi, row[kpi.key], plan.currency) for kpi in TARGET_KPIS[1:]]
        table.add_row(month_text(row["month"]), *cells, label(row["rate_basis"], "rate_basis"))
    print_wide(console, table)
    first, last = plan.pooled_months
    console.print(
        _(
            "Pooled renewal churn of {first} to {last}: {rate}",
            first=first,
            last=last,
            rate=kpi_cell(TARGET_KPIS[2], plan.pooled_rate, plan.currency),
        )
    )
