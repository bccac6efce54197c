"""``banso accounts``: list, duplicates, merge."""

import typer

accounts_app = typer.Typer(
    help="Accounts and their identities in other systems.", no_args_is_help=True
)
