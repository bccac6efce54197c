"""``banso metrics revenue|cohorts|summary|last-month``: parse, call revenue.service, print."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from banso.analytics.engines import resolve_engine
from banso.dates import EARLIEST_DAY, MonthOption
from banso.db import session_scope
from banso.errors import BansoError, check_format
from banso.i18n import _
from banso.revenue import render, service
from banso.revenue.fiscal import fiscal_summary
from banso.revenue.fx import reporting_currency, set_fx_rate
from banso.revenue.metrics import BREAKDOWNS
from banso.revenue.months import MonthRange, default_last_month, month_complete, month_label

metrics_app = typer.Typer(
    help="Revenue and retention KPIs (MRR movements, churn, NRR/GRR, cohorts).",
    no_args_is_help=True,
)

FromOption = Annotated[
    str | None,
    typer.Option(
        "--from", help="First month, YYYY-MM.", show_default=False, parser=MonthOption("--from")
    ),
]
ToOption = Annotated[
    str | None,
    typer.Option(
        "--to",
        help="Last month, YYYY-MM (default: the last complete month with data).",
        show_default=False,
        parser=MonthOption("--to"),
    ),
]
EngineOption = Annotated[
    str | None,
    typer.Option(
        "--engine",
        help="Analytics engine: duckdb, postgres or spark (default: BANSO_ANALYTICS_ENGINE, "
        "else duckdb).",
        show_default=False,
    ),
]


@metrics_app.command("revenue")
def revenue(
    start: FromOption = None,
    end: ToOption = None,
    output: Annotated[str, typer.Option("--format", help="json, csv or table.")] = "json",
    engine: EngineOption = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            help="Split by the account's plan, segment, owner, industry, touch (model) or tier.",
        ),
    ] = None,
) -> None:
    """Monthly MRR, movements, churn rates, renewal churn, NRR/GRR, ARPA, quick ratio, LTV."""
    check_format(output, render.FORMATS)
    if by is not None and by not in BREAKDOWNS:
        raise BansoError(
            _(
                "Unknown breakdown {by}; choose one of {choices}.",
                by=by,
                choices=", ".join(BREAKDOWNS),
            )
        )
    with session_scope() as session:
        report = service.revenue_report(
            session, start=start, end=end, engine=resolve_engine(engine), by=by
        )
    _note_to_date(report.months)
    if output == "json":
        typer.echo(render.revenue_json(report))
    elif output == "csv":
        typer.echo(render.rows_csv(report.rows), nl=False)
    else:
        render.print_revenue_table(report, Console())


@metrics_app.command("cohorts")
def cohorts(
    start: FromOption = None,
    end: ToOption = None,
    output: Annotated[str, typer.Option("--format", help="json, csv or table.")] = "json",
    engine: EngineOption = None,
) -> None:
    """Cohort retention table: logo and revenue retention by first paying month and age."""
    check_format(output, render.FORMATS)
    with session_scope() as session:
        report = service.cohort_report(session, start=start, end=end, engine=resolve_engine(engine))
    _note_to_date(report.months)
    if output == "json":
        typer.echo(render.cohorts_json(report))
    elif output == "csv":
        typer.echo(render.rows_csv(report.rows), nl=False)
    else:
        render.print_cohort_table(report, Console())


@metrics_app.command("summary")
def summary(
    fiscal_year: Annotated[
        int | None,
        typer.Option(
            "--fiscal-year",
            help="Fiscal year, named by the calendar year it starts in (default: the latest).",
            show_default=False,
            min=EARLIEST_DAY.year,
        ),
    ] = None,
    quarter: Annotated[
        int | None,
        typer.Option("--quarter", help="Only this fiscal quarter (1-4).", show_default=False),
    ] = None,
    output: Annotated[str, typer.Option("--format", help="json or table.")] = "json",
    engine: EngineOption = None,
) -> None:
    """Fiscal year and quarters: whole-period figures and averages of the monthly rates."""
    check_format(output, render.SUMMARY_FORMATS)
    with session_scope() as session:
        periods = fiscal_summary(
            session, fiscal_year=fiscal_year, quarter=quarter, engine=resolve_engine(engine)
        )
        currency = reporting_currency()
    if output == "json":
        typer.echo(render.summary_json(periods))
    else:
        render.print_summary_table(periods, currency, Console())


@metrics_app.command("last-month")
def last_month() -> None:
    """Print the default last month of reports (YYYY-MM): the last complete month with data."""
    with session_scope() as session:
        typer.echo(default_last_month(session))


@metrics_app.command("fx-rate")
def fx_rate(
    currency: Annotated[str, typer.Argument(help="ISO 4217 code, e.g. USD.")],
    month: Annotated[str, typer.Argument(help="Month, YYYY-MM.", parser=MonthOption("MONTH"))],
    rate: Annotated[str, typer.Argument(help="Reporting-currency units per 1 unit of CURRENCY.")],
) -> None:
    """Set the FX rate used to convert CURRENCY into the reporting currency for MONTH."""
    with session_scope() as session:
        stored = set_fx_rate(session, currency, month, rate)
        typer.echo(
            _(
                "FX rate set: 1 {currency} = {rate} {reporting} in {month}.",
                currency=stored.currency,
                rate=stored.rate,
                reporting=reporting_currency(),
                month=stored.month,
            )
        )


def _note_to_date(months: MonthRange) -> None:
    """Say on stderr (the output stays the report) when the last month is not over yet."""
    if not month_complete(months.last):
        typer.echo(
            _(
                "Note: {month} is not over yet; its figures are to date.",
                month=month_label(months.last),
            ),
            err=True,
        )
