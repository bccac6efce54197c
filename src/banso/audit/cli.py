"""``banso audit list``: read the audit log."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from typing import Annotated

import typer

from banso import schema
from banso.audit import service
from banso.config import get_settings
from banso.db import session_scope
from banso.errors import BansoError
from banso.i18n import _

audit_app = typer.Typer(help="The audit log: sign-ins, admin actions, imports, merges.")


@audit_app.command("list")
def list_command(
    since: Annotated[
        str | None,
        typer.Option("--since", help="A date (company time) or an ISO timestamp."),
    ] = None,
    actor: Annotated[str | None, typer.Option("--actor", help="E-mail or cli:<user>.")] = None,
    action: Annotated[
        str | None,
        typer.Option("--action", help="An action, or a prefix ending in a dot (sign_in.)."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1)] = 500,
    format_: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Audit entries, newest first."""
    if format_ not in ("table", "json"):
        raise BansoError(_("--format must be table or json."))
    if not schema.is_ready():
        raise BansoError(_("The database is not initialised; run `banso init` first."))
    with session_scope() as session:
        entries = service.list_entries(
            session, since=parse_since(since), actor=actor, action=action, limit=limit
        )
        rows = [service.as_dict(entry) for entry in entries]
    if format_ == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        typer.echo(
            f"{row['at']}  {row['actor']}  {row['action']}  {row['target']}  "
            f"{row['address'] or ''}  {json.dumps(row['detail'], ensure_ascii=False)}"
        )


def parse_since(value: str | None) -> datetime | None:
    """``2026-04-01`` (midnight company time) or an ISO timestamp (UTC when it has no zone)."""
    if not value:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime.combine(day, time(), tzinfo=get_settings().tz).astimezone(UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BansoError(
            _("--since must be a date (YYYY-MM-DD) or an ISO timestamp, not {value}.", value=value)
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
