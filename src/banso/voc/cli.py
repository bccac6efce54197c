"""``banso surveys check-config|send|remind|report``: parse, call :mod:`banso.voc`, print."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from banso import dates
from banso.audit import service as audit
from banso.dates import DayOption
from banso.db import session_scope
from banso.errors import BansoError, check_format
from banso.i18n import _, number
from banso.labels import label
from banso.retention.service import find_account
from banso.spreadsheet_cells import spreadsheet_row
from banso.voc import report, service
from banso.voc.config import load_surveys, surveys_path

surveys_app = typer.Typer(
    help="Surveys (surveys.yaml): send NPS, CSAT and CES invitations, remind, report.",
    no_args_is_help=True,
)
FORMATS = ("table", "json", "csv")


@surveys_app.command("check-config")
def check_config() -> None:
    """Check surveys.yaml (or the packaged default): every problem as FILE:LINE: FIELD: reason."""
    found = load_surveys()
    typer.echo(
        _(
            "{path}: surveys {names}; quiet period {days} days.",
            path=surveys_path(),
            names=", ".join(sorted(found.surveys)),
            days=found.quiet_days,
        )
    )


@surveys_app.command("send")
def send(
    survey: Annotated[str, typer.Option("--survey", help="A survey of surveys.yaml (nps, …).")],
    segment: Annotated[
        str | None, typer.Option("--segment", help="Every contact of the segment's accounts.")
    ] = None,
    account: Annotated[
        list[str] | None, typer.Option("--account", help="An account id or exact name; repeat.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count the audience; send nothing.")
    ] = False,
    day: Annotated[
        date | None, typer.Option("--day", parser=DayOption("--day"), help="Default: today.")
    ] = None,
) -> None:
    """Invite the contacts of a segment or of accounts; contacts in their quiet period,
    unsubscribed, bounced, without an address or gone are skipped (counted)."""
    if (segment is None) == (not account):
        raise BansoError(_("Give --segment or --account (not both)."))
    day = day or dates.today()
    with session_scope() as session:
        ids = (
            [find_account(session, a).id for a in account]
            if account
            else None
        )  # fmt: skip
        contacts = service.audience(session, account_ids=ids, segment=segment)
        outcomes = service.invite_many(
            session, survey=survey, contact_ids=contacts, origin="cli", day=day, dry_run=dry_run
        )
        counts = Counter("sent" if o.skipped is None else o.skipped for o in outcomes)
        if not dry_run:
            audit.record(
                session, "survey.send", survey, segment=segment, accounts=account or [],
                day=day.isoformat(), **counts,
            )  # fmt: skip
    parts = ", ".join(
        f"{label(k, 'survey_outcome')} {number(n)}" for k, n in sorted(counts.items())
    )
    message = (
        _("Audience of {survey}: {n} contacts ({parts}); nothing sent (dry run).",
          survey=survey, n=number(len(outcomes)), parts=parts or "—")
        if dry_run
        else _("Survey {survey}: {n} contacts ({parts}); invitations are in the outbox.",
               survey=survey, n=number(len(outcomes)), parts=parts or "—")
    )  # fmt: skip
    typer.echo(message)


@surveys_app.command("remind")
def remind(
    day: Annotated[
        date | None, typer.Option("--day", parser=DayOption("--day"), help="Default: today.")
    ] = None,
) -> None:
    """Queue the one reminder of each unanswered invitation that is due (also a `banso run`
    step)."""
    with session_scope() as session:
        n = service.send_reminders(session, day or dates.today())
    typer.echo(_("Survey reminders queued: {n}.", n=number(n)))


@surveys_app.command("report")
def report_command(
    survey_type: Annotated[str, typer.Option("--type", help="nps, csat or ces.")] = "nps",
    by: Annotated[
        str, typer.Option("--by", help="month, segment, touch, owner or plan.")
    ] = "month",
    output: Annotated[str, typer.Option("--format", help="table, json or csv.")] = "table",
    first: Annotated[
        date | None, typer.Option("--from", parser=DayOption("--from"), help="First answer day.")
    ] = None,
    last: Annotated[
        date | None, typer.Option("--to", parser=DayOption("--to"), help="Last answer day.")
    ] = None,
) -> None:
    """The score with its count and 95% interval by group, and the response rate."""
    check_format(output, FORMATS)
    with session_scope() as session:
        found = report.survey_report(session, survey_type, by, first=first, last=last)
    rows = [r.as_dict() for r in found.rows]
    total = found.total.as_dict()
    if output == "json":
        body = {"survey_type": survey_type, "by": by, "method": report.method_note(survey_type),
                "total": total, "rows": rows}  # fmt: skip
        typer.echo(json.dumps(body, ensure_ascii=False, indent=1))
        return
    if output == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(list(total))
        for row in [*rows, {**total, "key": "(all)"}]:
            writer.writerow(spreadsheet_row(list(row.values())))
        typer.echo(out.getvalue(), nl=False)
        return
    table = Table(title=report.method_note(survey_type))
    for header in (label(by, "survey_breakdown"), label(survey_type, "survey_type"),
                   _("95% interval"), _("Answers"), _("Sent"), _("Response rate")):  # fmt: skip
        table.add_column(header)
    for row in [*rows, {**total, "key": _("All")}]:
        table.add_row(
            str(row["key"]) or _("(none)"),
            _cell(row["score"]),
            f"{row['ci_low']} – {row['ci_high']}" if row["ci_low"] is not None else "–",
            number(row["count"]),  # type: ignore[arg-type]
            number(row["invited"]),  # type: ignore[arg-type]
            f"{row['response_rate']} %" if row["response_rate"] is not None else "–",
        )
    Console().print(table)


def _cell(value: object) -> str:
    return "–" if value is None else str(value)
