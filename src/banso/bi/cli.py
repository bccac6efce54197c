"""``banso bi export|duckdb|postgres``: the BI views as files, a DuckDB database or a
PostgreSQL schema. Parse, call one service function, print."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from banso.bi import service
from banso.bi.views import VIEWS
from banso.config import get_settings
from banso.db import session_scope
from banso.i18n import _, ngettext
from banso.progress import progress

bi_app = typer.Typer(help="BI surface: views for Tableau, Metabase or Power BI.")


@bi_app.command("export")
def export_command(
    to: Annotated[Path, typer.Option("--to", help="Directory to write the files to.")],
    fmt: Annotated[str, typer.Option("--format", help="parquet, csv or xlsx.")] = "parquet",
) -> None:
    """Every BI view as a file; only the views that changed since the last export are written."""
    with session_scope() as session, progress() as shown:
        with shown.step(_("Exporting BI views"), len(VIEWS)) as advance:
            done = service.export(session, to, fmt, advance=advance)
    written = [d for d in done if d.written]
    typer.echo(
        _("Wrote {written} to {directory}; {kept} unchanged.",
          written=ngettext("{n} view", "{n} views", len(written)), directory=to,
          kept=len(done) - len(written))
    )  # fmt: skip


@bi_app.command("duckdb")
def duckdb_command(
    path: Annotated[Path, typer.Argument(help="DuckDB database file to write (replaced).")],
) -> None:
    """A DuckDB database file of the BI views."""
    with session_scope() as session, progress() as shown:
        with shown.step(_("Writing BI views"), len(VIEWS)) as advance:
            count = service.write_duckdb(session, path, advance=advance)
    typer.echo(_("Wrote {views} to {path}.", views=ngettext("{n} view", "{n} views", count),
                 path=path))  # fmt: skip


@bi_app.command("postgres")
def postgres_command(
    url: Annotated[
        str | None,
        typer.Option("--url", help="PostgreSQL URL (default: the app database)."),
    ] = None,
) -> None:
    """The BI views in PostgreSQL schema banso_bi (replaced in one transaction)."""
    target = url or get_settings().db_url
    with session_scope() as session, progress() as shown:
        with shown.step(_("Writing BI views"), len(VIEWS)) as advance:
            count = service.write_postgres(session, target, advance=advance)
    views = ngettext("{n} view", "{n} views", count)
    typer.echo(_("Wrote {views} to schema {schema}.", views=views, schema=service.PG_SCHEMA))
