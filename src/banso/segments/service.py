"""Segments for the CLI, the daily run and the web: evaluate a day, keep the membership
history, derive each account's touch model and tier, and manual overrides.

History is kept as intervals (``segment_memberships``): an account's segment changes a few
times a year, so a row per change instead of a row per account and day (36 million a year at
100,000 accounts). Boundaries are evaluated days (``segment_evaluations``); between two
evaluations the earlier one's segment holds. Evaluating a day already in the past re-splices
only the days up to the next evaluated day.

The account's ``segment``, ``touch_model``, ``tier`` (with ``touch_source``, ``touch_reason``,
``touch_since``) are set from the newest evaluated day: an active override wins, else the
segment's mapping in ``segments.yaml``. Each change of touch model or tier is an audit entry
(``account.touch``). Services do not commit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pyarrow as pa
from sqlalchemy import Table, and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from banso import dates
from banso.accounts.models import TOUCH_MODELS, TRIAGE_RATINGS, Account
from banso.audit import service as audit
from banso.audit.models import AuditEntry
from banso.bulk import bulk_insert, bulk_update
from banso.config import get_settings
from banso.db import utcnow
from banso.errors import BansoError, NotFound
from banso.health.scorecard import load_scorecards
from banso.i18n import _
from banso.revenue.contracts import minor_exponent
from banso.segments.assign import assign_segments
from banso.segments.config import RuleSet, load_rule_set, segments_path
from banso.segments.models import SegmentEvaluation, SegmentMembership, TouchOverride
from banso.team.models import TeamMember

Progress = Callable[[str], None]


def rule_set() -> RuleSet:
    """The rule set in use (the user's ``segments.yaml`` or the packaged one), checked against
    the scorecards' bands and with money in the reporting currency's minor units."""
    config = get_settings().config_path
    bands = {b.name for card in load_scorecards(config) for b in card.bands}
    exponent = minor_exponent(get_settings().reporting_currency)
    return load_rule_set(segments_path(), bands, exponent)


@dataclass
class SegmentCount:
    segment: str
    accounts: int
    mrr: int
    """Σ MRR of the members on the day, minor units of the reporting currency."""


@dataclass
class Evaluation:
    day: date
    counts: list[SegmentCount]
    changed: int
    """Accounts whose segment on the day differs from what the history held (new included)."""
    touch_changed: int = 0
    """Accounts whose touch model or tier changed (0 when the day is not the newest)."""
    written: bool = True


def evaluate(
    session: Session, day: date, *, write: bool = True, rules: RuleSet | None = None
) -> Evaluation:
    """Segments of every account on ``day``; with ``write``, the membership history spliced and,
    when ``day`` is the newest evaluated day, the accounts' segment, touch model and tier set."""
    rules = rules or rule_set()
    assignment = assign_segments(session, rules, day)
    counts = _counts(rules, assignment)
    if not write:
        current = memberships_on(session, day)
        segments = assignment.column("segment").to_pylist()
        ids = assignment.column("account_id").to_pylist()
        changed = sum(1 for a, s in zip(ids, segments, strict=True) if current.get(a) != s)
        return Evaluation(day, counts, changed, written=False)
    wanted = dict(
        zip(
            assignment.column("account_id").to_pylist(),
            assignment.column("segment").to_pylist(),
            strict=True,
        )
    )
    changed = _splice(session, day, wanted)
    _record_day(session, day, rules, len(wanted), changed, counts)
    touch_changed = 0
    newest = session.scalar(select(func.max(SegmentEvaluation.day)))
    if newest == day:
        touch_changed = apply_touch(session, day, wanted, rules)
    return Evaluation(day, counts, changed, touch_changed)


def _counts(rules: RuleSet, assignment: pa.Table) -> list[SegmentCount]:
    per: dict[str, list[int]] = {name: [0, 0] for name in rules.segments}
    for segment, mrr in zip(
        assignment.column("segment").to_pylist(),
        assignment.column("mrr").to_pylist(),
        strict=True,
    ):
        per[segment][0] += 1
        per[segment][1] += mrr
    return [SegmentCount(name, n, mrr) for name, (n, mrr) in per.items()]


# ---------------------------------------------------------------- history


def memberships_on(session: Session, day: date) -> dict[int, str]:
    """Every account's segment on ``day`` by the history (absent: not yet evaluated)."""
    m = SegmentMembership
    rows = session.execute(select(m.account_id, m.segment).where(_covers(day))).all()
    return {a: s for a, s in rows}


def _covers(day: date) -> Any:
    m = SegmentMembership
    return and_(m.start_date <= day, or_(m.end_date.is_(None), m.end_date > day))


def _splice(session: Session, day: date, wanted: dict[int, str]) -> int:
    """Make the history say ``wanted[account]`` from ``day`` until the next evaluated day;
    returns how many accounts' segment on ``day`` changed."""
    table: Table = SegmentMembership.__table__  # type: ignore[assignment]
    m = SegmentMembership
    after = session.scalar(
        select(func.min(SegmentEvaluation.day)).where(SegmentEvaluation.day > day)
    )
    covering = {
        r.account_id: r
        for r in session.execute(
            select(m.id, m.account_id, m.segment, m.start_date, m.end_date).where(_covers(day))
        )
    }
    inserts: list[dict[str, Any]] = []
    truncated: list[dict[str, Any]] = []
    removed: list[int] = []
    touched: list[int] = []
    changed = 0
    for account_id, segment in wanted.items():
        old = covering.get(account_id)
        if old is not None and old.segment == segment:
            continue
        changed += 1
        end = after
        if old is not None:
            touched.append(account_id)
            if old.start_date == day:
                removed.append(old.id)
            else:
                truncated.append({"id": old.id, "end_date": day})
            if after is None:
                end = old.end_date
            elif old.end_date is None or old.end_date > after:
                inserts.append(_interval(account_id, old.segment, after, old.end_date))
        elif after is not None:
            touched.append(account_id)
        inserts.append(_interval(account_id, segment, day, end))
    for start in range(0, len(removed), 10_000):
        session.execute(delete(table).where(table.c.id.in_(removed[start : start + 10_000])))
    bulk_update(session, table, truncated)
    bulk_insert(session, table, inserts)
    _join_neighbours(session, touched)
    return changed


def _interval(account_id: int, segment: str, start: date, end: date | None) -> dict[str, Any]:
    return {"account_id": account_id, "segment": segment, "start_date": start, "end_date": end}


def _join_neighbours(session: Session, accounts: list[int]) -> None:
    """Merge an account's adjacent intervals of the same segment into one."""
    table: Table = SegmentMembership.__table__  # type: ignore[assignment]
    m = SegmentMembership
    for start in range(0, len(accounts), 5_000):
        part = accounts[start : start + 5_000]
        rows = session.execute(
            select(m.id, m.account_id, m.segment, m.start_date, m.end_date)
            .where(m.account_id.in_(part))
            .order_by(m.account_id, m.start_date)
        ).all()
        kept: tuple[int, int, str, date | None] | None = None  # id, account, segment, end
        for row_id, account_id, segment, start_date, end_date in rows:
            if kept is not None and kept[1:] == (account_id, segment, start_date):
                session.execute(
                    update(table).where(table.c.id == kept[0]).values(end_date=end_date)
                )
                session.execute(delete(table).where(table.c.id == row_id))
                kept = (kept[0], account_id, segment, end_date)
                continue
            kept = (row_id, account_id, segment, end_date)


def _record_day(
    session: Session,
    day: date,
    rules: RuleSet,
    accounts: int,
    changed: int,
    counts: list[SegmentCount],
) -> None:
    fingerprint = hashlib.sha256(rules.path.read_bytes()).hexdigest()
    summary = json.dumps({c.segment: [c.accounts, c.mrr] for c in counts}, sort_keys=True)
    found = session.get(SegmentEvaluation, day)
    if found is None:
        session.add(
            SegmentEvaluation(
                day=day, fingerprint=fingerprint, accounts=accounts, changed=changed,
                summary=summary,
            )
        )  # fmt: skip
    else:
        found.fingerprint, found.accounts, found.changed = fingerprint, accounts, changed
        found.summary, found.evaluated_at = summary, utcnow()
    session.flush()


def evaluated_days(session: Session) -> list[date]:
    return list(session.scalars(select(SegmentEvaluation.day).order_by(SegmentEvaluation.day)))


def latest_day(session: Session) -> date | None:
    return session.scalar(select(func.max(SegmentEvaluation.day)))


def counts_on(session: Session, day: date | None = None) -> tuple[date, list[SegmentCount]] | None:
    """Accounts and MRR per segment as evaluated on ``day`` (default: the newest evaluated
    day); None when no day has been evaluated."""
    day = day or latest_day(session)
    found = session.get(SegmentEvaluation, day) if day else None
    if found is None or day is None:
        return None
    summary = json.loads(found.summary or "{}")
    return day, [SegmentCount(s, n, mrr) for s, (n, mrr) in summary.items()]


def membership_periods(session: Session) -> dict[int, list[tuple[date, date | None, str]]]:
    """Every account's segment intervals ``(start, end exclusive or None, segment)``, for readers
    that place many (account, day) pairs at once (one query instead of one per pair)."""
    m = SegmentMembership
    out: dict[int, list[tuple[date, date | None, str]]] = {}
    for account_id, start, end, segment in session.execute(
        select(m.account_id, m.start_date, m.end_date, m.segment).order_by(m.start_date)
    ):
        out.setdefault(account_id, []).append((start, end, segment))
    return out


def membership_on(session: Session, account_id: int, day: date) -> str | None:
    """The account's segment on ``day`` by the history (None before its first evaluation)."""
    m = SegmentMembership
    return session.scalar(select(m.segment).where(m.account_id == account_id, _covers(day)))


def account_history(session: Session, account_id: int) -> list[dict[str, Any]]:
    """The account's segment intervals, oldest first: segment, start, end (blank: ongoing)."""
    m = SegmentMembership
    rows = session.execute(
        select(m.segment, m.start_date, m.end_date)
        .where(m.account_id == account_id)
        .order_by(m.start_date)
    ).all()
    return [{"segment": s, "start": a, "end": b} for s, a, b in rows]


@dataclass
class Member:
    account_id: int
    name: str
    touch_model: str | None
    tier: str | None
    touch_source: str | None
    owner: str | None
    since: date


def members(
    session: Session, segment: str, day: date | None = None, *, limit: int = 200, offset: int = 0
) -> tuple[int, list[Member]]:
    """The accounts in ``segment`` on ``day`` (default: the newest evaluated day), by name:
    the total and one page."""
    day = day or latest_day(session)
    if day is None:
        return 0, []
    m = SegmentMembership
    where = and_(m.segment == segment, _covers(day))
    total = session.scalar(select(func.count()).select_from(m).where(where)) or 0
    rows = session.execute(
        select(
            Account.id, Account.name, Account.touch_model, Account.tier, Account.touch_source,
            TeamMember.name, m.start_date,
        )
        .join(Account, Account.id == m.account_id)
        .outerjoin(TeamMember, TeamMember.id == Account.owner_id)
        .where(where)
        .order_by(Account.normalized_name, Account.id)
        .limit(limit)
        .offset(offset)
    ).all()  # fmt: skip
    return total, [Member(*r) for r in rows]


# ---------------------------------------------------------------- touch model and tier


def apply_touch(session: Session, day: date, segments: dict[int, str], rules: RuleSet) -> int:
    """Set each account's segment, touch model and tier for ``day`` (the newest evaluated day):
    an override active that day wins, else the segment's mapping. Audits each change of touch
    model or tier; returns how many accounts' touch model or tier changed."""
    overrides = _active_overrides(session, day)
    rows = session.execute(
        select(
            Account.id, Account.segment, Account.touch_model, Account.tier,
            Account.touch_source, Account.touch_reason,
        )
    ).all()  # fmt: skip
    updates: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    actor = audit.current_actor()
    now = utcnow()
    for account_id, segment, touch, tier, source, reason in rows:
        new_segment = segments.get(account_id)
        if new_segment is None:
            continue
        wanted = _wanted_touch(rules, new_segment, overrides.get(account_id))
        if segment == new_segment and (touch, tier, source, reason) == wanted:
            continue
        row = {
            "id": account_id,
            "segment": new_segment,
            "touch_model": wanted[0],
            "tier": wanted[1],
            "touch_source": wanted[2],
            "touch_reason": wanted[3],
            "touch_since": day,
        }
        if (touch, tier) == wanted[:2]:
            row["touch_since"] = None  # keep the day it took effect: only the reason moved
        updates.append(row)
        if (touch, tier) != wanted[:2]:
            entries.append(
                {
                    "at": now,
                    "actor": (actor.name or "anonymous")[:320],
                    "action": "account.touch",
                    "target": f"account:{account_id}",
                    "detail": json.dumps(
                        {
                            "day": day.isoformat(),
                            "from": {"touch_model": touch, "tier": tier},
                            "to": {"touch_model": wanted[0], "tier": wanted[1]},
                            "source": wanted[2],
                            "reason": wanted[3],
                        },
                        ensure_ascii=False,
                        sort_keys=True,
                    ),
                    "address": actor.address,
                }
            )
    _write_accounts(session, updates)
    bulk_insert(session, AuditEntry.__table__, entries)  # type: ignore[arg-type]
    return len(entries)


def _write_accounts(session: Session, updates: list[dict[str, Any]]) -> None:
    table: Table = Account.__table__  # type: ignore[assignment]
    with_day = [r for r in updates if r["touch_since"] is not None]
    without = [{k: v for k, v in r.items() if k != "touch_since"} for r in updates
               if r["touch_since"] is None]  # fmt: skip
    bulk_update(session, table, with_day)
    bulk_update(session, table, without)


def _wanted_touch(
    rules: RuleSet, segment: str, override: TouchOverride | None
) -> tuple[str | None, str | None, str, str]:
    mapped = rules.segments[segment]
    if override is not None:
        return (override.touch_model, override.tier or mapped.tier, "override", override.reason)
    return (mapped.touch_model, mapped.tier, "segment", segment)


def _active_overrides(session: Session, day: date) -> dict[int, TouchOverride]:
    o = TouchOverride
    found = session.scalars(
        select(o)
        .where(o.ended_at.is_(None), o.starts_on <= day, o.expires_on >= day)
        .order_by(o.created_at, o.id)
    )
    return {row.account_id: row for row in found}


def set_override(
    session: Session,
    account_id: int,
    touch_model: str,
    reason: str,
    expires_on: date,
    *,
    tier: str | None = None,
    starts_on: date | None = None,
) -> TouchOverride:
    """Serve ``account_id`` with ``touch_model`` (and ``tier``) from ``starts_on`` (default
    today) through ``expires_on``, whatever its segment says; ends an earlier override of the
    account; audited (``account.touch_override``). The account's fields change at once when
    the override is in force today; when it expires, the next evaluation puts the segment's
    back."""
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(_("No account with id {id}.", id=account_id))
    if touch_model not in TOUCH_MODELS:
        raise BansoError(
            _(
                "Unknown touch model {value}; choose one of {choices}.",
                value=touch_model,
                choices=", ".join(TOUCH_MODELS),
            )
        )
    reason = reason.strip()
    if not reason:
        raise BansoError(_("Give the reason for the override."))
    today = dates.today()
    starts_on = starts_on or today
    if expires_on < starts_on or expires_on < today:
        raise BansoError(
            _("The override must expire on or after {day}.", day=max(starts_on, today))
        )
    tier = (tier or "").strip() or None
    if tier is not None and len(tier) > 32:
        raise BansoError(_("A tier is at most 32 characters."))
    now = utcnow()
    session.execute(
        update(TouchOverride)
        .where(TouchOverride.account_id == account_id, TouchOverride.ended_at.is_(None))
        .values(ended_at=now)
    )
    actor = audit.current_actor().name
    override = TouchOverride(
        account_id=account_id, touch_model=touch_model, tier=tier, reason=reason[:2000],
        starts_on=starts_on, expires_on=expires_on, set_by=actor,
    )  # fmt: skip
    session.add(override)
    audit.record(
        session,
        "account.touch_override",
        f"account:{account_id}",
        touch_model=touch_model,
        tier=tier,
        reason=reason,
        starts_on=starts_on.isoformat(),
        expires_on=expires_on.isoformat(),
    )
    if starts_on <= today:
        _apply_one(session, account, today, (touch_model, tier or account.tier, "override", reason))
    session.flush()
    return override


def clear_override(session: Session, account_id: int) -> bool:
    """End the account's override now (audited); the segment's touch model and tier apply
    again at once. False when it had none."""
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(_("No account with id {id}.", id=account_id))
    ended = session.execute(
        update(TouchOverride)
        .where(TouchOverride.account_id == account_id, TouchOverride.ended_at.is_(None))
        .values(ended_at=utcnow())
    ).rowcount
    if not ended:
        return False
    audit.record(session, "account.touch_override_clear", f"account:{account_id}")
    if account.segment is not None and account.touch_source == "override":
        rules = rule_set()
        if account.segment in rules.segments:
            mapped = rules.segments[account.segment]
            _apply_one(
                session, account, dates.today(),
                (mapped.touch_model, mapped.tier, "segment", account.segment),
            )  # fmt: skip
    session.flush()
    return True


def current_override(
    session: Session, account_id: int, day: date | None = None
) -> TouchOverride | None:
    """The override in force for the account on ``day`` (default today), if any."""
    day = day or dates.today()
    o = TouchOverride
    return session.scalars(
        select(o)
        .where(
            o.account_id == account_id, o.ended_at.is_(None), o.starts_on <= day,
            o.expires_on >= day,
        )
        .order_by(o.created_at.desc(), o.id.desc())
        .limit(1)
    ).first()  # fmt: skip


def _apply_one(
    session: Session,
    account: Account,
    day: date,
    wanted: tuple[str | None, str | None, str, str],
) -> None:
    before = (account.touch_model, account.tier)
    account.touch_model, account.tier, account.touch_source, account.touch_reason = wanted
    if before != wanted[:2]:
        account.touch_since = day
        audit.record(
            session,
            "account.touch",
            f"account:{account.id}",
            day=day.isoformat(),
            source=wanted[2],
            reason=wanted[3],
            **{
                "from": {"touch_model": before[0], "tier": before[1]},
                "to": {"touch_model": wanted[0], "tier": wanted[1]},
            },
        )


# ---------------------------------------------------------------- triage ratings


def set_ratings(
    session: Session, account_id: int, *, it_literacy: int | None, motivation: int | None
) -> Account:
    """Set the account's triage ratings (1-5, None clears one); audited
    (``account.triage``) when they change. The segment follows at the next evaluation."""
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(_("No account with id {id}.", id=account_id))
    for value in (it_literacy, motivation):
        if value is not None and value not in TRIAGE_RATINGS:
            raise BansoError(_("A rating is a whole number from 1 to 5."))
    before = {"it_literacy": account.it_literacy, "motivation": account.motivation}
    after = {"it_literacy": it_literacy, "motivation": motivation}
    if before != after:
        account.it_literacy, account.motivation = it_literacy, motivation
        audit.record(
            session, "account.triage", f"account:{account_id}", **{"from": before, "to": after}
        )
        session.flush()
    return account
