"""``banso metrics revenue|cohorts|summary``."""

import typer

metrics_app = typer.Typer(
    help="Revenue and retention KPIs (MRR movements, churn, NRR/GRR, cohorts).",
    no_args_is_help=True,
)
