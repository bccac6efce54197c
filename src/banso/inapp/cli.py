"""``banso inapp site add|list|disable``, ``banso inapp announce``, ``banso inapp messages``,
``banso inapp end``: parse, call :mod:`banso.inapp.service`, print."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from banso import dates
from banso.db import session_scope
from banso.errors import check_format
from banso.i18n import _, current_language
from banso.inapp import service
from banso.labels import label

inapp_app = typer.Typer(
    help="In-app messages: sites that embed the snippet, announcements and NPS prompts.",
    no_args_is_help=True,
)
site_app = typer.Typer(help="Sites (products) that embed /inapp/banso.js.", no_args_is_help=True)
inapp_app.add_typer(site_app, name="site")

FORMATS = ("table", "json")


@site_app.command("add")
def site_add(
    name: Annotated[str, typer.Argument(help="The site's name, e.g. the product's.")],
    source: Annotated[
        str, typer.Option("--source", help="Identity source of the product's account ids.")
    ],
    origin: Annotated[
        list[str],
        typer.Option(
            "--origin",
            help="Origin allowed to use the key (https://app.example.jp); repeat for several.",
        ),
    ],  # fmt: skip
) -> None:
    """Add a site and print its public key (it goes in the product's pages)."""
    with session_scope() as session:
        site = service.add_site(session, name, source, origin)
        key = site.site_key
    typer.echo(key)


@site_app.command("list")
def site_list(output: Annotated[str, typer.Option("--format")] = "table") -> None:
    """The sites with their key, identity source and allowed origins."""
    check_format(output, FORMATS)
    with session_scope() as session:
        rows = [
            {
                "name": s.name, "site_key": s.site_key, "source": s.source,
                "origins": s.allowed_origins.split(), "disabled": s.disabled_at is not None,
            }
            for s in service.list_sites(session)
        ]  # fmt: skip
    if output == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    if not rows:
        typer.echo(_("No in-app sites."))
        return
    table = Table()
    for header in (_("Site"), _("Site key"), _("Source"), _("Allowed origins"), _("Status")):
        table.add_column(header)
    for row in rows:
        status = _("Disabled") if row["disabled"] else _("Active")
        table.add_row(
            str(row["name"]), str(row["site_key"]), str(row["source"]),
            "\n".join(row["origins"]), status,
        )  # fmt: skip
    Console().print(table)


@site_app.command("disable")
def site_disable(name: str) -> None:
    """Stop the site's key working (its messages stay, for the record)."""
    with session_scope() as session:
        service.disable_site(session, name)
    typer.echo(_("Site {name} disabled.", name=name))


@inapp_app.command("announce")
def announce(
    site: Annotated[str, typer.Option("--site", help="The site's name.")],
    title_ja: Annotated[str, typer.Option("--title-ja")],
    title_en: Annotated[str, typer.Option("--title-en")],
    body_ja: Annotated[str, typer.Option("--body-ja")] = "",
    body_en: Annotated[str, typer.Option("--body-en")] = "",
    segment: Annotated[
        list[str] | None,
        typer.Option("--segment", help="Target segment; repeat for several. None: everyone."),
    ] = None,
    starts: Annotated[
        str | None, typer.Option("--starts", help="YYYY-MM-DD; default today.")
    ] = None,
    ends: Annotated[str | None, typer.Option("--ends", help="YYYY-MM-DD, inclusive.")] = None,
    nps: Annotated[bool, typer.Option("--nps", help="An NPS prompt (0-10) instead.")] = False,
) -> None:
    """Add an announcement (or with --nps an NPS prompt) shown in the product; prints its id."""
    starts_on = dates.parse_day_option(starts, "--starts") or dates.today()
    ends_on = dates.parse_day_option(ends, "--ends")
    with session_scope() as session:
        message = service.add_message(
            session, site, "nps" if nps else "announcement", (title_ja, title_en),
            (body_ja, body_en), segment or [], starts_on, ends_on, created_by="cli",
        )  # fmt: skip
        message_id = message.id
    typer.echo(message_id)


@inapp_app.command("messages")
def messages(output: Annotated[str, typer.Option("--format")] = "table") -> None:
    """Every announcement and NPS prompt, newest first."""
    check_format(output, FORMATS)
    ja = current_language() == "ja"
    with session_scope() as session:
        rows = [
            {
                "id": m.id, "site": site, "kind": m.kind,
                "title": m.title_ja if ja else m.title_en, "segments": m.segments.split(),
                "starts_on": m.starts_on.isoformat(), "ends_on": _iso(m.ends_on),
                "ended": m.ended_at is not None,
            }
            for m, site in service.list_messages(session)
        ]  # fmt: skip
    if output == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    if not rows:
        typer.echo(_("No in-app messages."))
        return
    table = Table()
    for header in (_("Id"), _("Site"), _("Kind"), _("Title"), _("Segments"), _("From"), _("To")):
        table.add_column(header)
    for row in rows:
        table.add_row(
            str(row["id"]), str(row["site"]), label(str(row["kind"]), "inapp_kind"),
            str(row["title"]) + (" " + _("(ended)") if row["ended"] else ""),
            " ".join(row["segments"]) or _("everyone"), str(row["starts_on"]),
            str(row["ends_on"] or ""),
        )  # fmt: skip
    Console().print(table)


@inapp_app.command("end")
def end(message_id: int) -> None:
    """Stop showing an announcement or NPS prompt."""
    with session_scope() as session:
        service.end_message(session, message_id)
    typer.echo(_("In-app message {id} ended.", id=message_id))


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
