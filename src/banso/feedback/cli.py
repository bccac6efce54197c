"""``banso feedback …`` (requests: list, add, ask, from-survey, import-tickets, merge, status,
export) and ``banso advocacy …`` (list, add, status)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from banso.dates import DayOption, today
from banso.db import session_scope
from banso.errors import check_format
from banso.feedback import advocacy, service
from banso.i18n import _, number
from banso.labels import label

feedback_app = typer.Typer(
    help="Feedback and feature requests: list (ranked by MRR asking), add, ask, merge, status,"
    " export."
)
advocacy_app = typer.Typer(help="Advocacy: references, case studies, reviews, referrals.")
console = Console()


@feedback_app.command("list")
def list_command(
    rank_by: Annotated[str, typer.Option("--rank-by", help="mrr or at_risk_mrr.")] = "mrr",
    status: Annotated[str | None, typer.Option("--status")] = None,
    category: Annotated[str | None, typer.Option("--category")] = None,
    product_area: Annotated[str | None, typer.Option("--product-area")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Requests ranked by the MRR of the accounts asking (each account once)."""
    check_format(fmt, ("table", "json"))
    with session_scope() as session:
        rows = service.ranking(
            session, rank_by=rank_by, status=status, category=category,
            product_area=product_area,
        )  # fmt: skip
    if fmt == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        typer.echo(_("No feedback requests."))
        return
    table = Table()
    for column in (_("id"), _("title"), _("status"), _("accounts"), _("MRR asking"),
                   _("at-risk accounts"), _("at-risk MRR asking")):  # fmt: skip
        table.add_column(column)
    for r in rows:
        table.add_row(
            str(r["id"]), r["title"], label(r["status"], "feedback_status"),
            number(r["accounts"]), number(r["mrr"]), number(r["at_risk_accounts"]),
            number(r["at_risk_mrr"]),
        )  # fmt: skip
    console.print(table)


@feedback_app.command("add")
def add(
    title: Annotated[str, typer.Argument(help="What is asked for, in a few words.")],
    description: Annotated[str | None, typer.Option("--description")] = None,
    category: Annotated[str, typer.Option("--category")] = "feature_request",
    product_area: Annotated[str | None, typer.Option("--product-area")] = None,
) -> None:
    """Add a request (under review)."""
    with session_scope() as session:
        request = service.add(
            session, title, description=description, category=category,
            product_area=product_area,
        )  # fmt: skip
        typer.echo(_("Feedback request {id} added.", id=request.id))


@feedback_app.command("ask")
def ask(
    request_id: Annotated[int, typer.Argument(help="Request id.")],
    account_id: Annotated[int, typer.Argument(help="Account id.")],
    contact: Annotated[int | None, typer.Option("--contact", help="Contact id.")] = None,
    note: Annotated[str | None, typer.Option("--note")] = None,
) -> None:
    """Record that an account (and a contact of it) asked for the request."""
    with session_scope() as session:
        service.ask(session, request_id, account_id, contact_id=contact, note=note, source="cli")
    typer.echo(_("Ask recorded on request {id}.", id=request_id))


@feedback_app.command("from-survey")
def from_survey(
    response_id: Annotated[int, typer.Argument(help="Survey response id.")],
    request_id: Annotated[int, typer.Argument(help="Request id.")],
) -> None:
    """Turn a survey answer's comment into an ask on the request."""
    with session_scope() as session:
        service.ask_from_survey(session, response_id, request_id)
    typer.echo(_("Ask recorded on request {id}.", id=request_id))


@feedback_app.command("import-tickets")
def import_tickets(
    category: Annotated[
        str, typer.Option("--category", help="The ticket category that means a request.")
    ] = "feature_request",
) -> None:
    """Tickets of the category become asks on the request matched by title (or a new one)."""
    with session_scope() as session:
        result = service.import_tickets(session, category)
    typer.echo(
        _("{asks} asks from tickets, {created} new requests, {already} already linked.",
          asks=result.asks, created=result.requests_created, already=result.already)
    )  # fmt: skip
    for reason in result.skipped:
        typer.echo(_("Skipped: {reason}", reason=reason))


