"""``banso accounts``: list, duplicates (``merge`` is the flow's, ``banso.flows.cli``). Parses
options, calls the service, prints."""

from __future__ import annotations

import csv
import json
import sys
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from banso.accounts import service
from banso.db import session_scope
from banso.i18n import _
from banso.spreadsheet_cells import spreadsheet_row

accounts_app = typer.Typer(
    help="Accounts and their identities in other systems: list them, find duplicates, merge.",
    no_args_is_help=True,
)


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


@accounts_app.command("list")
def list_command(
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table, json (one object per account) or csv.")
    ] = OutputFormat.table,
    limit: Annotated[
        int | None,
        typer.Option("--limit", min=1, help="Show at most this many accounts.", show_default=False),
    ] = None,
) -> None:
    """Accounts with their identities (source:external id) in each system."""
    with session_scope() as session:
        rows = service.list_accounts(session, limit=limit)
    if output is OutputFormat.json:
        typer.echo(json.dumps([r.as_dict() for r in rows], ensure_ascii=False, indent=2))
        return
    if output is OutputFormat.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["id", "name", "domain", "identities"])
        for r in rows:
            writer.writerow(
                spreadsheet_row([r.id, r.name, r.domain or "", _identities_text(r.identities)])
            )
        return
    table = Table(title=_("Accounts"))
    for header in (_("ID"), _("Name"), _("Domain"), _("Identities")):
        table.add_column(header)
    for r in rows:
        table.add_row(str(r.id), r.name, r.domain or "", _identities_text(r.identities))
    Console(width=max(120, Console().width)).print(table)


@accounts_app.command("duplicates")
def duplicates_command(
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table, json or csv.")
    ] = OutputFormat.table,
) -> None:
    """Pairs of accounts that may be one customer (same domain or same normalised name).

    Banso never merges these silently; check each pair and run `banso accounts merge KEEP OTHER`.
    """
    with session_scope() as session:
        pairs = service.find_duplicates(session)
    reasons = {"same_domain": _("same domain"), "same_name": _("same normalised name")}
    if output is OutputFormat.json:
        typer.echo(json.dumps([p.__dict__ for p in pairs], ensure_ascii=False, indent=2))
        return
    if output is OutputFormat.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["first_id", "first_name", "second_id", "second_name", "reason", "value"])
        for p in pairs:
            writer.writerow(
                spreadsheet_row(
                    [p.first_id, p.first_name, p.second_id, p.second_name, p.reason, p.value]
                )
            )
        return
    if not pairs:
        typer.echo(_("No duplicate candidates."))
        return
    table = Table(title=_("Possible duplicates"))
    for header in (_("Account"), _("Account"), _("Reason"), _("Shared value")):
        table.add_column(header)
    for p in pairs:
        table.add_row(
            f"{p.first_id} {p.first_name}", f"{p.second_id} {p.second_name}",
            reasons[p.reason], p.value,
        )  # fmt: skip
    Console(width=max(120, Console().width)).print(table)


def _identities_text(identities: list[dict[str, str]]) -> str:
    return ", ".join(f"{i['source']}:{i['external_id']}" for i in identities)
