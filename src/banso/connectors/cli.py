"""``banso connect …``: add, test, sync, status, log and remove connections to HubSpot,
Salesforce, Stripe and Zendesk."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.console import Console
from rich.table import Table

from banso.connectors import service
from banso.connectors.models import KINDS
from banso.db import session_scope
from banso.errors import BansoError, check_format
from banso.i18n import _, number
from banso.labels import label

connect_app = typer.Typer(help="Connections to CRM, billing and support services.")
console = Console()


@connect_app.command("add")
def add_command(
    name: Annotated[str, typer.Argument(help="A name for the connection (also the source name "
                                             "of its records' ids).")],  # fmt: skip
    kind: Annotated[str, typer.Option("--kind", help=" | ".join(KINDS))],
    base_url: Annotated[str, typer.Option("--base-url", help="The service's API address.")],
    secret_env: Annotated[str | None, typer.Option("--secret-env",
                          help="Environment variable holding the token.")] = None,  # fmt: skip
    secret_file: Annotated[Path | None, typer.Option("--secret-file",
                           help="File holding the token, mode 0600.")] = None,  # fmt: skip
    mapping: Annotated[Path | None, typer.Option(
        "--mapping", help="YAML: object -> import field -> the service's field.")] = None,
    write_back: Annotated[bool, typer.Option("--write-back",
                          help="Write health score, band and CSM back (HubSpot, Salesforce).")]
    = False,  # fmt: skip
) -> None:
    """Register a connection. The secret is read from the variable or file at each sync and is
    never stored, printed or logged."""
    fields = _read_mapping(mapping) if mapping else None
    with session_scope() as session:
        service.add(session, name, kind, base_url, secret_env=secret_env,
                    secret_file=str(secret_file) if secret_file else None, mapping=fields,
                    write_back=write_back)  # fmt: skip
    typer.echo(_("Connection {name} ({kind}) added. Try it: banso connect test {name}",
                 name=name, kind=label(kind, "connector_kind")))  # fmt: skip


def _read_mapping(path: Path) -> dict:  # type: ignore[type-arg]
    if not path.is_file():
        raise BansoError(_("File not found: {path}", path=str(path)))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise BansoError(_("{path} is not valid YAML: {reason}", path=path.name,
                           reason=str(exc).splitlines()[0])) from None  # fmt: skip
    return data or {}


@connect_app.command("test")
def test_command(name: Annotated[str, typer.Argument()]) -> None:
    """One authenticated request to the service."""
    with session_scope() as session:
        connection = service.get(session, name)
        session.expunge(connection)
    typer.echo(_("{name}: OK ({detail})", name=name, detail=service.test(connection)))


@connect_app.command("sync")
def sync_command(
    name: Annotated[str, typer.Argument()],
    only: Annotated[list[str] | None, typer.Option("--object", help="Only this object "
                                                   "(repeatable).")] = None,  # fmt: skip
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Pull what changed since the last sync, object by object, each all-or-nothing."""
    check_format(fmt, ("table", "json"))

    def shown(result: service.ObjectResult) -> None:
        if fmt == "table":
            typer.echo(_("{object}: {status}, {n} in, {inserted} new, {updated} updated, "
                         "{skipped} skipped", object=result.object,
                         status=label(result.status, "sync_status"), n=number(result.records_in),
                         inserted=number(result.inserted), updated=number(result.updated),
                         skipped=number(result.skipped)), err=True)  # fmt: skip
            for problem in result.problems[:50]:
                typer.echo("  " + problem, err=True)

    results = service.sync(name, only=only, on_object=shown)
    if fmt == "json":
        typer.echo(json.dumps([asdict(r) for r in results], ensure_ascii=False, indent=2))
    if any(r.status != "ok" for r in results):
        raise typer.Exit(1)


@connect_app.command("status")
def status_command(
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Each connection's objects: cursor, last sync, counts, last error."""
    check_format(fmt, ("table", "json"))
    with session_scope() as session:
        rows = service.status(session)
    if fmt == "json":
        typer.echo(json.dumps([asdict(r) for r in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        typer.echo(_("No connections yet: banso connect add NAME --kind hubspot|salesforce|"
                     "stripe|zendesk --base-url URL --secret-env VAR"))  # fmt: skip
        return
    table = Table()
    for column in (_("connection"), _("object"), _("last sync"), _("status"), _("in"),
                   _("new"), _("updated"), _("rejected"), _("cursor")):  # fmt: skip
        table.add_column(column)
    for conn in rows:
        for obj in conn.objects:
            table.add_row(
                f"{conn.name} ({label(conn.kind, 'connector_kind')})", obj.object,
                obj.last_finished_at or "—",
                label(obj.last_status, "sync_status") if obj.last_status else _("never"),
                number(obj.records_in), number(obj.inserted), number(obj.updated),
                number(obj.rejected), obj.cursor or "—",
            )  # fmt: skip
    console.print(table)


@connect_app.command("log")
def log_command(
    name: Annotated[str, typer.Argument()],
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 20,
) -> None:
    """The sync log: started, finished, records in/new/updated/rejected, cursor before/after."""
    with session_scope() as session:
        runs = service.sync_log(session, name, limit)
        for run in runs:
            typer.echo(f"{run.started_at:%Y-%m-%d %H:%M:%S} {run.object} "
                       f"{label(run.status, 'sync_status')} in={run.records_in} "
                       f"new={run.inserted} updated={run.updated} rejected={run.rejected} "
                       f"skipped={run.skipped} cursor={run.cursor_before or '—'}→"
                       f"{run.cursor_after or '—'}")  # fmt: skip
            for line in (run.error or "").splitlines()[:20]:
                typer.echo("  " + line)


@connect_app.command("remove")
def remove_command(name: Annotated[str, typer.Argument()]) -> None:
    """Forget a connection, its cursors and its log (records it brought in stay)."""
    with session_scope() as session:
        service.remove(session, name)
    typer.echo(_("Connection {name} removed.", name=name))
