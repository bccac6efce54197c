"""``banso churn``: backtest, train, score, explain, drift (the churn model)."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from banso.accounts.models import Account
from banso.dates import DayOption, yesterday
from banso.db import get_engine, session_scope
from banso.errors import BansoError
from banso.i18n import _, number, percent
from banso.prediction import backtest as bt
from banso.prediction import service
from banso.progress import progress

churn_app = typer.Typer(
    help="Churn prediction: backtest, train, score, explain, drift.", no_args_is_help=True
)
console = Console()

Horizon = Annotated[
    int, typer.Option("--horizon-days", help="Days after each scored day in which churn counts.")
]
AsOf = Annotated[
    date | None,
    typer.Option(
        "--as-of",
        help="Last day the data is known for (YYYY-MM-DD); default yesterday.",
        parser=DayOption("--as-of"),
        show_default=False,
    ),
]
Format = Annotated[str, typer.Option("--format", help="table or json.")]


def _check(horizon_days: int, fmt: str) -> None:
    if not 7 <= horizon_days <= 365:
        raise BansoError(_("--horizon-days must be from 7 to 365, not {n}.", n=horizon_days))
    if fmt not in ("table", "json"):
        raise BansoError(_("--format must be table or json, not {value}.", value=fmt))


def _labels() -> dict[str, str]:
    return {"features": _("Computing features (scoring days)")}


TARGETS = {"churn": "churned", "contraction": "contracted"}


@churn_app.command()
def backtest(
    horizon_days: Horizon = 90,
    as_of: AsOf = None,
    fmt: Format = "table",
    target: Annotated[
        str,
        typer.Option(
            "--target",
            help="churn (not a customer within the horizon) or contraction (still a customer "
            "at its end with less MRR).",
        ),
    ] = "churn",
) -> None:
    """Rolling time-based backtest of the model against the health score, events per active
    user over 28 days and a logistic regression, on the same folds."""
    _check(horizon_days, fmt)
    if target not in TARGETS:
        raise BansoError(_("--target must be churn or contraction, not {value}.", value=target))
    with progress() as shown:
        report = service.backtest(
            get_engine(),
            as_of or yesterday(),
            horizon_days,
            shown.reporter(_labels()),
            target=TARGETS[target],
        )
    _print_report(report, fmt)


@churn_app.command()
def train(horizon_days: Horizon = 90, as_of: AsOf = None, fmt: Format = "table") -> None:
    """Backtest, then keep a new model version only if it beats every baseline."""
    _check(horizon_days, fmt)
    with progress() as shown:
        report = service.train(
            get_engine(), as_of or yesterday(), horizon_days, shown.reporter(_labels())
        )
    _print_report(report, fmt)
    if fmt == "table":
        if report["version"] is None:
            console.print(
                _("Not kept: the model did not beat every baseline on ROC AUC and Brier score.")
            )
        else:
            console.print(_("Kept as model version {version}.", version=report["version"]))


@churn_app.command()
def score(
    horizon_days: Horizon = 90,
    as_of: AsOf = None,
    fmt: Format = "table",
    top: Annotated[int, typer.Option("--top", help="Rows shown in the table.")] = 20,
) -> None:
    """Churn probability of every customer with the kept model, riskiest first."""
    _check(horizon_days, fmt)
    kept = service.require_model(horizon_days)
    with progress() as shown:
        scores = service.score(get_engine(), as_of or yesterday(), kept, shown.reporter(_labels()))
    scores.sort(key=lambda s: -s.probability)
    if fmt == "json":
        out = [
            {
                "account_id": s.account_id,
                "day": s.day.isoformat(),
                "probability": s.probability,
                "reasons": [r.sentence() for r in s.reasons],
            }
            for s in scores
        ]
        typer.echo(json.dumps(out, ensure_ascii=False, indent=1))
        return
    table = Table(_("Account"), _("Churn probability"), _("Reasons"))
    for s in scores[:top]:
        table.add_row(
            str(s.account_id), percent(s.probability), "; ".join(r.sentence() for r in s.reasons)
        )
    console.print(table)


@churn_app.command()
def explain(
    account: Annotated[str, typer.Argument(help="Account id or exact name.")],
    horizon_days: Horizon = 90,
    as_of: AsOf = None,
    fmt: Format = "table",
) -> None:
    """One account's churn probability and what raises or lowers it."""
    _check(horizon_days, fmt)
    kept = service.require_model(horizon_days)
    result = service.explain(get_engine(), _account_id(account), as_of or yesterday(), kept)
    if fmt == "json":
        typer.echo(json.dumps(result, ensure_ascii=False, indent=1))
        return
    console.print(
        _(
            "Account {id}: churn probability {p} within {days} days (model version {v}).",
            id=result["account_id"],
            p=percent(result["probability"]),
            days=result["horizon_days"],
            v=result["model_version"],
        )
    )
    table = Table(_("Reason"), _("Effect on the probability"))
    for r in result["reasons"][:8]:
        table.add_row(r["sentence"], _signed_points(r["contribution"]))
    console.print(table)


