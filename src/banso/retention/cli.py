"""``banso churn-reasons list|record|unreasoned|report`` and ``banso goals status``: parse, call
the retention services, print."""

from __future__ import annotations

import csv
import io
import json
from fractions import Fraction
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from banso.audit.service import current_actor
from banso.dates import MonthOption
from banso.db import session_scope
from banso.errors import check_format
from banso.i18n import _
from banso.labels import label
from banso.retention import goals as goals_service
from banso.retention import service
from banso.retention.reasons import load_reasons

churn_reasons_app = typer.Typer(
    help="Why accounts churned or contracted: record reasons, report lost MRR by reason.",
    no_args_is_help=True,
)
goals_app = typer.Typer(help="Company goals (KGI) tied to the revenue KPIs.", no_args_is_help=True)

FORMATS = ("table", "json", "csv")
MONEY_KEYS = ("churned_mrr", "contraction_mrr", "lost_mrr")


def _headings() -> dict[str, str]:
    return {
        "month": _("Month"), "segment": _("Segment"), "reason": _("Reason code"),
        "reason_label": _("Reason"), "accounts": _("Accounts"), "account_id": _("Account id"),
        "account_name": _("Account"), "kind": _("Loss"), "churned_mrr": _("Churned MRR"),
        "contraction_mrr": _("Contraction MRR"), "lost_mrr": _("Lost MRR"),
    }  # fmt: skip


FromOption = Annotated[
    str | None,
    typer.Option("--from", help="First month, YYYY-MM.", show_default=False,
                 parser=MonthOption("--from")),
]  # fmt: skip
ToOption = Annotated[
    str | None,
    typer.Option("--to", help="Last month, YYYY-MM (default: the last complete month).",
                 show_default=False, parser=MonthOption("--to")),
]  # fmt: skip
FormatOption = Annotated[str, typer.Option("--format", help="table, json or csv.")]


@churn_reasons_app.command("list")
def list_reasons() -> None:
    """The configured churn reasons (code and label)."""
    for reason in load_reasons().values():
        typer.echo(f"{reason.code}\t{reason.label()}")


@churn_reasons_app.command("record")
def record(
    account: Annotated[str, typer.Argument(help="Account id or exact name.")],
    month: Annotated[
        str,
        typer.Option(
            "--month",
            help="Month of the churn or contraction, YYYY-MM.",
            parser=MonthOption("--month"),
        ),
    ],
    reason: Annotated[str, typer.Option("--reason", help="A reason code (see list).")],
    note: Annotated[str | None, typer.Option("--note", help="Free text.")] = None,
) -> None:
    """Record why ACCOUNT churned or contracted in a month (audited)."""
    with session_scope() as session:
        found = service.find_account(session, account)
        entry = service.record(
            session, found.id, month, reason, actor=current_actor().name or "cli", note=note
        )
        typer.echo(
            _("Recorded {reason} for {account} in {month}.", reason=entry.code,
              account=found.name, month=entry.month)
        )  # fmt: skip


@churn_reasons_app.command("unreasoned")
def unreasoned(
    start: FromOption = None, end: ToOption = None, output: FormatOption = "table"
) -> None:
    """Accounts that churned or contracted (spec §3) with no reason recorded yet."""
    check_format(output, FORMATS)
    with session_scope() as session:
        rows = service.unreasoned(session, start=start, end=end)
    keys = ["month", "account_id", "account_name", "segment", "kind", *MONEY_KEYS]
    _print([{k: r[k] for k in keys} for r in rows], output, _("Losses without a reason"))


@churn_reasons_app.command("report")
def report(
    start: FromOption = None,
    end: ToOption = None,
    by: Annotated[str | None, typer.Option("--by", help="Split by the account's segment.")] = None,
    output: FormatOption = "table",
) -> None:
    """Lost MRR (churned + contraction, spec §3) by month and reason; unreasoned as its own row."""
    check_format(output, FORMATS)
    with session_scope() as session:
        rows = service.report(session, start=start, end=end, by=by)
    _print(rows, output, _("Lost MRR by reason"))


@goals_app.command("status")
def status(
    output: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Each goal's latest complete month's value, 12-month trend and whether it is on track."""
    check_format(output, ("table", "json"))
    with session_scope() as session:
        rows = goals_service.goal_status(session)
    if output == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title=_("Goals"))
    for heading in (_("Goal"), _("KPI"), _("Target value"), _("Due"), _("Month"), _("Value"),
                    _("Status"), _("Trend (12 months)")):  # fmt: skip
        table.add_column(heading)
    for row in rows:
        trend = " ".join(_figure(t["value"]) for t in row["trend"])
        table.add_row(
            row["goal"], row["kpi"], f"{row['comparison']} {_figure(row['target'])}", row["due"],
            row["month"], _figure(row["value"]),
            label(row["status"], "goal_status"), trend,
        )  # fmt: skip
    Console(soft_wrap=True).print(table)


def _figure(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if value == int(value) and abs(value) >= 1000 else f"{value:g}"


def _rounded(row: dict[str, Any]) -> dict[str, Any]:
    return {k: float(round(Fraction(v), 2)) if k in MONEY_KEYS else v for k, v in row.items()}


def _print(rows: list[dict[str, Any]], output: str, title: str) -> None:
    rows = [_rounded(r) for r in rows]
    if output == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    elif output == "csv":
        buffer = io.StringIO()
        if rows:
            writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        typer.echo(buffer.getvalue(), nl=False)
    else:
        table = Table(title=title)
        if not rows:
            typer.echo(_("Nothing to show."))
            return
        headings = _headings()
        for key in rows[0]:
            table.add_column(
                headings.get(key, key), justify="right" if key in MONEY_KEYS else "left"
            )
        for row in rows:
            table.add_row(*(_cell(k, v) for k, v in row.items()))
        Console(soft_wrap=True).print(table)


def _cell(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if key in MONEY_KEYS:
        return f"{value:,.2f}"
    if key == "kind":
        return label(value, "loss_kind")
    return str(value)
