"""``banso users``: create users, set passwords and roles; ``banso users tokens``: API tokens."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated

import typer

from banso import schema
from banso.db import session_scope, utcnow
from banso.errors import BansoError
from banso.i18n import _
from banso.labels import label
from banso.users import service, tokens

users_app = typer.Typer(help="People who sign in to the web app, and API tokens.")
tokens_app = typer.Typer(help="API tokens: create (shown once), list, revoke.")
users_app.add_typer(tokens_app, name="tokens")


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
        typer.echo(
            _(
                "Created user {email} ({role}).",
                email=user.email,
                role=label(user.role, "user_role"),
            )
        )


@users_app.command("set-password")
def set_password(
    email: str,
    password: Annotated[
        str | None, typer.Option("--password", help="New password; asked for when left out.")
    ] = None,
) -> None:
    """Set a user's password; ends all their sessions and forgets failed sign-ins."""
    _require_database()
    password = password or _ask_password()
    with session_scope() as session:
        user = service.set_password(session, email, password)
        typer.echo(_("Password changed for {email}.", email=user.email))


@users_app.command("set-role")
def set_role(
    email: str,
    role: Annotated[str, typer.Argument(help="admin, ops, csm or viewer.")],
) -> None:
    """Change a user's role; their sessions end so the new role applies at once."""
    _require_database()
    with session_scope() as session:
        user = service.set_role(session, email, role)
        typer.echo(
            _("{email} is now {role}.", email=user.email, role=label(user.role, "user_role"))
        )


@tokens_app.command("create")
def tokens_create(
    email: str,
    name: Annotated[str, typer.Option("--name", help="What the token is for.")],
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help="read, write or events; repeat for several. Default: read."),
    ] = None,
    days: Annotated[
        int, typer.Option("--days", min=0, help="Days until it expires; 0: never.")
    ] = tokens.DEFAULT_LIFETIME.days,
    source: Annotated[
        str | None,
        typer.Option(
            "--source",
            help="Identity source whose account ids the token's events may use (the product's "
            "own ids), e.g. product.",
        ),
    ] = None,
) -> None:
    """Create an API token for the user and print it; it cannot be shown again."""
    _require_database()
    expires_at = utcnow() + timedelta(days=days) if days else None
    with session_scope() as session:
        _row, value = tokens.create_token(
            session, email, name, scope or ["read"], expires_at, source=source
        )
    typer.echo(value)


@tokens_app.command("list")
def tokens_list(
    email: Annotated[str | None, typer.Argument(help="Only this user's tokens.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Also revoked and expired tokens.")] = False,
    format_: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """List API tokens (never the tokens themselves): id, user, name, scopes, dates, status."""
    _require_database()
    with session_scope() as session:
        listings = tokens.list_tokens(session, email, include_ended=all_)
        rows = [
            {
                "id": item.token.id,
                "user": item.email,
                "name": item.token.name,
                "hint": (item.token.hint + "…") if item.token.hint else "",
                "scopes": item.token.scopes,
                "created_at": item.token.created_at.isoformat(timespec="seconds"),
                "last_used_at": _iso(item.token.last_used_at),
                "expires_at": _iso(item.token.expires_at),
                "status": item.status,
            }
            for item in listings
        ]
    if format_ == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if format_ != "table":
        raise BansoError(_("--format must be table or json."))
    if not rows:
        typer.echo(_("No API tokens."))
        return
    for row in rows:
        typer.echo(
            f"{row['id']:>4}  {row['user']}  {row['name']}  {row['hint']}  [{row['scopes']}]  "
            f"{_('expires')} {row['expires_at'] or _('never')}  "
            + label(str(row["status"]), "token_status")
        )


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[int, typer.Argument(help="The id that `list` shows.")],
) -> None:
    """Stop an API token working from now on."""
    _require_database()
    with session_scope() as session:
        row = tokens.revoke_token(session, token_id)
        typer.echo(_("Revoked API token {id} ({name}).", id=row.id, name=row.name))


def _ask_password() -> str:
    return str(typer.prompt(_("Password"), hide_input=True, confirmation_prompt=True))


def _iso(value) -> str | None:  # type: ignore[no-untyped-def]
    return value.isoformat(timespec="seconds") if value is not None else None


def _require_database() -> None:
    if not schema.is_ready():
        raise BansoError(_("The database is not initialised; run `banso init` first."))
