"""``banso serve``: run the web app."""

from __future__ import annotations

from typing import Annotated

import typer

from banso import schema
from banso.errors import BansoError
from banso.i18n import _


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
    https_only: Annotated[
        bool, typer.Option("--https-only", help="Send the session cookie over HTTPS only.")
    ] = False,
) -> None:
    """Run the web app and JSON API until interrupted."""
    import uvicorn

    from banso.web.app import create_app

    if not schema.is_ready():
        raise BansoError(_("The database is not initialised; run `banso init` first."))
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::") else host
    typer.echo(_("Banso is running at {url} (Ctrl+C stops it).", url=f"http://{shown}:{port}/"))
    uvicorn.run(create_app(https_only=https_only), host=host, port=port, log_level="warning")
