"""``banso users``: create users, set passwords, issue API tokens."""

from __future__ import annotations

from typing import Annotated

import typer

from banso import schema
from banso.db import session_scope
from banso.errors import BansoError
from banso.i18n import _
from banso.users import service

users_app = typer.Typer(help="People who sign in to the web app, and API tokens.")


@users_app.command("create")
def create(
    email: str,
    role: Annotated[str, typer.Option("--role", help="admin, ops, csm or viewer.")],
    name: Annotated[str, typer.Option("--name", help="Display name.")] = "",
    password: Annotated[
        str | None, typer.Option("--password", help="Password; asked for when left out.")
    ] = None,
    language: Annotated[
        str | None, typer.Option("--language", help="ja or en; default: the browser's.")
    ] = None,
    member: Annotated[
        str | None,
        typer.Option("--member", help="E-mail of the team member this user is (for CSMs)."),
    ] = None,
) -> None:
    """Create a user who can sign in to the web app."""
    _require_database()
    password = password or _ask_password()
    with session_scope() as session:
        user = service.create_user(
            session,
            email,
            name=name,
            role=role,
            password=password,
            language=language,
            member_email=member,
        )
        typer.echo(_("Created user {email} ({role}).", email=user.email, role=user.role))


@users_app.command("set-password")
def set_password(
    email: str,
    password: Annotated[
        str | None, typer.Option("--password", help="New password; asked for when left out.")
    ] = None,
) -> None:
    """Set a user's password (also lifts a lock-out after failed sign-ins)."""
    _require_database()
    password = password or _ask_password()
    with session_scope() as session:
        user = service.set_password(session, email, password)
        typer.echo(_("Password changed for {email}.", email=user.email))


@users_app.command("token")
def token(
    email: str,
    name: Annotated[str, typer.Option("--name", help="What the token is for.")] = "api",
) -> None:
    """Issue an API token for the user and print it; it cannot be shown again."""
    _require_database()
    with session_scope() as session:
        value = service.issue_token(session, email, name)
    typer.echo(value)


def _ask_password() -> str:
    return str(typer.prompt(_("Password"), hide_input=True, confirmation_prompt=True))


def _require_database() -> None:
    if not schema.is_ready():
        raise BansoError(_("The database is not initialised; run `banso init` first."))
