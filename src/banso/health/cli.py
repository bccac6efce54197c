"""``banso health``: check-config, score, explain, override, pulse."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import select

from banso.accounts.models import Account
from banso.dates import DayOption, today, yesterday
from banso.db import session_scope
from banso.errors import BansoError
from banso.health import service
from banso.health.measures import measure_label
from banso.i18n import _, ngettext, number, percent
from banso.labels import label
from banso.progress import progress

health_app = typer.Typer(
    help="Health scores: scorecards, daily scores, explanations, overrides.",
    no_args_is_help=True,
)
console = Console()


def _account_id(account: str) -> int:
    with session_scope() as session:
        if account.isdigit() and session.get(Account, int(account)) is not None:
            return int(account)
        found = session.scalars(select(Account.id).where(Account.name == account)).all()
    if len(found) == 1:
        return found[0]
    raise BansoError(_("No account {account!r} (give its id or exact name).", account=account))


@health_app.command("check-config")
def check_config() -> None:
    """Validate the scorecard YAML files; print each problem as FILE:LINE: FIELD: REASON."""
    cards = service.scorecards()
    for card in cards:
        typer.echo(
            _(
                "{name}: {groups} groups, {measures} measures — OK",
                name=card.name,
                groups=len(card.groups),
                measures=len(card.measure_names),
            )
        )


@health_app.command()
def score(
    as_of: Annotated[
        date | None,
        typer.Option(
            "--as-of",
            help="Day to score (YYYY-MM-DD); default yesterday.",
            parser=DayOption("--as-of"),
        ),
    ] = None,
    start: Annotated[
        date | None,
        typer.Option("--from", help="First day of a range to score.", parser=DayOption("--from")),
    ] = None,
    end: Annotated[
        date | None,
        typer.Option("--to", help="Last day of a range to score.", parser=DayOption("--to")),
    ] = None,
    backfill: Annotated[
        bool, typer.Option("--backfill", help="Score every day of the event history.")
    ] = False,
) -> None:
    """Compute daily health snapshots (overall, per group, per measure, with raw values)."""
    days = _days(as_of, start, end, backfill)
    with session_scope() as session, progress() as shown:
        rows = service.score_days(session, days, shown.counter(_("Scoring days"), len(days)))
    typer.echo(
        _(
            "Scored {rows} over {days} ({first} to {last}).",
            rows=ngettext("{n} account-day", "{n} account-days", rows),
            days=ngettext("{n} day", "{n} days", len(days)),
            first=days[0],
            last=days[-1],
        )
    )
    for warning in service.usage_warnings(days):
        typer.echo(warning, err=True)


def _days(as_of: date | None, start: date | None, end: date | None, backfill: bool) -> list[date]:
    if backfill:
        days = service.event_history_days()
        if not days:
            raise BansoError(_("The event store is empty: there is no history to backfill."))
        return days
    if start or end:
        first, last = start, end
        if first is None or last is None:
            raise BansoError(_("Give both --from and --to."))
        if first > last:
            raise BansoError(_("--from {start} is after --to {end}.", start=first, end=last))
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return [as_of or yesterday()]


@health_app.command()
def explain(
    account: Annotated[str, typer.Argument(help="Account id or exact name.")],
    start: Annotated[
        date | None,
        typer.Option(
            "--from", help="First day (default: first scored).", parser=DayOption("--from")
        ),
    ] = None,
    end: Annotated[
        date | None,
        typer.Option("--to", help="Last day (default: last scored).", parser=DayOption("--to")),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="text or json.")] = "text",
) -> None:
    """Say which measures moved an account's score between two days, and by how much."""
    e = service.explain(_account_id(account), start, end)
    if fmt == "json":
        typer.echo(json.dumps(_explanation_json(e), ensure_ascii=False, indent=1))
        return
    typer.echo(
        _(
            "Account {account}: score {a} on {d0} -> {b} on {d1}.",
            account=e.account_id,
            a=_fmt(e.score_from),
            d0=e.day_from,
            b=_fmt(e.score_to),
            d1=e.day_to,
        )
    )
    for c in e.changes:
        if abs(c.points) < 0.05:
            continue
        typer.echo(
            _(
                "  {measure}: {r0} -> {r1} (score {s0} -> {s1}): {points:+.1f} points",
                measure=c.measure,
                r0=_fmt(c.raw_from),
                r1=_fmt(c.raw_to),
                s0=_fmt(c.score_from),
                s1=_fmt(c.score_to),
                points=c.points,
            )
        )
    if e.renormalised:
        typer.echo(
            _(
                "  No data on one of the days (weights re-normalised): {names}",
                names=", ".join(e.renormalised),
            )
        )


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}" if value != int(value) else str(int(value))


