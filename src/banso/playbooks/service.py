"""Playbook operations for the CLI, the web app and the scheduler.

- ``check``: load and validate every playbook.
- ``run_playbooks``: evaluate every enabled playbook for one day and act (CTAs, outbox, fields).
- ``replay``: what playbooks would have done on each past day — read-only.
- ``effect``: later churn/expansion of accounts that got a playbook's CTAs against accounts of
  the same band and segment on the same day that did not.
- ``list_ctas``, ``unsubscribe``: for the CLI and the web app.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.models import Account, Contact
from banso.analytics.engines import event_engine, read_arrow
from banso.config import get_settings
from banso.db import get_engine
from banso.errors import BansoError
from banso.health import snapshots
from banso.health.scorecard import load_scorecards
from banso.i18n import _, ngettext, percent
from banso.messaging.models import Suppression
from banso.playbooks import actions, ctas
from banso.playbooks.actions import ActionCounts
from banso.playbooks.config import Playbook, load_playbooks, template_dirs
from banso.playbooks.models import Cta, PlaybookFiring
from banso.playbooks.triggers import MissingSnapshots, PlaybookData
from banso.revenue import contracts
from banso.segments.config import SegmentsError
from banso.segments.service import rule_set as segment_rules
from banso.team.models import TeamMember


def check() -> list[Playbook]:
    """Every playbook, validated against the scorecards' bands, the segments ``segments.yaml``
    assigns (when it is enabled: the daily run sets each account's segment before the
    playbooks run) and the templates."""
    config = get_settings().config_path
    bands = {b.name for card in load_scorecards(config) for b in card.bands}
    try:
        rules = segment_rules()
        segments = set(rules.segments) if rules.enabled else None
    except SegmentsError:
        # segments.yaml's own problems are reported where it is used (`banso segments
        # check-config`, the daily run's segment step); the playbooks still load, unchecked
        # against it
        segments = None
    return load_playbooks(config, bands, segments)


def selected(names: list[str] | None, enabled_only: bool = True) -> list[Playbook]:
    playbooks = check()
    if names:
        known = {p.name: p for p in playbooks}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise BansoError(
                _(
                    "No playbook named {name!r}; known: {known}.",
                    name=unknown[0],
                    known=", ".join(sorted(known)),
                )
            )
        return [known[n] for n in names]
    return [p for p in playbooks if p.enabled or not enabled_only]


def run_playbooks(
    session: Session, day: date, names: list[str] | None = None, engine: str | None = None
) -> dict[str, ActionCounts]:
    """Evaluate the enabled playbooks (or ``names``) for ``day`` and act; the caller commits.
    ``engine``: the analytics engine (``--engine``, else ``BANSO_ANALYTICS_ENGINE``); with
    ``spark`` the event triggers count events on Spark (``PlaybookData``).

    Safe to repeat: accounts already acted on for a playbook and day are skipped."""
    playbooks = selected(names)
    data = PlaybookData(get_engine(), engine=event_engine(engine))
    _check_assignees(session, playbooks)
    for playbook in playbooks:
        missing = data.missing_snapshot_days(playbook, [day])
        if missing:
            raise MissingSnapshots(missing[0], missing[-1], len(missing))
    templates = template_dirs(get_settings().config_path)
    results: dict[str, ActionCounts] = {}
    for playbook in playbooks:
        fired = data.firings(playbook, [day])
        ids = sorted(set(fired["account_id"].to_pylist()))
        context = actions.load_context(session, ids, templates)
        results[playbook.name] = actions.apply(session, playbook, fired, context)
    return results


def _check_assignees(session: Session, playbooks: list[Playbook]) -> None:
    """Named members and round-robin teams must exist before any playbook acts."""
    emails = set(session.scalars(select(TeamMember.email)))
    teams = set(session.scalars(select(TeamMember.team).where(TeamMember.team.is_not(None))))
    for p in playbooks:
        for a in p.actions:
            if a.cta is None or a.cta.assign == "owner":
                continue
            member = getattr(a.cta.assign, "member", None)
            team = getattr(a.cta.assign, "round_robin", None)
            if member is not None and member not in emails:
                raise BansoError(
                    _("Playbook {name}: no team member with email {email}.", name=p.name,
                      email=member)
                )  # fmt: skip
            if team is not None and team not in teams:
                raise BansoError(
                    _("Playbook {name}: team {team!r} has no members.", name=p.name, team=team)
                )


# ---------------------------------------------------------------- replay


@dataclass
class ReplayResult:
    playbook: str
    start: date
    end: date
    totals: ActionCounts
    days: list[dict[str, Any]] = field(default_factory=list)
    """Per day with any firing: ``{day, firings, ctas_created, ctas_updated, emails, ...}``."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "playbook": self.playbook,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "totals": self.totals.as_dict(),
            "days": self.days,
        }


