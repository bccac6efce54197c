"""``banso team scorecard`` and ``banso team qualitative``: parse, call the evaluation's
services, print."""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.db import session_scope
from banso.errors import BansoError, check_format
from banso.evaluation.periods import parse_period
from banso.evaluation.qualitative import set_qualitative
from banso.evaluation.render import report_dict
from banso.evaluation.scorecard import Scorecard, scorecards
from banso.i18n import _, number, percent
from banso.labels import label
from banso.revenue.months import to_date
from banso.revenue.render import print_wide
from banso.team.models import TeamMember

FORMATS = ("table", "json")


def add_commands(team_app: typer.Typer) -> None:
    """Put ``scorecard`` and ``qualitative`` into the ``banso team`` group."""
    team_app.command("scorecard")(scorecard_command)
    team_app.command("qualitative")(qualitative_command)


def scorecard_command(
    period: Annotated[
        str,
        typer.Option(
            "--period",
            help="FY2025Q1, FY2025 or 2025-03 (fiscal years start in BANSO_FISCAL_YEAR_START).",
        ),
    ],
    output: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    member: Annotated[
        str | None, typer.Option("--member", help="Only this team member (id or email).")
    ] = None,
) -> None:
    """Each CSM's book for the period against the targets of evaluation.yaml, and the total."""
    check_format(output, FORMATS)
    chosen = parse_period(period)
    with session_scope() as session:
        ids = None if member is None else [_member_id(session, member)]
        report = scorecards(session, chosen, member_ids=ids)
    if output == "json":
        typer.echo(json.dumps(report_dict(report), ensure_ascii=False, indent=1))
        return
    shown = chosen.label if report.complete else to_date(chosen.label)
    table = Table(title=_("Scorecards {period}", period=shown))
    for heading in (_("CSM"), _("Team"), _("Job title"), _("Accounts")):
        table.add_column(heading, no_wrap=True)
    for axis in ("churn", "expansion", "strategic", "qualitative"):
        table.add_column(label(axis, "evaluation_axis"), justify="right")
    table.add_column(_("Total"), justify="right", no_wrap=True)
    for card in report.cards:
        table.add_row(
            card.name,
            card.team or "—",
            label(card.job_title, "job_title") if card.job_title else "—",
            number(card.accounts),
            *_axis_cells(card),
            _percent(card.total),
        )
    print_wide(Console(), table)


def _axis_cells(card: Scorecard) -> list[str]:
    """Per axis: ``weight % · attainment``."""
    if not card.axes:
        return ["—"] * 4
    return [f"{number(float(a.weight))}% · {_percent(a.attainment)}" for a in card.axes]


def _percent(value: Fraction | None) -> str:
    return percent(None if value is None else float(value), 1)


def qualitative_command(
    member: Annotated[str, typer.Argument(help="The CSM: team member id or email.")],
    period: Annotated[str, typer.Option("--period", help="FY2025Q1, FY2025 or 2025-03.")],
    score: Annotated[int, typer.Option("--score", help="0 to 100.")],
    note: Annotated[str | None, typer.Option("--note", help="Why (kept with the score).")] = None,
) -> None:
    """Enter the manager's qualitative score of a CSM for a period (audited)."""
    chosen = parse_period(period)
    with session_scope() as session:
        member_id = _member_id(session, member)
        set_qualitative(session, member_id, chosen, score, note)
    typer.echo(_("Qualitative score {score} saved for {period}.", score=score, period=chosen.label))


def _member_id(session: Session, member: str) -> int:
    if member.isdigit():
        found = session.get(TeamMember, int(member))
    else:
        found = session.scalar(select(TeamMember).where(TeamMember.email == member.strip().lower()))
    if found is None:
        raise BansoError(_("There is no team member {member}.", member=member))
    return found.id