def _explanation_json(e: service.Explanation) -> dict[str, object]:
    return {
        "account_id": e.account_id,
        "from": e.day_from.isoformat(),
        "to": e.day_to.isoformat(),
        "score_from": e.score_from,
        "score_to": e.score_to,
        "changes": [c.__dict__ for c in e.changes],
        "renormalised": e.renormalised,
    }


@health_app.command()
def override(
    account: Annotated[str, typer.Argument(help="Account id or exact name.")],
    score_value: Annotated[float, typer.Option("--score", help="Score 0-100 to use instead.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (shown beside the score).")],
    expires: Annotated[
        date,
        typer.Option(
            "--expires", help="First day it no longer applies.", parser=DayOption("--expires")
        ),
    ],
    start: Annotated[
        date | None,
        typer.Option(
            "--from", help="First day it applies (default today).", parser=DayOption("--from")
        ),
    ] = None,
) -> None:
    """Override an account's score with a reason until an expiry date (admins)."""
    starts_on = start or today()
    with session_scope() as session:
        o = service.set_override(
            session,
            _account_id(account),
            score_value,
            reason,
            expires,
            starts_on,
        )
    typer.echo(
        _(
            "Override {score} for account {account} from {start} until {end}.",
            score=o.score,
            account=o.account_id,
            start=o.starts_on,
            end=o.expires_on,
        )
    )


@health_app.command()
def pulse(
    account: Annotated[str, typer.Argument(help="Account id or exact name.")],
    rating: Annotated[int, typer.Option("--rating", help="The CSM's rating, 1 (bad) to 5 (good).")],
    expires: Annotated[
        date,
        typer.Option(
            "--expires", help="First day it no longer applies.", parser=DayOption("--expires")
        ),
    ],
    comment: Annotated[str | None, typer.Option("--comment", help="Why.")] = None,
) -> None:
    """Record the CSM's pulse (1-5) for an account, valid until an expiry date."""
    rated_on = today()
    with session_scope() as session:
        p = service.set_pulse(
            session,
            _account_id(account),
            rating,
            comment,
            rated_on,
            expires,
        )
    typer.echo(
        _(
            "Pulse {rating} for account {account} until {end}.",
            rating=p.rating,
            account=p.account_id,
            end=p.expires_on,
        )
    )


def _validation_inputs(start: date | None, end: date | None, horizon: int):  # type: ignore[no-untyped-def]
    from banso.db import get_engine
    from banso.health import validation, validation_report

    _check_horizon(horizon)
    cards = service.scorecards()
    obs = validation.observations(get_engine(), start, end, horizon)
    return validation, obs, validation_report.report_scorecard(cards)


def _check_horizon(horizon: int) -> None:
    if horizon < 1:
        raise BansoError(_("--horizon-days must be at least 1."))


# options shared by validate and fit
WindowStart = Annotated[
    date | None,
    typer.Option("--from", help="First scored day to use.", parser=DayOption("--from")),
]
WindowEnd = Annotated[
    date | None, typer.Option("--to", help="Last scored day to use.", parser=DayOption("--to"))
]
Horizon = Annotated[
    int, typer.Option("--horizon-days", help="Days of outcome after each scored day.")
]
ReportFormat = Annotated[str, typer.Option("--format", help="table or json.")]


@health_app.command()
def validate(
    start: WindowStart = None,
    end: WindowEnd = None,
    horizon_days: Horizon = 90,
    fmt: ReportFormat = "table",
) -> None:
    """Check the score against what happened next: rates by band, MRR shares, AUC, lift.
    The result is also stored for the Health page (BANSO_HOME/health/validation/latest.json)."""
    from banso.db import get_engine
    from banso.health import validation_report

    _check_horizon(horizon_days)
    report = validation_report.compute(
        get_engine(),
        service.scorecards(),
        start,
        end,
        horizon_days,
    ).report
    if fmt == "json":
        typer.echo(json.dumps(report, ensure_ascii=False, indent=1))
        return
    _print_validation(report, horizon_days)


