"""``banso success-plans …`` (list, show, add-objective, update, review) and ``banso handoff …``
(set, show): parse, call one service function, print."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from banso.dates import DayOption
from banso.db import session_scope
from banso.errors import ImportRejected, check_format
from banso.health.measures import format_measure, measure_label
from banso.i18n import _, ngettext, number, percent
from banso.labels import label
from banso.success import handoff as handoffs
from banso.success import service
from banso.success.handoff_import import import_handoffs
from banso.success.service import ObjectiveFilter, ObjectiveView

success_app = typer.Typer(
    help="Success plans: the customer's objectives, their targets, progress and reviews."
)
handoff_app = typer.Typer(help="The sales handoff: deal notes, stakeholders, promised outcome.")
console = Console()
FORMATS = ("table", "json")
MAX_PRINTED_PROBLEMS = 100


def _value(v: ObjectiveView, value: float | None) -> str:
    if value is None:
        return "—"
    return format_measure(v.measure, value) if v.measure else number(value, 2)


def _measured_by(v: ObjectiveView) -> str:
    return measure_label(v.measure) if v.measure else (v.kpi_name or "")


def _print_table(rows: list[ObjectiveView], with_account: bool = True) -> None:
    table = Table()
    columns = [_("id")] + ([_("account")] if with_account else [])
    columns += [_("objective"), _("measured by"), _("baseline"), _("current"), _("target"),
                _("progress"), _("due"), _("status"), _("owner")]  # fmt: skip
    for column in columns:
        table.add_column(column)
    for v in rows:
        table.add_row(
            str(v.id), *([v.account_name] if with_account else []), v.title, _measured_by(v),
            _value(v, v.baseline), _value(v, v.current), _value(v, v.target),
            "—" if v.progress is None else percent(v.progress),
            (v.due_date.isoformat() if v.due_date else "—") + (" !" if v.overdue else ""),
            label(v.status, "objective_status"), v.owner or "—",
        )  # fmt: skip
    console.print(table)


@success_app.command("list")
def list_command(
    account: Annotated[int | None, typer.Option("--account", help="Account id.")] = None,
    status: Annotated[
        str | None,
        typer.Option("--status", help="A status, or open (not started, on track, at risk)."),
    ] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Our owner's email.")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only open ones past due.")] = False,
    page: Annotated[int, typer.Option("--page", min=1)] = 1,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Objectives of every account (50 a page), by due date."""
    check_format(fmt, FORMATS)
    with session_scope() as session:
        owner_id = service.member_by_email(session, owner).id if owner else None
        result = service.list_objectives(
            session,
            ObjectiveFilter(account_id=account, owner_id=owner_id, status=status,
                            overdue=overdue, page=page),
        )  # fmt: skip
    if fmt == "json":
        out = {"total": result.total, "page": result.page, "pages": result.pages,
               "items": [v.as_dict() for v in result.items]}  # fmt: skip
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    if not result.items:
        typer.echo(_("No objectives."))
        return
    _print_table(result.items)
    typer.echo(_("Page {page} of {pages}; {total} in all.", page=result.page,
                 pages=result.pages, total=result.total))  # fmt: skip


