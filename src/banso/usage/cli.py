"""``banso events``: where product events are read from (``events.yaml``), and compacting the
store's small files (``compact``)."""

from __future__ import annotations

import typer
from rich.console import Console

from banso.config import get_settings
from banso.i18n import _, ngettext, number
from banso.progress import progress
from banso.usage import compact, sources

events_app = typer.Typer(
    help="Product events: check where they are read from (events.yaml), compact the store.",
    no_args_is_help=True,
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


@events_app.command("compact")
def compact_command() -> None:
    """Rewrite each day's many small event files into one (safe while events arrive)."""
    with progress() as shown:
        done = compact.compact(report=shown.reporter({"days": _("Compacting event files")}))
    typer.echo(compaction_line(done))


def compaction_line(done: compact.Compaction) -> str:
    """One sentence saying what a compaction did (``banso events compact``, ``banso run``)."""
    if not done.days:
        return _("Event store: nothing to compact (no day has more than one file).")
    return ngettext(
        "Event store: {files} files of {n} day compacted into one per day ({rows} events).",
        "Event store: {files} files of {n} days compacted into one per day ({rows} events).",
        done.days,
        files=number(done.files_before),
        rows=number(done.rows),
    )
