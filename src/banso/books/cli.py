"""``banso team books|assign|capacity|check-config``: parse, call the books services, print."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from banso.books.assignment import apply_proposal
from banso.books.config import load_team_config, team_config_path
from banso.books.overview import MAX_HIRES, Hires, TeamView, team_view
from banso.books.service import money
from banso.dates import today
from banso.db import session_scope
from banso.errors import BansoError, check_format
from banso.i18n import _, ngettext, pgettext
from banso.labels import label

team_app = typer.Typer(
    help="The CS team: books of business, the assignment proposal and capacity.",
    no_args_is_help=True,
)

FORMATS = ("table", "json")
_FILE = typer.Option("--file", help="The team file (default: team.yaml in the config).")
_HIRES = typer.Option("--hires", help="What-if: this many new CSMs.", min=0, max=MAX_HIRES)
_TITLE = typer.Option("--title", help="The hires' job title.")
_TEAM = typer.Option("--team", help="The hires' team (default: the busiest they can join).")


@team_app.command("check-config")
def check_config(file: Annotated[Path | None, _FILE] = None) -> None:
    """Validate team.yaml: every problem as FILE:LINE: FIELD: reason."""
    path = file or team_config_path()
    config = load_team_config(path).model
    typer.echo(
        _(
            "{path}: {titles} titles, {teams} teams.",
            path=path,
            titles=len(config.titles),
            teams=len(config.teams),
        )  # fmt: skip
    )


@team_app.command("books")
def books(
    output: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    file: Annotated[Path | None, _FILE] = None,
) -> None:
    """Each CSM's book: accounts and MRR by touch model against the title's target."""
    check_format(output, FORMATS)
    view = _view(file, Hires())
    if output == "json":
        typer.echo(json.dumps(view.as_dict()["members"], ensure_ascii=False, indent=1))
        return
    _print_books(view, _console())


@team_app.command("assign")
def assign(
    propose: Annotated[bool, typer.Option("--propose", help="Show the proposal.")] = False,
    apply: Annotated[bool, typer.Option("--apply", help="Apply the proposal (audited).")] = False,
    hires: Annotated[int, _HIRES] = 0,
    title: Annotated[str | None, _TITLE] = None,
    team: Annotated[str | None, _TEAM] = None,
    output: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    file: Annotated[Path | None, _FILE] = None,
) -> None:
    """Propose owners that respect the title bands, balance books and move the fewest accounts;
    --apply makes them the owners from today."""
    check_format(output, FORMATS)
    if propose == apply:
        raise BansoError(_("Give exactly one of --propose and --apply."))
    if apply and hires:
        raise BansoError(
            _("A proposal with what-if hires cannot be applied; add the members first.")
        )
    config = load_team_config(file).model
    with session_scope() as session:
        view = team_view(session, config, today(), Hires(hires, title, team))
        if apply:
            apply_proposal(session, view.proposal)
    if output == "json":
        typer.echo(json.dumps(view.as_dict()["proposal"], ensure_ascii=False, indent=1))
    else:
        _print_proposal(view, _console())
    summary = ngettext(
        "{n} account moved", "{n} accounts moved", view.proposal.moved, n=view.proposal.moved
    )
    assigned = ngettext(
        "{n} unowned account assigned",
        "{n} unowned accounts assigned",
        view.proposal.assigned,
        n=view.proposal.assigned,
    )
    line = f"{summary}, {assigned}."
    if apply:
        line = _("Applied: {summary}", summary=line)
    typer.echo(line, err=output == "json")


@team_app.command("capacity")
def capacity_command(
    hires: Annotated[int, _HIRES] = 0,
    title: Annotated[str | None, _TITLE] = None,
    team: Annotated[str | None, _TEAM] = None,
    output: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    file: Annotated[Path | None, _FILE] = None,
) -> None:
    """Accounts one CSM can serve per touch model (from the team's CTAs and activities), the
    load now, and with what-if hires."""
    check_format(output, FORMATS)
    now = _view(file, Hires())
    after = _view(file, Hires(hires, title, team)) if hires else None
    if output == "json":
        data = {"now": [c.as_dict() for c in now.capacity]}
        if after is not None:
            data["with_hires"] = [c.as_dict() for c in after.capacity]
            data["hires"] = vars(after.hires)  # type: ignore[assignment]
        typer.echo(json.dumps(data, ensure_ascii=False, indent=1))
        return
    _print_capacity(now, after, _console())


def _view(file: Path | None, hires: Hires) -> TeamView:
    config = load_team_config(file).model
    with session_scope() as session:
        return team_view(session, config, today(), hires)


def _print_books(view: TeamView, console: Console) -> None:
    table = Table(title=_("Books of business on {day}", day=view.world.day.isoformat()))
    for heading in (_("CSM"), _("title"), _("team"), _("touch model"), _("accounts"),
                    _("target"), _("MRR"), _("outside band")):  # fmt: skip
        table.add_column(heading)
    for b in view.books:
        for touch, book in sorted(b.books.items()) or [("", None)]:
            table.add_row(
                b.member.name,
                label(b.member.title, "job_title") if b.member.title else "—",
                b.member.team or "—",
                label(touch, "touch_model") if touch else "—",
                str(book.accounts) if book else "0",
                str(book.target) if book else "—",
                f"{money(book.mrr):,}" if book else "0",
                str(b.band_violations),
            )
    console.print(table)


def _print_proposal(view: TeamView, console: Console) -> None:
    names = {m.id: m.name for m in view.world.members}
    table = Table(title=_("Proposed reassignment"))
    for heading in (_("account"), _("touch model"), _("MRR"), pgettext("owner change", "from"),
                    pgettext("owner change", "to"), _("reason")):  # fmt: skip
        table.add_column(heading)
    for m in view.proposal.changes:
        table.add_row(
            m.account,
            label(m.touch_model, "touch_model"),
            f"{money(m.mrr):,}",
            names.get(m.from_id, "—") if m.from_id is not None else "—",
            names.get(m.to_id, str(m.to_id)),
            label(m.reason, "assignment_reason"),
        )
    console.print(table)
    if view.proposal.unplaced:
        console.print(
            _(
                "{n} accounts have no member who may own them (no touch model, or no title whose "
                "band admits their MRR).",
                n=len(view.proposal.unplaced),
            )  # fmt: skip
        )


def _print_capacity(now: TeamView, after: TeamView | None, console: Console) -> None:
    table = Table(title=_("Capacity on {day}", day=now.world.day.isoformat()))
    headings = [_("touch model"), _("accounts"), _("CSMs"), _("touches/account/month"),
                _("touches/CSM/month"), _("servable per CSM"), _("accounts per CSM"),
                _("utilisation"), _("headroom")]  # fmt: skip
    if after is not None:
        headings += [_("CSMs with hires"), _("utilisation with hires")]
    for heading in headings:
        table.add_column(heading)
    later = {c.touch_model: c for c in after.capacity} if after is not None else {}
    for c in now.capacity:
        d = c.as_dict()
        row = [label(c.touch_model, "touch_model"), str(c.accounts), str(c.csms),
               d["touches_per_account_month"] or "—", d["touches_per_csm_month"] or "—",
               str(c.servable) if c.servable is not None else "—",
               d["accounts_per_csm"] or "—", _percent(d["utilisation"]),
               str(c.headroom) if c.headroom is not None else "—"]  # fmt: skip
        if after is not None:
            a = later[c.touch_model].as_dict()
            row += [str(a["csms"]), _percent(a["utilisation"])]
        table.add_row(*row)
    console.print(table)
    if after is not None:
        console.print(
            _(
                "With {n} {title} hires in {team}.",
                n=after.hires.count,
                title=label(after.hires.title or "", "job_title"),
                team=after.hires.team,
            )  # fmt: skip
        )


def _percent(value: str | None) -> str:
    return "—" if value is None else f"{float(value):.1%}"


def _console() -> Console:
    return Console(width=max(140, Console().width))
