"""``banso programs …``: the catalogue, sessions, enrolment, attendance and the effect."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from banso.audit.service import current_actor
from banso.config import get_settings
from banso.db import session_scope
from banso.errors import check_format
from banso.i18n import _, current_language, number
from banso.labels import label
from banso.programs import effect as program_effect
from banso.programs import service

programs_app = typer.Typer(help="The cafeteria of programmes: catalogue, sessions, attendance.")
console = Console()


@programs_app.command("list")
def list_command(
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """The catalogue (programs.yaml) with each programme's sessions and attendances."""
    check_format(fmt, ("table", "json"))
    with session_scope() as session:
        rows = service.program_rows(session, current_language())
        sessions = [
            {"id": s.id, "program": s.program, "starts_at": s.starts_at.isoformat(),
             "capacity": s.capacity, "enrolled": s.enrolled, "attended": s.attended}
            for s in service.sessions(session)
        ]  # fmt: skip
    if fmt == "json":
        typer.echo(json.dumps({"programs": rows, "sessions": sessions}, ensure_ascii=False,
                              indent=2))  # fmt: skip
        return
    table = Table(title=_("Programmes"))
    for column in (_("key"), _("kind"), _("title"), _("language"), _("segments"),
                   _("capacity"), _("price (yen)"), _("sessions"), _("attended")):  # fmt: skip
        table.add_column(column)
    for r in rows:
        table.add_row(
            r["key"], label(r["kind"], "program_kind"), r["title"], r["language"],
            ", ".join(r["segments"] or []) or _("all"),
            "—" if r["capacity"] is None else number(r["capacity"]),
            "—" if r["price_yen"] is None else number(r["price_yen"]),
            number(r["sessions"]), number(r["attended"]),
        )  # fmt: skip
    console.print(table)


@programs_app.command("sessions")
def sessions_command(
    program: Annotated[str | None, typer.Argument(help="Programme key (default: all).")] = None,
) -> None:
    """Sessions, oldest first, with seats taken and attendances."""
    zone = get_settings().tz
    with session_scope() as session:
        if program:
            service.program(program)
        rows = service.sessions(session, program)
    table = Table(title=_("Sessions"))
    for column in ("id", _("programme"), _("starts"), _("capacity"), _("enrolled"),
                   _("attended")):  # fmt: skip
        table.add_column(column)
    for s in rows:
        table.add_row(
            str(s.id), s.program, s.starts_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            "—" if s.capacity is None else number(s.capacity), number(s.enrolled),
            number(s.attended),
        )  # fmt: skip
    console.print(table)


@programs_app.command("add-session")
def add_session(
    program: Annotated[str, typer.Argument(help="Programme key.")],
    starts: Annotated[str, typer.Argument(help="Start, YYYY-MM-DD HH:MM in company time.")],
    capacity: Annotated[
        int | None, typer.Option("--capacity", help="Seats (default: the programme's).")
    ] = None,
) -> None:
    """Add a dated session of a programme."""
    with session_scope() as session:
        row = service.add_session(session, program, service.parse_start(starts), capacity)
        typer.echo(_("Session {id} of {program} added.", id=row.id, program=row.program))


@programs_app.command("enrol")
def enrol(
    session_id: Annotated[int, typer.Argument(help="Session id (banso programs sessions).")],
    email: Annotated[str, typer.Argument(help="The contact's e-mail.")],
) -> None:
    """Enrol a contact in a session (refused when the session is full)."""
    with session_scope() as session:
        service.enrol(session, session_id, email, current_actor().name or "cli")
    typer.echo(_("{email} enrolled in session {id}.", email=email, id=session_id))


@programs_app.command("attend")
def attend(
    session_id: Annotated[int, typer.Argument(help="Session id (banso programs sessions).")],
    email: Annotated[str, typer.Argument(help="The contact's e-mail.")],
    status: Annotated[
        str, typer.Option("--status", help="attended, no_show or enrolled.")
    ] = "attended",
) -> None:
    """Record whether a contact attended a session."""
    with session_scope() as session:
        service.record_attendance(session, session_id, email, status,
                                  current_actor().name or "cli")  # fmt: skip
    typer.echo(_("{email}: {status} in session {id}.", email=email,
                 status=label(status, "attendance_status"), id=session_id))  # fmt: skip


@programs_app.command("effect")
def effect(
    program: Annotated[str | None, typer.Argument(help="Programme key (default: all).")] = None,
    days: Annotated[int, typer.Option("--days", help="Days after attending.")] = 60,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Change of health and usage of attending accounts vs matched similar accounts that did
    not attend (same segment and band, nearest usage before), with a 95 % interval."""
    check_format(fmt, ("table", "json"))
    with session_scope() as session:
        results = program_effect.effect(session, program, days)
    if fmt == "json":
        typer.echo(json.dumps(results, ensure_ascii=False, indent=2))
        return
    for result in results:
        typer.echo(f"{result['program']}: {result['summary']}")