def replay(session: Session, names: list[str] | None, start: date, end: date) -> list[ReplayResult]:
    """What each playbook would have done on each day from ``start`` to ``end``, without
    writing anything. CTAs a replay opens are taken to stay open to the end of the period, so a
    repeat trigger updates rather than opens one; emails count the current contacts with the
    role (minus suppressed addresses); account attributes in conditions are today's."""
    if start > end:
        raise BansoError(_("--from {start} is after --to {end}.", start=start, end=end))
    playbooks = selected(names, enabled_only=not names)
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    data = PlaybookData(get_engine())
    for playbook in playbooks:
        missing = data.missing_snapshot_days(playbook, days)
        if missing:
            raise MissingSnapshots(missing[0], missing[-1], len(missing))
    suppressed = set(session.scalars(select(Suppression.email)))
    results = []
    for playbook in playbooks:
        fired = data.firings(playbook, days)
        mailable = _mailable_counts(session, playbook, fired, suppressed)
        results.append(_simulate(playbook, fired, mailable, start, end))
    return results


def _mailable_counts(
    session: Session, playbook: Playbook, fired: pa.Table, suppressed: set[str]
) -> dict[str, dict[int, list[Contact]]]:
    """Per email role: the contacts of each fired account with that role and an address."""
    roles = {a.email.to for a in playbook.actions if a.email is not None} | {
        a.send_survey.to for a in playbook.actions if a.send_survey is not None
    }
    if not roles or fired.num_rows == 0:
        return {}
    ids = sorted(set(fired["account_id"].to_pylist()))
    out: dict[str, dict[int, list[Contact]]] = {r: defaultdict(list) for r in roles}
    for i in range(0, len(ids), 5000):
        rows = session.scalars(
            select(Contact).where(
                Contact.account_id.in_(ids[i : i + 5000]), Contact.role.in_(roles)
            )
        )
        for c in rows:
            if c.email and c.email.lower() not in suppressed:
                out[c.role or ""][c.account_id].append(c)
    return out


def _simulate(
    playbook: Playbook,
    fired: pa.Table,
    mailable: dict[str, dict[int, list[Contact]]],
    start: date,
    end: date,
) -> ReplayResult:
    totals = ActionCounts()
    per_day: dict[date, ActionCounts] = {}
    open_ctas: set[tuple[int, str]] = set()
    opens_cta = any(a.cta is not None for a in playbook.actions)
    last_fired: dict[int, date] = {}
    for row in fired.to_pylist():
        day, account = row["day"], row["account_id"]
        cooldown = playbook.cooldown_days
        if cooldown is not None:  # CTAs a replay opens stay open: one firing per account
            if opens_cta and account in last_fired:
                continue
            if not opens_cta and account in last_fired:
                if (day - last_fired[account]).days < cooldown:
                    continue
            last_fired[account] = day
        counts = per_day.setdefault(day, ActionCounts())
        counts.firings += 1
        for action in playbook.actions:
            if action.cta is not None:
                key = (account, action.cta.reason or playbook.trigger.type)
                if key in open_ctas:
                    counts.ctas_updated += 1
                else:
                    open_ctas.add(key)
                    counts.ctas_created += 1
            elif action.email is not None or action.send_survey is not None:
                # a survey invitation is an email; the replay does not model its quiet period
                role = action.email.to if action.email else action.send_survey.to  # type: ignore[union-attr]
                contacts = [
                    c
                    for c in mailable.get(role, {}).get(account, [])
                    if c.left_at is None or c.left_at.date() > day
                ]
                counts.emails += len(contacts)
                counts.emails_skipped += not contacts
            elif action.slack is not None:
                counts.slack += 1
            elif action.webhook is not None:
                counts.webhooks += 1
            elif action.set_field is not None:
                counts.field_updates += 1
            elif action.open_opportunity is not None:
                key = (account, f"opportunity:{action.open_opportunity.kind}")
                if key not in open_ctas:  # like a CTA, taken to stay open to the end
                    open_ctas.add(key)
                    counts.opportunities += 1
            elif action.propose_advocacy is not None:
                key = (account, f"advocacy:{action.propose_advocacy.kind}")
                if key not in open_ctas:  # like an opportunity, taken to stay open to the end
                    open_ctas.add(key)
                    counts.advocacy += 1
    days = []
    for day in sorted(per_day):
        totals.add(per_day[day])
        days.append({"day": day.isoformat(), **per_day[day].as_dict()})
    return ReplayResult(playbook.name, start, end, totals, days)


