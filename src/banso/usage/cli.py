"""``banso events``: where product events are read from (``events.yaml``)."""

from __future__ import annotations

import typer
from rich.console import Console

from banso.config import get_settings
from banso.i18n import _, number
from banso.usage import sources

events_app = typer.Typer(
    help="Product events: check where they are read from (events.yaml).", no_args_is_help=True
)
console = Console()


@events_app.command("check-config")
def check_config() -> None:
    """Check events.yaml: the files, the column mapping, and which account keys map."""
    source = sources.external_source()  # FILE:LINE: field: reason on a bad file
    if source is None:
        console.print(
            _("Events are read from Banso's own store ({path}).",
              path=str(get_settings().event_store_dir))
        )  # fmt: skip
        return
    found = sources.check(source)
    if source.kind == "postgres":
        console.print(
            _("PostgreSQL {table}: {rows} events, {mapped} of them for Banso accounts.",
              table=source.pattern, rows=number(found.rows), mapped=number(found.mapped))
        )  # fmt: skip
    else:
        console.print(
            _("{path}: {files} files, {rows} events, {mapped} of them for Banso accounts.",
              path=source.pattern, files=number(found.files), rows=number(found.rows),
              mapped=number(found.mapped))
        )  # fmt: skip
    if found.first is not None and found.last is not None:
        console.print(
            _("From {first} to {last} (UTC).", first=found.first.isoformat(),
              last=found.last.isoformat())
        )  # fmt: skip
    if found.unknown_keys:
        console.print(
            _("{n} account keys name no Banso account; their events are left out "
              "(for example: {examples}).",
              n=number(found.unknown_keys), examples=", ".join(found.examples))
        )  # fmt: skip
