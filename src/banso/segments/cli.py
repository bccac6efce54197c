"""``banso segments list|show|check-config|evaluate|override|clear-override|rate``: parse, call
:mod:`banso.segments.service`, print."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from banso import dates
from banso.dates import DayOption
from banso.db import session_scope
from banso.errors import BansoError, check_format
from banso.i18n import _, current_language, number
from banso.labels import label
from banso.retention.service import find_account
from banso.revenue.fx import reporting_currency
from banso.segments import service
from banso.segments.views import overview, rule_dict

segments_app = typer.Typer(
    help="Segments as rules (segments.yaml): membership, history, touch model and tier.",
    no_args_is_help=True,
)

FORMATS = ("table", "json")

FormatOption = Annotated[str, typer.Option("--format", help="table or json.")]


@segments_app.command("check-config")
def check_config() -> None:
    """Check segments.yaml (or the packaged rules): every problem as FILE:LINE: FIELD: reason."""
    rules = service.rule_set()
    typer.echo(
        _(
            "{path}: {segments} segments, {rules} rules, default {default}.",
            path=rules.path,
            segments=len(rules.segments),
            rules=len(rules.rules),
            default=rules.default,
        )
    )


@segments_app.command("list")
def list_segments(output: FormatOption = "table") -> None:
    """The segments with their touch model, tier, rules, and accounts and MRR on the newest
    evaluated day."""
    check_format(output, FORMATS)
    rules = service.rule_set()  # a bad file: its problems, exit 2
    with session_scope() as session:
        seen = overview(session)
    rows = [
        {**asdict(r), "mrr": None if r.mrr is None else _major(r.mrr, rules.minor_exponent)}
        for r in seen.rows
    ]
    if output == "json":
        day = seen.day.isoformat() if seen.day else None
        typer.echo(json.dumps({"day": day, "segments": rows}, ensure_ascii=False, indent=1))
        return
    table = Table(title=_("Segments on {day}", day=seen.day) if seen.day else _("Segments"))
    for header in (_("Segment"), _("Touch model"), _("Tier"), _("Accounts"), _("MRR"),
                   _("Rules")):  # fmt: skip
        table.add_column(header)
    for row in rows:
        table.add_row(
            f"{row['label']} ({row['segment']})",
            label(row["touch_model"], "touch_model"),
            label(row["tier"], "tier") if row["tier"] else "",
            "" if row["accounts"] is None else number(row["accounts"]),
            "" if row["mrr"] is None else number(row["mrr"]),
            "\n".join(_rule_text(r) for r in row["rules"]) or _("(default)"),
        )
    Console().print(table)
    if seen.day is None:
        typer.echo(_("Not evaluated yet: run `banso segments evaluate` or `banso run`."))


@segments_app.command("show")
def show(
    segment: Annotated[str, typer.Argument(help="The segment's name.")],
    as_of: Annotated[
        date | None,
        typer.Option(
            "--as-of",
            help="Members on this day (default: the newest evaluated).",
            parser=DayOption("--as-of"),
            show_default=False,
        ),
    ] = None,  # fmt: skip
    limit: Annotated[int, typer.Option("--limit", min=1, max=100_000)] = 50,
    output: FormatOption = "table",
) -> None:
    """A segment's rules and its members (id, name, touch model, tier, owner, since)."""
    check_format(output, FORMATS)
    rules = service.rule_set()
    if segment not in rules.segments:
        raise BansoError(
            _(
                "Unknown segment {segment}; choose one of {choices}.",
                segment=segment,
                choices=", ".join(rules.segments),
            )
        )
    with session_scope() as session:
        total, members = service.members(session, segment, as_of, limit=limit)
    rows = [
        {
            "account_id": m.account_id, "name": m.name, "touch_model": m.touch_model,
            "tier": m.tier, "touch_source": m.touch_source, "owner": m.owner,
            "since": m.since.isoformat(),
        }
        for m in members
    ]  # fmt: skip
    if output == "json":
        payload = {"segment": segment, "members": total, "shown": rows}
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=1))
        return
    mapped = rules.segments[segment]
    typer.echo(f"{rules.label(segment, current_language())} ({segment})")
    typer.echo(
        _("Touch model: {touch}; tier: {tier}", touch=label(mapped.touch_model, "touch_model"),
          tier=label(mapped.tier, "tier") if mapped.tier else "-")
    )  # fmt: skip
    for rule in rules.rules:
        if rule.segment == segment:
            typer.echo(f"  {_rule_text(rule_dict(rule, rules))}")
    if segment == rules.default:
        typer.echo(_("  the default: accounts no rule matches"))
    table = Table(title=_("{count} accounts", count=number(total)))
    for header in (_("Id"), _("Account"), _("Touch model"), _("Tier"), _("Owner"), _("Since")):
        table.add_column(header)
    for row in rows:
        touch = label(row["touch_model"], "touch_model") if row["touch_model"] else ""
        if row["touch_source"] == "override":
            touch += " " + _("(set by hand)")
        table.add_row(str(row["account_id"]), row["name"], touch,
                      label(row["tier"], "tier") if row["tier"] else "", row["owner"] or "",
                      row["since"])  # fmt: skip
    Console().print(table)


