"""``banso playbooks …`` and ``banso ctas …``: parse, call the service, print."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from banso.dates import DayOption
from banso.db import session_scope
from banso.errors import BansoError
from banso.i18n import _, ngettext, percent
from banso.labels import label
from banso.messaging import outbox
from banso.playbooks import ctas, service

playbooks_app = typer.Typer(help="Playbooks: check, replay on past data, measure their effect.")
ctas_app = typer.Typer(help="CTAs (calls to action): list, close, assign, complete tasks.")
console = Console()


def _format(value: str) -> str:
    if value not in ("table", "json"):
        raise BansoError(_("--format must be table or json, not {value!r}.", value=value))
    return value


@playbooks_app.command("check-config")
def check_config() -> None:
    """Validate the playbook YAML files; print each problem as FILE:LINE: FIELD: REASON."""
    for p in service.check():
        typer.echo(
            _(
                "{name}: trigger {trigger}, {actions} actions{disabled} — OK",
                name=p.name,
                trigger=p.trigger.type,
                actions=len(p.actions),
                disabled="" if p.enabled else _(" (disabled)"),
            )
        )


@playbooks_app.command()
def replay(
    playbook: Annotated[
        list[str] | None, typer.Argument(help="Playbook names (default: every enabled one).")
    ] = None,
    start: Annotated[
        date | None,
        typer.Option("--from", help="First day (YYYY-MM-DD).", parser=DayOption("--from")),
    ] = None,
    end: Annotated[
        date | None, typer.Option("--to", help="Last day (YYYY-MM-DD).", parser=DayOption("--to"))
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """What playbooks would have done each day on past data (nothing is written or sent)."""
    first, last = start, end
    if first is None or last is None:
        raise BansoError(_("Give both --from and --to."))
    _format(fmt)
    with session_scope() as session:
        results = service.replay(session, playbook, first, last)
        session.rollback()
    if fmt == "json":
        typer.echo(json.dumps([r.as_dict() for r in results], ensure_ascii=False, indent=2))
        return
    table = Table(title=_("Replay {start} to {end}", start=first, end=last))
    for column in (
        _("playbook"), _("firings"), _("CTAs created"), _("CTAs updated"), _("emails"),
        _("Slack"), _("webhooks"), _("field updates"), _("opportunities"),
        _("days with firings"),
    ):  # fmt: skip
        table.add_column(column, justify="left" if column == _("playbook") else "right")
    for r in results:
        t = r.totals
        table.add_row(
            r.playbook, str(t.firings), str(t.ctas_created), str(t.ctas_updated), str(t.emails),
            str(t.slack), str(t.webhooks), str(t.field_updates), str(t.opportunities),
            str(len(r.days)),
        )  # fmt: skip
    console.print(table)


@playbooks_app.command()
def effect(
    playbook: Annotated[str, typer.Argument(help="Playbook name.")],
    horizon: Annotated[int, typer.Option("--horizon-days", help="Days of outcome.")] = 90,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Later churn/expansion of accounts that got the playbook's CTAs vs similar ones that
    did not (same band and segment on the trigger day), with a 95 % interval."""
    _format(fmt)
    with session_scope() as session:
        result = service.effect(session, playbook, horizon)
    if fmt == "json":
        typer.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    typer.echo(result["summary"])
    for heading, key in ((_("churn"), "churn"), (_("expansion"), "expansion")):
        part = result.get(key)
        if part and part.get("difference") is not None:
            typer.echo(
                _(
                    "{label}: treated {t} ({nt}), untreated {c} ({nc}), "
                    "difference {d}, 95% CI {low} to {high}",
                    label=heading, t=percent(part["treated_rate"]),
                    nt=ngettext("{n} account", "{n} accounts", part["treated"]),
                    c=percent(part["control_rate"]),
                    nc=ngettext("{n} account-day", "{n} account-days", part["controls"]),
                    d=percent(part["difference"], signed=True),
                    low=percent(part["ci95"][0], signed=True),
                    high=percent(part["ci95"][1], signed=True),
                )
            )  # fmt: skip


