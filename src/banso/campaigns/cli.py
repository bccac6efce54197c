"""``banso campaigns list|create|preview|send|stats``: parse, call
:mod:`banso.campaigns.service`, print."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from banso import dates
from banso.campaigns import service, usage_report
from banso.dates import DayOption, MonthOption
from banso.db import session_scope
from banso.errors import BansoError, check_format
from banso.i18n import _, number
from banso.labels import label
from banso.messaging import outbox

campaigns_app = typer.Typer(
    help="Email campaigns to a segment: audience preview, sending, opens and clicks.",
    no_args_is_help=True,
)

FORMATS = ("table", "json")
FormatOption = Annotated[str, typer.Option("--format", help="table or json.")]
AsOfOption = Annotated[
    date | None,
    typer.Option(
        "--as-of", help="The day (default: today).", parser=DayOption("--as-of"), show_default=False
    ),
]


@campaigns_app.command("list")
def list_campaigns(output: FormatOption = "table") -> None:
    """Every campaign with its segment, schedule and next send date."""
    check_format(output, FORMATS)
    with session_scope() as session:
        rows = [service.as_dict(c) for c in service.campaigns(session)]
    if output == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    table = Table(title=_("Campaigns"))
    for header in ("ID", _("Campaign"), _("Segment"), _("Schedule"), _("Next send"), _("Tracking")):
        table.add_column(header)
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["name"],
            row["segment"],
            label(row["schedule"], "campaign_schedule"),
            row["next_send_on"] or "—",
            _("On") if row["tracking"] else _("Off"),
        )
    Console().print(table)


def _template(path: Path, option: str) -> tuple[str, str]:
    """``(subject, body)`` of a template file whose first line is ``Subject: …``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BansoError(
            _("{option}: cannot read {path}: {reason}", option=option, path=path, reason=exc)
        ) from exc
    first, _sep, rest = text.partition("\n")
    if not first.startswith("Subject:"):
        raise BansoError(_("{path}:1: the first line must be “Subject: …”", path=path))
    return first.removeprefix("Subject:").strip(), rest.lstrip("\n")


@campaigns_app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="A name no other campaign has.")],
    segment: Annotated[str, typer.Option("--segment", help="A segment of segments.yaml.")],
    template_ja: Annotated[
        Path | None,
        typer.Option(
            "--template-ja",
            help="Japanese template file: first line “Subject: …”, then the body (Jinja2).",
        ),
    ] = None,
    template_en: Annotated[
        Path | None, typer.Option("--template-en", help="English template file.")
    ] = None,
    survey: Annotated[
        str | None,
        typer.Option("--survey", help="Send this survey of surveys.yaml instead of a template."),
    ] = None,
    schedule: Annotated[str, typer.Option("--schedule", help="once, weekly or monthly.")] = "once",
    start: Annotated[
        str | None, typer.Option("--start", help="First send day (default today).")
    ] = None,
    touch: Annotated[
        str | None, typer.Option("--touch", help="Only accounts of this touch model.")
    ] = None,
    tier: Annotated[str | None, typer.Option("--tier", help="Only accounts of this tier.")] = None,
    stage: Annotated[
        str | None, typer.Option("--stage", help="Only accounts in this lifecycle stage.")
    ] = None,
    language: Annotated[
        str | None, typer.Option("--language", help="Only contacts of this language (ja, en).")
    ] = None,
    tracking: Annotated[
        bool, typer.Option("--tracking/--no-tracking", help="Open pixel and redirect links.")
    ] = True,
) -> None:
    """Create a campaign; it is sent by `banso campaigns send` or `banso run` on its day."""
    if survey is None and (template_ja is None or template_en is None):
        raise BansoError(_("Give --template-ja and --template-en, or --survey."))
    if survey is not None and (template_ja is not None or template_en is not None):
        raise BansoError(_("A survey campaign sends the survey's own email: give no templates."))
    subject_ja, body_ja = _template(template_ja, "--template-ja") if template_ja else ("", "")
    subject_en, body_en = _template(template_en, "--template-en") if template_en else ("", "")
    first = dates.parse_day_option(start, "--start")
    spec = service.CampaignInput(
        name=name,
        segment=segment,
        subject_en=subject_en,
        body_en=body_en,
        subject_ja=subject_ja,
        body_ja=body_ja,
        schedule=schedule,
        first_send_on=first,
        touch_model=touch,
        tier=tier,
        lifecycle_stage=stage,
        language=language,
        tracking=tracking,
        survey=survey,
    )
    with session_scope() as session:
        campaign = service.create(session, spec, dates.today(), actor="cli")
        typer.echo(
            _(
                "Campaign {id} “{name}” created; first send {day}.",
                id=campaign.id,
                name=campaign.name,
                day=campaign.next_send_on,
            )
        )