@segments_app.command("evaluate")
def evaluate(
    as_of: Annotated[
        date | None,
        typer.Option(
            "--as-of",
            help="The day (default: yesterday).",
            parser=DayOption("--as-of"),
            show_default=False,
        ),
    ] = None,  # fmt: skip
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the counts without writing anything.")
    ] = False,
    output: FormatOption = "table",
) -> None:
    """Put every account in its segment for the day, record the history and set the touch
    model and tier (the daily run does this)."""
    check_format(output, FORMATS)
    day = dates.check_day(as_of, "--as-of") if as_of is not None else dates.yesterday()
    with session_scope() as session:
        result = service.evaluate(session, day, write=not dry_run)
    if output == "json":
        payload: dict[str, Any] = {
            "day": day.isoformat(),
            "written": result.written,
            "changed": result.changed,
            "touch_changed": result.touch_changed,
            "segments": {c.segment: {"accounts": c.accounts, "mrr": c.mrr} for c in result.counts},
        }
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=1))
        return
    currency = reporting_currency()
    for c in result.counts:
        typer.echo(f"{c.segment}: {number(c.accounts)} / MRR {number(c.mrr)} {currency}")
    typer.echo(
        _(
            "{day}: {changed} accounts changed segment, {touch} changed touch model or tier.",
            day=day,
            changed=number(result.changed),
            touch=number(result.touch_changed),
        )
        if result.written
        else _("{day}: {changed} accounts would change segment (nothing written).",
               day=day, changed=number(result.changed))
    )  # fmt: skip


@segments_app.command("override")
def override(
    account: Annotated[str, typer.Argument(help="Account id or exact name.")],
    touch_model: Annotated[str, typer.Option("--touch", help="high, low or tech.")],
    reason: Annotated[str, typer.Option("--reason", help="Why, for the audit log and the 360.")],
    until: Annotated[
        date,
        typer.Option(
            "--until", help="Last day it holds (YYYY-MM-DD).", parser=DayOption("--until")
        ),
    ],  # fmt: skip
    tier: Annotated[
        str | None, typer.Option("--tier", help="Tier too (default: the segment's).")
    ] = None,
) -> None:
    """Serve an account with another touch model until a day, whatever its segment says."""
    with session_scope() as session:
        found = find_account(session, account)
        service.set_override(session, found.id, touch_model, reason, until, tier=tier)
        name = found.name
    typer.echo(
        _("{account} is served {touch} until {day}.", account=name,
          touch=label(touch_model, "touch_model"), day=until)
    )  # fmt: skip


@segments_app.command("clear-override")
def clear_override(
    account: Annotated[str, typer.Argument(help="Account id or exact name.")],
) -> None:
    """End an account's touch-model override now; its segment's touch model applies again."""
    with session_scope() as session:
        found = find_account(session, account)
        cleared = service.clear_override(session, found.id)
        name = found.name
    typer.echo(
        _("Override of {account} ended.", account=name)
        if cleared
        else _("{account} has no override.", account=name)
    )


@segments_app.command("rate")
def rate(
    account: Annotated[str, typer.Argument(help="Account id or exact name.")],
    it_literacy: Annotated[
        int | None, typer.Option("--it-literacy", help="1 (lowest) to 5.", min=1, max=5)
    ] = None,
    motivation: Annotated[
        int | None, typer.Option("--motivation", help="1 (lowest) to 5.", min=1, max=5)
    ] = None,
) -> None:
    """Set an account's triage ratings (IT literacy, motivation); a rating left out is kept."""
    with session_scope() as session:
        found = find_account(session, account)
        service.set_ratings(
            session,
            found.id,
            it_literacy=found.it_literacy if it_literacy is None else it_literacy,
            motivation=found.motivation if motivation is None else motivation,
        )
        typer.echo(
            _("{account}: IT literacy {it}, motivation {motivation}.", account=found.name,
              it=found.it_literacy or "-", motivation=found.motivation or "-")
        )  # fmt: skip


# ---------------------------------------------------------------------------------------------


def _major(minor: int, exponent: int) -> float | int:
    return minor if exponent == 0 else round(minor / 10**exponent, 2)


def _rule_text(rule: dict[str, Any]) -> str:
    parts = []
    for name, cond in rule["when"].items():
        if isinstance(cond, list):
            parts.append(f"{name} ∈ {{{', '.join(str(v) for v in cond)}}}")
        else:
            low, high = cond.get("at_least"), cond.get("below")
            text = " ≤ ".join(p for p in (number(low) if low is not None else "", name) if p)
            if high is not None:
                text += f" < {number(high)}"
            parts.append(text)
    return f"[{rule['priority']}] " + " ∧ ".join(parts)