@feedback_app.command("merge")
def merge(
    duplicate_id: Annotated[int, typer.Argument(help="The duplicate request's id.")],
    kept_id: Annotated[int, typer.Argument(help="The request to keep.")],
) -> None:
    """Merge a duplicate into the kept request (its asks move)."""
    with session_scope() as session:
        service.merge(session, duplicate_id, kept_id)
    typer.echo(_("Request {dup} merged into request {kept}.", dup=duplicate_id, kept=kept_id))


@feedback_app.command("status")
def status(
    request_id: Annotated[int, typer.Argument(help="Request id.")],
    new_status: Annotated[str, typer.Argument(help="under_review, planned, shipped or declined.")],
) -> None:
    """Change a request's status; shipped queues an email to each contact who asked."""
    with session_scope() as session:
        _request, queued = service.change_status(session, request_id, new_status, today())
    typer.echo(
        _("Request {id} is now {status}; {n} emails queued.", id=request_id,
          status=label(new_status, "feedback_status"), n=queued)
    )  # fmt: skip


@feedback_app.command("export")
def export(
    fmt: Annotated[str, typer.Option("--format", help="csv.")] = "csv",
    rank_by: Annotated[str, typer.Option("--rank-by", help="mrr or at_risk_mrr.")] = "mrr",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
) -> None:
    """The ranked requests as CSV for the product team."""
    check_format(fmt, ("csv",))
    with session_scope() as session:
        text = service.export_csv(session, rank_by=rank_by)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


@advocacy_app.command("list")
def advocacy_list(
    status: Annotated[str | None, typer.Option("--status")] = None,
    kind: Annotated[str | None, typer.Option("--kind")] = None,
    account: Annotated[int | None, typer.Option("--account", help="Account id.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Advocacy items, open ones first."""
    check_format(fmt, ("table", "json"))
    with session_scope() as session:
        rows = advocacy.list_items(session, status=status, kind=kind, account_id=account)
    if fmt == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        typer.echo(_("No advocacy items."))
        return
    table = Table()
    for column in (_("id"), _("account"), _("kind"), _("status"), _("contact"),
                   _("proposed"), _("source")):  # fmt: skip
        table.add_column(column)
    for r in rows:
        table.add_row(
            str(r["id"]), r["account_name"], label(r["kind"], "advocacy_kind"),
            label(r["status"], "advocacy_status"), r["contact_name"] or "—", r["proposed_on"],
            r["source"],
        )  # fmt: skip
    console.print(table)


@advocacy_app.command("add")
def advocacy_add(
    account_id: Annotated[int, typer.Argument(help="Account id.")],
    kind: Annotated[str, typer.Option("--kind", help="reference, case_study, review, referral.")],
    contact: Annotated[int | None, typer.Option("--contact", help="Contact id.")] = None,
    note: Annotated[str | None, typer.Option("--note")] = None,
) -> None:
    """Propose an advocacy item for an account."""
    with session_scope() as session:
        item = advocacy.add(session, account_id, kind, today(), contact_id=contact, note=note)
        typer.echo(_("Advocacy item {id} proposed.", id=item.id))


@advocacy_app.command("status")
def advocacy_status(
    item_id: Annotated[int, typer.Argument(help="Advocacy item id.")],
    new_status: Annotated[str, typer.Argument(help="asked, agreed, done or declined.")],
    on: Annotated[
        date | None, typer.Option("--on", help="Day (default today).", parser=DayOption("--on"))
    ] = None,
    note: Annotated[str | None, typer.Option("--note")] = None,
) -> None:
    """Move an advocacy item on (done and declined are final)."""
    with session_scope() as session:
        advocacy.change_status(session, item_id, new_status, on or today(), note)
    typer.echo(
        _("Advocacy item {id} is now {status}.", id=item_id,
          status=label(new_status, "advocacy_status"))
    )  # fmt: skip