@churn_app.command()
def drift(horizon_days: Horizon = 90, as_of: AsOf = None, fmt: Format = "table") -> None:
    """Feature distributions of recent scoring days against training (PSI), and calibration
    on days scored after training whose horizon has ended; stored for the Health page."""
    _check(horizon_days, fmt)
    kept = service.require_model(horizon_days)
    report = service.drift(get_engine(), as_of or yesterday(), kept)
    service.store_drift(kept, report)
    if fmt == "json":
        typer.echo(json.dumps(report, ensure_ascii=False, indent=1))
        return
    table = Table(_("Feature"), "PSI")
    for f in report["features"][:10]:
        table.add_row(f["feature"], "—" if f["psi"] is None else number(f["psi"], 3))
    console.print(table)
    if report["drifted"]:
        console.print(_("Drifted (PSI ≥ 0.25): {names}", names=", ".join(report["drifted"])))
    else:
        console.print(_("No feature has drifted (PSI ≥ 0.25)."))
    cal = report["calibration_since_training"]
    if cal is None:
        console.print(_("No day scored after training has a complete horizon yet."))
    else:
        console.print(
            _(
                "Since training: Brier {now} (backtest {then}), ROC AUC {auc}.",
                now=number(cal["brier"], 4),
                then=number(report["training_brier"], 4),
                auc=number(cal["roc_auc"], 3) if cal["roc_auc"] is not None else "—",
            )
        )


def _account_id(account: str) -> int:
    with session_scope() as session:
        if account.isdigit() and session.get(Account, int(account)) is not None:
            return int(account)
        found = session.scalars(select(Account.id).where(Account.name == account)).all()
    if len(found) == 1:
        return found[0]
    raise BansoError(_("No account {account!r} (give its id or exact name).", account=account))


def _signed_points(value: float) -> str:
    points = value * 100
    return ("+" if points > 0 else "") + number(points, 1) + " pt"


def _print_report(report: dict[str, Any], fmt: str) -> None:
    if fmt == "json":
        typer.echo(json.dumps(report, ensure_ascii=False, indent=1))
        return
    table = Table(_("Ranking"), "ROC AUC", "PR AUC", "Brier", _("Top-decile lift"))
    names = {
        bt.MODEL: _("The model (boosting and additive logistic, stacked)"),
        "health_score": _("Health score"),
        "events_per_active_user_28d": _("Events per active user, 28 days"),
        "logistic_regression": _("Logistic regression"),
    }
    rows = [(bt.MODEL, report)] + list(report["baselines"].items())
    for key, f in rows:
        table.add_row(
            names[key],
            _fig(f["roc_auc"], 3),
            _fig(f["pr_auc"], 3),
            _fig(f["brier"], 4),
            _fig(f["top_decile_lift"], 2),
        )
    figures = {
        "as_of": report["as_of"],
        "days": report["horizon_days"],
        "folds": len(report["folds"]),
        "rows": number(report["rows"]),
        "positives": number(report["positives"]),
    }
    if report["target"] == "contracted":
        console.print(
            _(
                "Backtest of contraction to {as_of}, {days}-day horizon: {folds} folds, {rows} "
                "test rows, {positives} contracted.",
                **figures,
            )
        )
    else:
        console.print(
            _(
                "Backtest to {as_of}, {days}-day horizon: {folds} folds, {rows} test rows, "
                "{positives} churned.",
                **figures,
            )
        )
    console.print(table)


def _fig(value: float | None, digits: int) -> str:
    return "—" if value is None else number(value, digits)