@ctas_app.command("list")
def list_ctas(
    status: Annotated[str | None, typer.Option("--status", help="open or closed.")] = None,
    owner: Annotated[
        str | None,
        typer.Option("--owner", help="The owner: team e-mail, sign-in e-mail or name."),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """CTAs by due date, titles in your language."""
    _format(fmt)
    with session_scope() as session:
        person = ctas.find_person(session, owner) if owner is not None else None
        rows = service.list_ctas(session, status, person.email if person else None)
    if fmt == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        if person is not None:
            typer.echo(_("{name} ({email}) has no CTAs.", name=person.name, email=person.email)
                       if status is None else
                       _("{name} ({email}) has no {status} CTAs.", name=person.name,
                         email=person.email, status=label(status, "cta_status")))  # fmt: skip
        else:
            typer.echo(_("No CTAs."))
        return
    table = Table()
    for column in (_("id"), _("account"), _("playbook"), _("type"), _("priority"), _("title"),
                   _("owner"), _("due"), _("status")):  # fmt: skip
        table.add_column(column)
    for r in rows:
        state = label(r["status"], "cta_status")
        if r["outcome"]:
            state += f" ({label(r['outcome'], 'cta_outcome')})"
        table.add_row(
            str(r["id"]), r["account"], r["playbook"], label(r["type"], "cta_type"),
            label(r["priority"], "cta_priority"), r["title"],
            r["owner"] or "-", r["due_date"], state,
        )  # fmt: skip
    console.print(table)


@ctas_app.command()
def close(
    cta_id: Annotated[int, typer.Argument(help="CTA id.")],
    outcome: Annotated[str, typer.Option("--outcome", help="resolved, churned, expanded, ...")],
    by: Annotated[str, typer.Option("--by", help="Who closes it (email).")],
    note: Annotated[str | None, typer.Option("--note", help="What happened.")] = None,
) -> None:
    """Close a CTA with an outcome (recorded in its audit trail)."""
    with session_scope() as session:
        cta = ctas.close(session, cta_id, outcome, by, note)
        typer.echo(
            _("CTA {id} closed: {outcome}.", id=cta.id, outcome=label(outcome, "cta_outcome"))
        )


@ctas_app.command()
def assign(
    cta_id: Annotated[int, typer.Argument(help="CTA id.")],
    member: Annotated[str, typer.Option("--to", help="The new owner's email.")],
    by: Annotated[str, typer.Option("--by", help="Who reassigns it (email).")],
) -> None:
    """Give a CTA to another team member."""
    with session_scope() as session:
        ctas.assign(session, cta_id, member, by)
    typer.echo(_("CTA {id} assigned to {member}.", id=cta_id, member=member))


@ctas_app.command("done")
def task_done(
    task_id: Annotated[int, typer.Argument(help="Task id.")],
    by: Annotated[str, typer.Option("--by", help="Who did it (email).")],
) -> None:
    """Mark one task of a CTA done."""
    with session_scope() as session:
        ctas.complete_task(session, task_id, by)
    typer.echo(_("Task {id} done.", id=task_id))


@ctas_app.command()
def history(cta_id: Annotated[int, typer.Argument(help="CTA id.")]) -> None:
    """The audit trail of a CTA: who did what, when."""
    with session_scope() as session:
        for e in ctas.events(session, cta_id):
            typer.echo(f"{e.at.isoformat(timespec='seconds')}  {e.actor}  {e.action}  {e.detail}")


@playbooks_app.command("send")
def send() -> None:
    """Send what is due in the outbox now (retries included)."""
    echo_outbox(outbox.deliver())


def echo_outbox(o: outbox.WorkerSummary) -> None:
    typer.echo(
        _(
            "Outbox: {sent} sent, {retried} to retry, {failed} failed, {suppressed} "
            "suppressed, {deferred} held by the rate limit.",
            sent=o.sent,
            retried=o.retried,
            failed=o.failed,
            suppressed=o.suppressed,
            deferred=o.deferred,
        )
    )