# ---------------------------------------------------------------- effect


def effect(session: Session, name: str, horizon_days: int = 90) -> dict[str, Any]:
    """Did accounts that got ``name``'s CTAs churn or expand less/more than similar accounts?

    Treated: each account's first CTA of the playbook whose day + horizon is scored history.
    Controls: accounts with the same band and segment on that day that never got one. Outcomes
    over ``horizon_days`` from the trigger day: churn = no paid line active at the end;
    expansion = MRR at the end above MRR on the day. Rates are compared within each
    band x segment stratum and averaged with the treated counts as weights; the 95 % interval
    uses the normal approximation. This is observational: the playbook chose whom to treat."""
    selected([name], enabled_only=False)
    firsts: dict[int, date] = {}
    for account_id, day in session.execute(
        select(Cta.account_id, Cta.first_triggered_on).where(Cta.playbook == name)
    ).all():
        firsts[account_id] = min(day, firsts.get(account_id, day))
    scored = snapshots.scored_days()
    if not scored:
        raise BansoError(_("No health scores yet; run `banso health score` first."))
    last_outcome_day = scored[-1]
    eligible = {
        a: d for a, d in firsts.items() if d + timedelta(days=horizon_days) <= last_outcome_day
    }
    result: dict[str, Any] = {
        "playbook": name,
        "horizon_days": horizon_days,
        "treated_total": len(firsts),
        "treated_with_outcome": len(eligible),
    }
    if not eligible:
        result["summary"] = _(
            "No account got this playbook's CTA at least {days} days before the last scored "
            "day, so there is nothing to compare yet.",
            days=horizon_days,
        )
        return result
    trigger_days = sorted(set(eligible.values()))
    ends = sorted({d + timedelta(days=horizon_days) for d in trigger_days})
    start_rows = snapshots.read(
        start=trigger_days[0], end=trigger_days[-1], columns="account_id, day, band, mrr"
    )
    start_rows = start_rows.filter(pc.is_in(start_rows["day"], pa.array(trigger_days, pa.date32())))
    end_mrr = _mrr_on(ends)
    segments = dict(session.execute(select(Account.id, Account.segment)).all())
    by_day: dict[date, list[dict[str, Any]]] = defaultdict(list)
    for r in start_rows.to_pylist():
        by_day[r["day"]].append(r)
    strata: dict[tuple[str | None, str | None], dict[str, list[int]]] = defaultdict(
        lambda: {"t_churn": [], "t_exp": [], "c_churn": [], "c_exp": []}
    )
    for account_id, day in eligible.items():
        rows = {r["account_id"]: r for r in by_day.get(day, [])}
        me = rows.get(account_id)
        if me is None:
            continue
        key = (me["band"], segments.get(account_id))
        end = day + timedelta(days=horizon_days)
        churn, exp = _outcome(me["mrr"], end_mrr.get((account_id, end)))
        strata[key]["t_churn"].append(churn)
        strata[key]["t_exp"].append(exp)
        for other, r in rows.items():
            if other in firsts or (r["band"], segments.get(other)) != key:
                continue
            churn, exp = _outcome(r["mrr"], end_mrr.get((other, end)))
            strata[key]["c_churn"].append(churn)
            strata[key]["c_exp"].append(exp)
    result["churn"] = _weighted_difference(strata, "churn")
    result["expansion"] = _weighted_difference(strata, "exp")
    result["strata"] = [
        {"band": b, "segment": s, "treated": len(v["t_churn"]), "controls": len(v["c_churn"])}
        for (b, s), v in sorted(strata.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1])))
    ]
    result["summary"] = _effect_sentence(result)
    return result


def _mrr_on(days: list[date]) -> dict[tuple[int, date], int | None]:
    """MRR per customer on each day (``revenue.contracts``; absent when not a customer)."""
    con = duckdb.connect()
    engine = get_engine()
    con.register("subscriptions", read_arrow(engine, list(contracts.SUBSCRIPTION_COLUMNS)))
    con.register("days", pa.table({"day": pa.array(days, pa.date32())}))
    sql = contracts.customers_duckdb(con, engine, "days", min(days), max(days))
    rows = con.execute(f"SELECT account_id, day, mrr FROM ({sql})").fetchall()
    return {(a, d): m for a, d, m in rows}


def _outcome(mrr_start: float | None, mrr_end: float | None) -> tuple[int, int]:
    """``(churned, expanded)`` as 0/1 between the trigger day and the horizon."""
    end = mrr_end or 0.0
    start = mrr_start or 0.0
    return int(end <= 0), int(end > start > 0)