def _print_validation(report: dict, horizon: int) -> None:  # type: ignore[type-arg]
    from rich.table import Table

    console.print(
        _(
            "{observations} of {accounts}, {first} to {last}; horizon {days}.",
            observations=ngettext(
                "{n} scored account-day", "{n} scored account-days", report["observations"]
            ),
            accounts=ngettext("{n} account", "{n} accounts", report["accounts"]),
            first=report["first_day"],
            last=report["last_day"],
            days=ngettext("{n} day", "{n} days", horizon),
        )
    )
    console.print(
        _(
            "ROC AUC {auc}   top-decile lift {lift}   red/green churn ratio {ratio}",
            auc=report["roc_auc"],
            lift=report["top_decile_lift"],
            ratio=report["red_to_green_churn_ratio"],
        )
    )
    table = Table(
        _("band"),
        _("accounts"),
        _("churn"),
        _("renewal"),
        _("contraction"),
        _("expansion"),
        _("share of lost MRR"),
        _("share of expansion MRR"),
    )
    for b in report["bands"]:
        table.add_row(
            label(b["band"], "health_band"),
            number(b["accounts"]),
            *(
                _pct(b[k])
                for k in (
                    "churn_rate",
                    "renewal_rate",
                    "contraction_rate",
                    "expansion_rate",
                    "lost_mrr_share",
                    "expansion_mrr_share",
                )
            ),
        )
    console.print(table)
    measures = Table(_("measure"), _("AUC"))
    for m in sorted(report["measures"], key=lambda m: -(m["auc"] or 0)):
        measures.add_row(m["measure"], "—" if m["auc"] is None else f"{m['auc']:.3f}")
    console.print(measures)


def _pct(value: float | None) -> str:
    return percent(value)


@health_app.command()
def fit(
    start: WindowStart = None,
    end: WindowEnd = None,
    horizon_days: Horizon = 90,
    fmt: ReportFormat = "table",
    propose: Annotated[
        bool,
        typer.Option(
            "--propose/--no-propose",
            help="Also look for measures the card lacks that help on held-out days.",
        ),
    ] = True,
    propose_every_days: Annotated[
        int,
        typer.Option(
            "--propose-every-days",
            help="Read the measures the card lacks on every this many scored days.",
        ),
    ] = 28,
) -> None:
    """Suggest weights fitted on history (earlier 70% of days) and compare AUCs on the rest;
    propose measures the card lacks when they help on the held-out days."""
    from banso.db import get_engine

    if propose_every_days < 1:
        raise BansoError(_("--propose-every-days must be at least 1."))
    validation, obs, card = _validation_inputs(start, end, horizon_days)
    result = validation.fit(obs, card)
    if propose:
        days = validation.proposal_days(obs, propose_every_days)
        with progress() as shown:
            raw = validation.raw_values(
                get_engine(),
                days,
                shown.counter(_("Measures the card lacks, by day"), len(days)),
            )
        result["proposed_measures"] = validation.propose(obs, card, raw)
    if fmt == "json":
        typer.echo(json.dumps(result, ensure_ascii=False, indent=1))
        return
    from rich.table import Table

    console.print(
        _(
            "Trained on {a} to {b}; tested on {c} to {d}.",
            a=result["train_days"][0],
            b=result["train_days"][1],
            c=result["test_days"][0],
            d=result["test_days"][1],
        )
    )
    console.print(
        _(
            "Held-out ROC AUC: current {cur}, suggested {sug}.",
            cur=result["current_auc_test"],
            sug=result["suggested_auc_test"],
        )
    )
    table = Table(_("measure"), _("current weight"), _("suggested weight"))
    for w in result["weights"]:
        table.add_row(w["measure"], f"{w['current_weight']:.3f}", f"{w['suggested_weight']:.3f}")
    console.print(table)
    if propose:
        _print_proposals(result["proposed_measures"])


def _print_proposals(found: dict) -> None:  # type: ignore[type-arg]
    from rich.table import Table

    if not found["proposals"]:
        console.print(
            _(
                "No measure the card lacks helped on the training days ({days} days, "
                "{rows} account-days).",
                days=found["days"],
                rows=found["rows"],
            )
        )
        return
    console.print(
        _(
            "Measures the card lacks, chosen on the training days ({days} days, {rows} "
            "account-days). Held-out ROC AUC of the card's measures {base}, with these {new}.",
            days=found["days"],
            rows=found["rows"],
            base=found["base_auc_test"],
            new=found["proposed_auc_test"],
        )
    )
    if (found["proposed_auc_test"] or 0) <= (found["base_auc_test"] or 0):
        console.print(_("They did not help on the held-out days: keep the card as it is."))
    table = Table(_("measure"), _("scoring (linear)"), _("suggested weight"), _("AUC gain"))
    for p in found["proposals"]:
        table.add_row(
            measure_label(p["measure"]) + f" ({p['measure']})",
            str(p["linear"]),
            "" if p["suggested_weight"] is None else f"{p['suggested_weight']:.3f}",
            f"+{p['selection_auc_gain']:.3f}",
        )
    console.print(table)
