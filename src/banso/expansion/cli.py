"""``banso opportunities …``: open, list, update, close expansion opportunities; the report of
won opportunities against spec §3's expansion MRR."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from banso.analytics.engines import resolve_engine
from banso.dates import DayOption, MonthOption, today
from banso.db import session_scope
from banso.errors import BansoError
from banso.expansion import service
from banso.i18n import _, number, percent
from banso.labels import label

opportunities_app = typer.Typer(
    help="Expansion opportunities (upsell, cross-sell, seats): add, list, update, close, report."
)
console = Console()


def _format(value: str, allowed: tuple[str, ...] = ("table", "json")) -> str:
    if value not in allowed:
        raise BansoError(
            _("--format must be one of {choices}, not {value!r}.", choices=", ".join(allowed),
              value=value)
        )  # fmt: skip
    return value


@opportunities_app.command("add")
def add(
    account_id: Annotated[int, typer.Argument(help="Account id.")],
    kind: Annotated[str, typer.Option("--kind", help="upsell, cross_sell or seats.")],
    expected_mrr: Annotated[
        int, typer.Option("--expected-mrr", help="Minor units of the reporting currency.")
    ] = 0,
    stage: Annotated[str | None, typer.Option("--stage", help="An open stage.")] = None,
    close_date: Annotated[
        date | None,
        typer.Option("--close-date", help="Expected close day.", parser=DayOption("--close-date")),
    ] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Team member's email.")] = None,
    notes: Annotated[str | None, typer.Option("--notes")] = None,
) -> None:
    """Open an opportunity by hand (owner: the account's owner unless given)."""
    with session_scope() as session:
        o = service.add(
            session, account_id, kind, expected_mrr=expected_mrr, stage=stage,
            close_date=close_date, owner=owner, notes=notes,
        )  # fmt: skip
        typer.echo(_("Opportunity {id} opened.", id=o.id))


@opportunities_app.command("list")
def list_command(
    status: Annotated[str | None, typer.Option("--status", help="open (default) or closed.")] = (
        "open"
    ),
    kind: Annotated[str | None, typer.Option("--kind")] = None,
    stage: Annotated[str | None, typer.Option("--stage")] = None,
    account: Annotated[int | None, typer.Option("--account", help="Account id.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Opportunities by close date."""
    _format(fmt)
    with session_scope() as session:
        rows = service.list_opportunities(
            session, status=status, kind=kind, stage=stage, account_id=account
        )
    if fmt == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        typer.echo(_("No opportunities."))
        return
    table = Table()
    for column in (_("id"), _("account"), _("kind"), _("expected MRR"), _("stage"),
                   _("close date"), _("owner"), _("source")):  # fmt: skip
        table.add_column(column)
    for r in rows:
        table.add_row(
            str(r["id"]), r["account_name"], label(r["kind"], "opportunity_kind"),
            number(r["expected_mrr"]), label(r["stage"], "opportunity_stage"),
            r["close_date"] or "—", r["owner"] or "—", r["source"],
        )  # fmt: skip
    console.print(table)


@opportunities_app.command("update")
def update(
    opportunity_id: Annotated[int, typer.Argument(help="Opportunity id.")],
    stage: Annotated[str | None, typer.Option("--stage")] = None,
    expected_mrr: Annotated[int | None, typer.Option("--expected-mrr")] = None,
    close_date: Annotated[
        date | None, typer.Option("--close-date", parser=DayOption("--close-date"))
    ] = None,
    owner: Annotated[str | None, typer.Option("--owner")] = None,
    kind: Annotated[str | None, typer.Option("--kind")] = None,
    notes: Annotated[str | None, typer.Option("--notes")] = None,
) -> None:
    """Change an open opportunity's stage, expected MRR, close date, owner, kind or notes."""
    with session_scope() as session:
        service.update(
            session, opportunity_id, stage=stage, expected_mrr=expected_mrr,
            close_date=close_date, owner=owner, kind=kind, notes=notes,
        )  # fmt: skip
    typer.echo(_("Opportunity {id} updated.", id=opportunity_id))


@opportunities_app.command("close")
def close(
    opportunity_id: Annotated[int, typer.Argument(help="Opportunity id.")],
    outcome: Annotated[str, typer.Option("--outcome", help="won or lost.")],
    on: Annotated[
        date | None,
        typer.Option("--on", help="Close day (default today).", parser=DayOption("--on")),
    ] = None,
    expected_mrr: Annotated[int | None, typer.Option("--expected-mrr")] = None,
    notes: Annotated[str | None, typer.Option("--notes")] = None,
) -> None:
    """Close an opportunity as won or lost."""
    with session_scope() as session:
        service.close(
            session, opportunity_id, outcome, on or today(), expected_mrr=expected_mrr,
            notes=notes,
        )  # fmt: skip
    typer.echo(
        _("Opportunity {id} closed: {outcome}.", id=opportunity_id,
          outcome=label(outcome, "opportunity_stage"))
    )  # fmt: skip


@opportunities_app.command("report")
def report(
    start: Annotated[
        str | None,
        typer.Option("--from", help="First month (YYYY-MM).", parser=MonthOption("--from")),
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="Last month (YYYY-MM).", parser=MonthOption("--to"))
    ] = None,
    engine: Annotated[str | None, typer.Option("--engine", show_default=False)] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    by: Annotated[
        str | None,
        typer.Option("--by", help="Split by the account's plan, segment, owner or industry."),
    ] = None,
) -> None:
    """Per month: won opportunities, their expected MRR against the expansion MRR (spec §3) of
    their accounts that month, and the upsell and cross-sell rates."""
    _format(fmt)
    with session_scope() as session:
        rows = [
            service.rounded(r)
            for r in service.report(
                session, start=start, end=end, engine=resolve_engine(engine), by=by
            )
        ]
    if fmt == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table()
    if by is not None:
        table.add_column(by)
    for column in (_("month"), _("won"), _("expected MRR"), _("actual expansion MRR"),
                   _("expansion MRR (all)"), _("upsell rate"), _("cross-sell rate")):  # fmt: skip
        table.add_column(column)
    for r in rows:
        table.add_row(
            *([str(r[by] if r[by] is not None else "—")] if by is not None else []),
            r["month"], number(r["won"]), number(r["won_expected_mrr"]),
            number(r["won_actual_expansion_mrr"]), number(r["expansion_mrr"]),
            "—" if r["upsell_rate"] is None else percent(r["upsell_rate"]),
            "—" if r["cross_sell_rate"] is None else percent(r["cross_sell_rate"]),
        )  # fmt: skip
    console.print(table)