@campaigns_app.command("preview")
def preview(
    campaign_id: Annotated[int, typer.Argument(help="The campaign's id.")],
    as_of: AsOfOption = None,
    output: FormatOption = "table",
) -> None:
    """Who the campaign would write to on the day (default today), who is left out and why,
    and the email as the first recipient of each language would read it."""
    check_format(output, FORMATS)
    day = as_of or dates.today()
    with session_scope() as session:
        campaign = service.get(session, campaign_id)
        people = service.audience(session, campaign, day)
        samples = {
            lang: service.preview_email(
                campaign, lang, next((r for r in people.recipients if r.language == lang), None)
            )
            for lang in ("ja", "en")
        }
    counts = {
        "day": day.isoformat(),
        "contacts": people.contacts,
        "accounts": people.accounts,
        "excluded_suppressed": people.excluded_suppressed,
        "excluded_no_email": people.excluded_no_email,
        "excluded_quiet": people.excluded_quiet,
    }
    if output == "json":
        emails = {k: {"subject": s, "body": b} for k, (s, b) in samples.items()}
        typer.echo(
            json.dumps(
                {**counts, "recipients": [asdict(r) for r in people.recipients], "emails": emails},
                ensure_ascii=False,
                indent=1,
            )
        )
        return
    typer.echo(
        _(
            "Audience on {day}: {contacts} contacts of {accounts} accounts.",
            day=day,
            contacts=number(people.contacts),
            accounts=number(people.accounts),
        )
    )
    typer.echo(
        _(
            "Left out: {suppressed} unsubscribed or bounced, {no_email} without an email "
            "address, {quiet} in the quiet period.",
            suppressed=people.excluded_suppressed,
            no_email=people.excluded_no_email,
            quiet=people.excluded_quiet,
        )
    )
    for lang, (subject, body) in samples.items():
        typer.echo(f"\n--- {lang} ---\n{subject}\n\n{body}")


@campaigns_app.command("send")
def send(
    as_of: AsOfOption = None,
    queue_only: Annotated[
        bool,
        typer.Option(
            "--queue-only",
            help="Queue the emails; let `banso run` or the server's schedule deliver them.",
        ),
    ] = False,
) -> None:
    """Queue every campaign due on the day (default today), then deliver the outbox."""
    day = as_of or dates.today()
    with session_scope() as session:
        results = service.send_due(session, day)
    if not results:
        typer.echo(_("No campaign is due on {day}.", day=day))
    for r in results:
        typer.echo(
            _(
                "Campaign {name}: {queued} emails queued; left out {suppressed} unsubscribed or "
                "bounced, {no_email} without an address, {quiet} in the quiet period.",
                name=r.name,
                queued=r.queued,
                suppressed=r.excluded_suppressed,
                no_email=r.excluded_no_email,
                quiet=r.excluded_quiet,
            )
        )
    if results and not queue_only:
        summary = outbox.deliver()
        typer.echo(
            _(
                "Outbox: {sent} sent, {retried} to retry, {failed} failed, {suppressed} "
                "suppressed, {deferred} held by the rate limit.",
                sent=summary.sent,
                retried=summary.retried,
                failed=summary.failed,
                suppressed=summary.suppressed,
                deferred=summary.deferred,
            )
        )


@campaigns_app.command("stats")
def stats(
    campaign_id: Annotated[int, typer.Argument(help="The campaign's id.")],
    output: FormatOption = "table",
) -> None:
    """Per run: queued, sent, bounced, opened, clicked, still waiting."""
    check_format(output, FORMATS)
    with session_scope() as session:
        runs = service.stats(session, campaign_id)
    rows = [{**asdict(r), "run_on": r.run_on.isoformat()} for r in runs]
    if output == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    table = Table(title=_("Campaign {id}", id=campaign_id))
    heads = (
        _("Day"),
        _("Queued"),
        _("Sent"),
        _("Bounced"),
        _("Opened"),
        _("Clicked"),
        _("Waiting"),
    )
    for header in heads:
        table.add_column(header)
    for r in rows:
        table.add_row(
            r["run_on"],
            *(number(r[k]) for k in ("queued", "sent", "bounced", "opened", "clicked", "waiting")),
        )
    Console().print(table)


@campaigns_app.command("usage-report")
def usage_report_command(
    month: Annotated[
        str,
        typer.Option("--month", help="The month reported, YYYY-MM.", parser=MonthOption("--month")),
    ],
    account: Annotated[int | None, typer.Option("--account", help="Only this account.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the reports; queue nothing.")
    ] = False,
) -> None:
    """The monthly usage report of every customer account (or one): queued once per contact
    and month, then the outbox is delivered; --dry-run prints each report in English."""
    first = date.fromisoformat(f"{month}-01")
    with session_scope() as session:
        if dry_run:
            for report in usage_report.reports(session, first, account):
                subject, body = usage_report.render(report, "en", None, "…")
                typer.echo(f"--- {report.account_id} {subject}\n{body}")
            return
        done = usage_report.queue(session, first, account, dates.today())
    typer.echo(
        _(
            "Usage reports for {month}: {accounts} accounts, {emails} emails queued, "
            "{none} accounts without a recipient.",
            month=month,
            accounts=number(done.accounts),
            emails=number(done.emails),
            none=number(done.without_recipients),
        )
    )
    if done.emails:
        summary = outbox.deliver()
        typer.echo(
            _(
                "Outbox: {sent} sent, {retried} to retry, {failed} failed, {suppressed} "
                "suppressed, {deferred} held by the rate limit.",
                sent=summary.sent,
                retried=summary.retried,
                failed=summary.failed,
                suppressed=summary.suppressed,
                deferred=summary.deferred,
            )
        )
