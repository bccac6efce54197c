"""Revenue reports as JSON, CSV or a Rich table (the output contract of spec §9 for JSON/CSV)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

from babel.numbers import format_currency, format_decimal, format_percent
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from banso.i18n import _, current_language
from banso.revenue.fiscal import PERIOD_RATES, PeriodSummary
from banso.revenue.metrics import COHORT_KPIS, COUNT, MONEY, RATE, REVENUE_KPIS, Kpi
from banso.revenue.months import month_text, with_completeness
from banso.revenue.service import CohortReport, RevenueReport, rounded

FORMATS = ("json", "csv", "table")
SUMMARY_FORMATS = ("json", "table")


def revenue_json(report: RevenueReport) -> str:
    """The revenue report as the JSON array of spec §9 (plus the ``--by`` key when split); the
    row of a month not yet over, there only when ``--to`` asks for it, has ``"complete": false``."""
    return _json([with_completeness(rounded(row)) for row in report.rows])


def cohorts_json(report: CohortReport) -> str:
    return _json([rounded(row) for row in report.rows])


def summary_json(periods: Sequence[PeriodSummary]) -> str:
    """Per period: label, complete flag and the rounded whole-period figures."""
    return _json(
        [{"period": p.label, "complete": p.complete, **rounded(p.figures)} for p in periods]
    )


def rows_csv(rows: Sequence[dict[str, Any]]) -> str:
    """Rounded rows as CSV with a header line; nulls are empty cells."""
    out = io.StringIO()
    rounded_rows = [rounded(row) for row in rows]
    if rounded_rows:
        writer = csv.DictWriter(out, fieldnames=list(rounded_rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rounded_rows)
    return out.getvalue()


def print_revenue_table(report: RevenueReport, console: Console) -> None:
    """KPIs as rows, months (and keys) as columns: money with thousands separators, rates as
    percentages, headers in the current language."""
    columns = [
        month_text(row["month"])
        if report.by is None
        else f"{month_text(row['month'])}\n{row[report.by] or '-'}"
        for row in report.rows
    ]
    table = Table(title=_("Revenue KPIs ({currency})", currency=report.currency))
    table.add_column(_("KPI"), no_wrap=True)
    for column in columns:
        table.add_column(column, justify="right", no_wrap=True)
    for kpi in REVENUE_KPIS[1:]:
        table.add_row(
            kpi.label(), *(_cell(kpi, row[kpi.key], report.currency) for row in report.rows)
        )
    _print_wide(console, table)


def print_cohort_table(report: CohortReport, console: Console) -> None:
    """Two triangles: logo retention and revenue retention by cohort and age, in percent."""
    cohorts: dict[str, list[dict[str, Any]]] = {}
    for row in report.rows:
        cohorts.setdefault(row["cohort"], []).append(row)
    ages = max((len(rows) for rows in cohorts.values()), default=0)
    for key in ("logo_retention", "revenue_retention"):
        kpi = next(k for k in COHORT_KPIS if k.key == key)
        table = Table(title=kpi.label())
        table.add_column(_("Cohort"), no_wrap=True)
        table.add_column(_("Customers"), justify="right")
        for age in range(ages):
            table.add_column(str(age), justify="right", no_wrap=True)
        for cohort, rows in cohorts.items():
            cells = [_cell(kpi, row[key], report.currency) for row in rows]
            table.add_row(cohort, str(rows[0]["customers"]), *cells, *[""] * (ages - len(rows)))
        _print_wide(console, table)


def print_summary_table(periods: Sequence[PeriodSummary], currency: str, console: Console) -> None:
    """Figures as rows, periods as columns; partial periods are marked."""
    table = Table(title=_("Fiscal period summary ({currency})", currency=currency))
    table.add_column(_("KPI"), no_wrap=True)
    for p in periods:
        mark = "" if p.complete else "*"
        table.add_column(
            f"{p.label}{mark}\n{p.figures['from']}..{p.figures['to']}",
            justify="right",
            no_wrap=True,
        )
    for kpi in _summary_kpis():
        table.add_row(kpi.label(), *(_cell(kpi, p.figures[kpi.key], currency) for p in periods))
    _print_wide(console, table)
    if not all(p.complete for p in periods):
        console.print(_("* the period is not over: figures up to the last month with data."))


def _summary_kpis() -> list[Kpi]:
    by_key = {k.key: k for k in REVENUE_KPIS}
    keys = [
        "mrr_start",
        "mrr_end",
        "new_mrr",
        "expansion_mrr",
        "contraction_mrr",
        "churned_mrr",
        "reactivation_mrr",
        "customers_start",
        "customers_end",
        "new_customers",
        "churned_customers",
        "reactivated_customers",
        "logo_churn_rate",
        "mrr_churn_rate",
        "gross_mrr_churn_rate",
        "net_mrr_churn_rate",
        "renewal_due_mrr",
        "renewal_churned_mrr",
        "renewal_churn_rate",
        "nrr_12m",
        "grr_12m",
        "arpa",
        "quick_ratio",
    ]
    kpis = [by_key[k] for k in keys]
    labels = {
        "logo_churn_rate": ("Logo churn, monthly average", "顧客解約率（月平均）"),
        "mrr_churn_rate": ("MRR churn, monthly average", "月次解約率（月平均）"),
        "gross_mrr_churn_rate": (
            "Gross MRR churn, monthly average",
            "ダウンセル込み解約率（月平均）",
        ),
        "net_mrr_churn_rate": ("Net MRR churn, monthly average", "純解約率（月平均）"),
        "renewal_churn_rate": ("Renewal churn, monthly average", "月次更新解約率（月平均）"),
        "nrr_1m": ("NRR (1 month), monthly average", "月次売上継続率（月平均）"),
    }
    kpis += [Kpi(f"avg_monthly_{k}", RATE, *labels[k]) for k in PERIOD_RATES]
    return kpis


def _cell(kpi: Kpi, value: Any, currency: str) -> str:
    """Money with the currency's digits and thousands separators, rates in percent with two
    decimals on every row so a column reads evenly (the quick ratio, a multiple, as a plain
    number), ``-`` for null."""
    if value is None:
        return "-"
    kind = kpi.kind
    locale = "ja_JP" if current_language() == "ja" else "en_US"
    if kpi.key == "quick_ratio":
        return format_decimal(_decimal(value, 2), "#,##0.00", locale=locale)
    if kind == MONEY:
        return format_currency(_decimal(value, 2), currency, locale=locale, currency_digits=True)
    if kind == RATE:
        return format_percent(_decimal(value, 6), "#,##0.00%", locale=locale)
    if kind == COUNT:
        return format_decimal(value, locale=locale)
    return str(value)


def _decimal(value: Fraction | int, places: int) -> Decimal:
    """The exact value rounded half to even to ``places`` decimals."""
    return Decimal(round(Fraction(value) * 10**places)).scaleb(-places)


def _print_wide(console: Console, table: Table) -> None:
    """Print at the table's natural width when not on a terminal, so piping to a file or a
    pager never cuts numbers short."""
    if console.is_terminal:
        console.print(table)
        return
    wide = Console(file=console.file, width=10_000)
    width = Measurement.get(wide, wide.options, table).maximum
    Console(file=console.file, width=width).print(table)


def _json(rows: Sequence[dict[str, Any]]) -> str:
    return json.dumps(rows, ensure_ascii=False, indent=1)


kpi_cell = _cell
"""A KPI value as the tables show it (for other reports built on these KPIs: the renewal
calendar, the targets)."""

print_wide = _print_wide
"""Print a Rich table at its natural width when not on a terminal."""
