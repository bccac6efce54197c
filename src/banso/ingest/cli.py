"""``banso import KIND FILE``."""

import typer

import_app = typer.Typer(
    help="Import a CSV, Excel or Parquet file (all-or-nothing).", no_args_is_help=True
)