def _weighted_difference(strata: dict[Any, dict[str, list[int]]], outcome: str) -> dict[str, Any]:
    """Treated rate minus control rate, averaged over strata weighted by treated counts, with a
    95 % normal-approximation interval; strata without controls are left out."""
    treated_n = control_n = 0
    weighted = variance = 0.0
    t_events = c_events = 0
    total_weight = sum(len(v[f"t_{outcome}"]) for v in strata.values() if v[f"c_{outcome}"])
    for v in strata.values():
        t, c = v[f"t_{outcome}"], v[f"c_{outcome}"]
        if not t or not c:
            continue
        w = len(t) / total_weight
        pt, pc = sum(t) / len(t), sum(c) / len(c)
        weighted += w * (pt - pc)
        variance += w * w * (pt * (1 - pt) / len(t) + pc * (1 - pc) / len(c))
        treated_n += len(t)
        control_n += len(c)
        t_events += sum(t)
        c_events += sum(c)
    if treated_n == 0:
        return {"treated": 0, "controls": 0, "difference": None, "ci95": None}
    half = 1.96 * math.sqrt(variance)
    return {
        "treated": treated_n,
        "controls": control_n,
        "treated_rate": round(t_events / treated_n, 4),
        "control_rate": round(c_events / control_n, 4),
        "difference": round(weighted, 4),
        "ci95": [round(weighted - half, 4), round(weighted + half, 4)],
    }


def _effect_sentence(result: dict[str, Any]) -> str:
    churn = result["churn"]
    if churn.get("difference") is None:
        return _("No treated account has comparable untreated accounts (same band and segment).")
    low, high = churn["ci95"]
    if low <= 0 <= high:
        verdict = _("the interval includes zero, so these data cannot tell whether it helps")
    elif high < 0:
        verdict = _("treated accounts churned less; the interval excludes zero")
    else:
        verdict = _("treated accounts churned more; the interval excludes zero")
    return _(
        "Churn within {days}: {t} of {nt} vs {c} of {nc}; difference {d} (95% CI {low} to "
        "{high}): {verdict}. Accounts were not assigned at random, so this is an association, "
        "not proof.",
        days=ngettext("{n} day", "{n} days", result["horizon_days"]),
        t=percent(churn["treated_rate"]),
        nt=ngettext("{n} treated account", "{n} treated accounts", churn["treated"]),
        c=percent(churn["control_rate"]),
        nc=ngettext(
            "{n} account-day of similar untreated accounts",
            "{n} account-days of similar untreated accounts",
            churn["controls"],
        ),
        d=percent(churn["difference"], signed=True),
        low=percent(low, signed=True),
        high=percent(high, signed=True),
        verdict=verdict,
    )


# ---------------------------------------------------------------- CTAs and unsubscribes


def list_ctas(
    session: Session, status: str | None = None, owner: str | None = None
) -> list[dict[str, Any]]:
    """CTAs as plain dicts: id, account_id, account, playbook, reason, type, priority, title,
    status, owner (email), due_date, first/last trigger day, trigger_count, outcome."""
    query = (
        select(Cta, Account.name, TeamMember.email)
        .join(Account, Account.id == Cta.account_id)
        .outerjoin(TeamMember, TeamMember.id == Cta.owner_id)
        .order_by(Cta.due_date, Cta.id)
    )
    if status is not None:
        if status not in ("open", "closed"):
            raise BansoError(_("--status must be open or closed, not {value!r}.", value=status))
        query = query.where(Cta.status == status)
    if owner is not None:
        query = query.where(TeamMember.email == owner)
    return [
        {
            "id": cta.id,
            "account_id": cta.account_id,
            "account": account,
            "playbook": cta.playbook,
            "reason": cta.reason,
            "type": cta.type,
            "priority": cta.priority,
            "title": ctas.localized(cta.title, cta.title_texts),
            "status": cta.status,
            "owner": email,
            "due_date": cta.due_date.isoformat(),
            "first_triggered_on": cta.first_triggered_on.isoformat(),
            "last_triggered_on": cta.last_triggered_on.isoformat(),
            "trigger_count": cta.trigger_count,
            "outcome": cta.outcome,
            "snoozed_until": cta.snoozed_until.isoformat() if cta.snoozed_until else None,
        }
        for cta, account, email in session.execute(query).all()
    ]


def firings(session: Session, name: str) -> list[PlaybookFiring]:
    return list(
        session.scalars(
            select(PlaybookFiring)
            .where(PlaybookFiring.playbook == name)
            .order_by(PlaybookFiring.day, PlaybookFiring.account_id)
        )
    )