@success_app.command("show")
def show(
    account_id: Annotated[int, typer.Argument(help="Account id.")],
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """One account's success plan: the handoff, then each objective with its progress and
    review history."""
    check_format(fmt, FORMATS)
    with session_scope() as session:
        plan = service.account_plan(session, account_id)
        handoff = handoffs.as_dict(handoffs.get(session, account_id))
    if fmt == "json":
        out = {"account_id": account_id, "handoff": handoff,
               "objectives": [v.as_dict() for v in plan]}  # fmt: skip
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    if handoff and handoff["promised_outcome"]:
        typer.echo(_("Promised outcome: {text}", text=handoff["promised_outcome"]))
    if not plan:
        typer.echo(_("No objectives."))
        return
    _print_table(plan, with_account=False)
    for v in plan:
        typer.echo(f"#{v.id} {v.title}")
        for h in v.history:
            changed = ", ".join(f"{k}: {c['from']} → {c['to']}" for k, c in h.changes.items())
            typer.echo(
                f"  {h.at:%Y-%m-%d %H:%M} {h.actor} {label(h.kind, 'objective_event')}"
                + (f" ({changed})" if changed else "")
                + (f" — {h.note}" if h.note else "")
            )


DueOption = Annotated[
    date | None, typer.Option("--due", help="Due date (YYYY-MM-DD).", parser=DayOption("--due"))
]


@success_app.command("add-objective")
def add_objective(
    account_id: Annotated[int, typer.Argument(help="Account id.")],
    target: Annotated[float, typer.Option("--target", help="The value to reach.")],
    title: Annotated[
        str | None, typer.Option("--title", help="The outcome in the customer's words.")
    ] = None,
    measure: Annotated[
        str | None, typer.Option("--measure", help="A product metric (a health measure name).")
    ] = None,
    kpi: Annotated[str | None, typer.Option("--kpi", help="A manual KPI's name.")] = None,
    baseline: Annotated[
        float | None,
        typer.Option("--baseline", help="Starting value (a metric: default its value today)."),
    ] = None,
    due: DueOption = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Our owner's email.")] = None,
    contact: Annotated[
        int | None, typer.Option("--contact", help="The customer's owner (a contact id).")
    ] = None,
    status: Annotated[str, typer.Option("--status")] = "not_started",
    from_handoff: Annotated[
        bool,
        typer.Option("--from-handoff", help="Title defaults to the handoff's promised outcome."),
    ] = False,
) -> None:
    """Add an objective measured by a product metric (--measure) or a manual KPI (--kpi)."""
    with session_scope() as session:
        o = service.add_objective(
            session, account_id, title, target=target, measure=measure, kpi=kpi,
            baseline=baseline, due_date=due, owner=owner, contact_id=contact, status=status,
            from_handoff=from_handoff,
        )  # fmt: skip
        typer.echo(_("Objective {id} added.", id=o.id))


@success_app.command("update")
def update(
    objective_id: Annotated[int, typer.Argument(help="Objective id.")],
    title: Annotated[str | None, typer.Option("--title")] = None,
    baseline: Annotated[float | None, typer.Option("--baseline")] = None,
    target: Annotated[float | None, typer.Option("--target")] = None,
    due: DueOption = None,
    owner: Annotated[str | None, typer.Option("--owner")] = None,
    contact: Annotated[int | None, typer.Option("--contact")] = None,
    status: Annotated[str | None, typer.Option("--status")] = None,
    value: Annotated[
        float | None, typer.Option("--value", help="A manual KPI's current value.")
    ] = None,
    note: Annotated[str | None, typer.Option("--note")] = None,
) -> None:
    """Change an objective; the history keeps every change."""
    with session_scope() as session:
        service.update_objective(
            session, objective_id, title=title, baseline=baseline, target=target, due_date=due,
            owner=owner, contact_id=contact, status=status, value=value, note=note,
        )  # fmt: skip
    typer.echo(_("Objective {id} updated.", id=objective_id))


@success_app.command("review")
def review(
    objective_id: Annotated[int, typer.Argument(help="Objective id.")],
    note: Annotated[str, typer.Option("--note", help="What the review found.")],
    status: Annotated[str | None, typer.Option("--status")] = None,
    value: Annotated[float | None, typer.Option("--value")] = None,
) -> None:
    """Record a review of an objective: a note, and optionally its new status or KPI value."""
    with session_scope() as session:
        service.review(session, objective_id, note, status=status, value=value)
    typer.echo(_("Objective {id} reviewed.", id=objective_id))


@handoff_app.command("set")
def handoff_set(
    account_id: Annotated[int, typer.Argument(help="Account id.")],
    notes: Annotated[str | None, typer.Option("--notes", help="Deal notes.")] = None,
    stakeholders: Annotated[str | None, typer.Option("--stakeholders")] = None,
    promised_outcome: Annotated[str | None, typer.Option("--promised-outcome")] = None,
    sales_owner: Annotated[str | None, typer.Option("--sales-owner")] = None,
    source: Annotated[str, typer.Option("--source", help="manual or crm.")] = "manual",
) -> None:
    """Record what sales knew; only the given fields change."""
    with session_scope() as session:
        handoffs.set_handoff(
            session, account_id, deal_notes=notes, stakeholders=stakeholders,
            promised_outcome=promised_outcome, sales_owner=sales_owner, source=source,
        )  # fmt: skip
    typer.echo(_("Handoff of account {id} saved.", id=account_id))


@handoff_app.command("import")
def handoff_import(
    path: Annotated[Path, typer.Argument(help="CSV, .xlsx or .parquet file.")],
    source: Annotated[
        str, typer.Option("--source", help="The system the external ids come from.")
    ] = "crm",
) -> None:
    """Handoffs from a CRM export, all or nothing (columns: account_id or external_id,
    promised_outcome, stakeholders, deal_notes, sales_owner; Japanese headers too)."""
    try:
        with session_scope() as session:
            count = import_handoffs(session, path, source=source)
    except ImportRejected as exc:
        errors = Console(stderr=True)
        for problem in exc.problems[:MAX_PRINTED_PROBLEMS]:
            errors.print(str(problem), markup=False, highlight=False, soft_wrap=True)
        raise
    typer.echo(ngettext("{n} handoff imported.", "{n} handoffs imported.", count))


@handoff_app.command("show")
def handoff_show(
    account_id: Annotated[int, typer.Argument(help="Account id.")],
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """The account's handoff."""
    check_format(fmt, FORMATS)
    with session_scope() as session:
        service.get_account(session, account_id)
        found: dict[str, Any] | None = handoffs.as_dict(handoffs.get(session, account_id))
    if fmt == "json":
        typer.echo(json.dumps(found, ensure_ascii=False, indent=2))
        return
    if found is None:
        typer.echo(_("No handoff."))
        return
    for key, name in (("promised_outcome", _("Promised outcome")),
                      ("stakeholders", _("Stakeholders")), ("deal_notes", _("Deal notes")),
                      ("sales_owner", _("Sales owner"))):  # fmt: skip
        typer.echo(f"{name}: {found[key] or '—'}")
