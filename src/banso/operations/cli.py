"""``banso backup`` and ``banso restore``: parse, call the service, show progress."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from banso.i18n import _
from banso.operations import backup as service
from banso.progress import progress


def backup(
    destination: Annotated[Path, typer.Argument(help="New folder to write the backup into.")],
) -> None:
    """Back up the app database and the data directory (events, health, config, key)."""
    with _progress() as report:
        summary = service.backup(destination, progress=report)
    typer.echo(
        _(
            "Backed up {rows} rows in {tables} tables and {files} files ({size} bytes) to {path}.",
            rows=f"{sum(summary.rows.values()):,}",
            tables=len(summary.rows),
            files=summary.files,
            size=f"{summary.bytes:,}",
            path=str(summary.path),
        )
    )


def restore(
    source: Annotated[Path, typer.Argument(help="Folder written by `banso backup`.")],
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace a data directory or database that is not empty."),
    ] = False,
) -> None:
    """Restore a backup into the data directory and the app database."""
    with _progress() as report:
        revision = service.restore(source, force=force, progress=report)
    typer.echo(
        _("Restored {path} (database revision {revision}).", path=str(source), revision=revision)
    )


@contextmanager
def _progress() -> Iterator[service.Progress]:
    """Progress per step on stderr: bars on a terminal, a line now and then in a log."""
    with progress() as shown:
        yield shown.reporter()
