"""``banso demo generate``."""

import typer

demo_app = typer.Typer(
    help="Deterministic synthetic SaaS company for demos, tests, benchmarks.", no_args_is_help=True
)
