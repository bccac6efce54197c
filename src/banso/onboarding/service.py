"""Onboarding progress: enrol new customers in their segment's programme, complete milestones
whose rule is met, tick manual ones, and answer what the 360, the board and the triggers ask.

- **Enrolment.** A customer on day D whose first paid line (``revenue.contracts``) started at most
  ``enrol_within_days`` before D and who has no milestones yet gets its programme's milestones,
  each due ``due_business_days`` business days (``banso.business_days``) after that start.
- **Rules.** An event rule is met on the first day d >= the contract start on which at least
  ``users`` distinct users did the event in the ``within_days`` days ending on d (company days);
  an activity rule on the company day of the first activity of that kind on or after the start.
  Events are read through ``usage.store``; the evaluation is set-based (one DuckDB query per
  distinct event rule).
- **Programme complete** when every milestone is; **overdue** while open past its due day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from banso.accounts.models import Account
from banso.activities.models import Activity
from banso.audit import service as audit
from banso.bulk import bulk_insert, bulk_update
from banso.business_days import add_business_days
from banso.config import get_settings
from banso.errors import BansoError, NotFound
from banso.i18n import _
from banso.onboarding.config import EventRule, OnboardingFile, Programme, load_programmes
from banso.onboarding.models import OnboardingMilestone
from banso.revenue import contracts
from banso.usage import store as event_store

M = OnboardingMilestone
CHUNK = 10_000


@dataclass
class OnboardingRun:
    """What one evaluation did."""

    enrolled: int = 0
    completed: int = 0


def account_segments(session: Session, account_ids: Iterable[int]) -> dict[int, str | None]:
    """The segment each account's programme is chosen by. The one place onboarding asks for a
    segment: today the account's ``segment`` field; point it at the segments module when there
    is one."""
    ids = list(account_ids)
    out: dict[int, str | None] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        out.update(
            session.execute(select(Account.id, Account.segment).where(Account.id.in_(chunk))).all()
        )
    return out


def evaluate(
    session: Session,
    day: date,
    *,
    programmes: OnboardingFile | None = None,
    event_root: Path | None = None,
) -> OnboardingRun:
    """The daily step: enrol the new customers of ``day``, then complete the milestones whose
    rule was met by ``day``."""
    programmes = programmes or load_programmes()
    run = OnboardingRun()
    run.enrolled = enrol_new_customers(session, day, programmes)
    run.completed = complete_by_rules(session, day, event_root=event_root)
    return run


def enrol_new_customers(session: Session, day: date, programmes: OnboardingFile) -> int:
    """Give each new customer without milestones its programme; returns how many were enrolled."""
    firsts = contracts.first_paid_starts_sql().subquery()
    customers = (
        select(contracts.Subscription.account_id)
        .where(contracts.Subscription.amount > 0, contracts.active_sql(day))
        .distinct()
    )
    enrolled = select(M.account_id).distinct()
    rows = session.execute(
        select(firsts.c.account_id, firsts.c.first_start)
        .where(firsts.c.first_start <= day)
        .where(firsts.c.first_start >= day - timedelta(days=programmes.enrol_within_days))
        .where(firsts.c.account_id.in_(customers))
        .where(firsts.c.account_id.not_in(enrolled))
    ).all()
    if not rows:
        return 0
    segments = account_segments(session, [r.account_id for r in rows])
    due_cache: dict[tuple[date, int], date] = {}
    inserts: list[dict[str, Any]] = []
    now = datetime.now(UTC)
    count = 0
    for account_id, start in rows:
        programme = programmes.for_segment(segments.get(account_id))
        if programme is None:
            continue
        count += 1
        inserts += _milestone_rows(account_id, start, programme, due_cache, now)
    bulk_insert(session, M.__table__, inserts)
    return count


def enrol(session: Session, account_id: int, start: date, programme: Programme) -> None:
    """Enrol one account in ``programme`` from ``start`` (tests, the demo)."""
    bulk_insert(
        session, M.__table__, _milestone_rows(account_id, start, programme, {}, datetime.now(UTC))
    )


def _milestone_rows(
    account_id: int,
    start: date,
    programme: Programme,
    due_cache: dict[tuple[date, int], date],
    now: datetime,
) -> list[dict[str, Any]]:
    rows = []
    for position, m in enumerate(programme.milestones, start=1):
        key = (start, m.due_business_days)
        if key not in due_cache:
            due_cache[key] = add_business_days(start, m.due_business_days)
        rows.append(
            {
                "account_id": account_id, "programme": programme.name, "milestone": m.key,
                "position": position, "owner_side": m.owner, "rule": m.rule,
                "magic_moment": m.magic_moment, "contract_start": start,
                "due_on": due_cache[key], "completed_on": None, "completed_by": None,
                "updated_at": now,
            }
        )  # fmt: skip
    return rows


def complete_by_rules(session: Session, day: date, *, event_root: Path | None = None) -> int:
    """Complete the open event and activity milestones whose rule was met by ``day``."""
    programmes = load_programmes()
    open_rows = session.execute(
        select(M.id, M.account_id, M.programme, M.milestone, M.rule, M.contract_start).where(
            M.completed_on.is_(None), M.rule.in_(("event", "activity")), M.contract_start <= day
        )
    ).all()
    if not open_rows:
        return 0
    by_rule: dict[Any, list[Any]] = {}
    for row in open_rows:
        programme = programmes.programme(row.programme)
        milestone = (
            next((m for m in programme.milestones if m.key == row.milestone), None)
            if (programme)
            else None
        )
        if milestone is None or milestone.complete_when is None:
            continue  # the template no longer has it: it waits for a hand
        by_rule.setdefault(milestone.complete_when, []).append(row)
    updates: list[dict[str, Any]] = []
    engine = session.get_bind()
    for rule, rows in by_rule.items():
        starts = [(r.account_id, r.contract_start) for r in rows]
        if isinstance(rule, EventRule):
            met = event_rule_met(engine, rule, starts, day, event_root=event_root)
        else:
            met = activity_rule_met(session, rule.activity, starts, day)
        for r in rows:
            when = met.get(r.account_id)
            if when is not None:
                updates.append({"id": r.id, "completed_on": when, "completed_by": "rule",
                                "updated_at": datetime.now(UTC)})  # fmt: skip
    bulk_update(session, M.__table__, updates)
    return len(updates)


def event_rule_met(
    engine: Engine,
    rule: EventRule,
    starts: list[tuple[int, date]],
    day: date,
    *,
    event_root: Path | None = None,
) -> dict[int, date]:
    """``{account_id: first day the rule held}`` for the accounts (each from its own start up to
    ``day``) that met it; one set-based DuckDB query over the event store."""
    if not starts:
        return {}
    first = min(s for _a, s in starts)
    offset = _utc_offset(day)
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.register(
            "starts",
            pa.table({"account_id": pa.array([a for a, _s in starts], pa.int64()),
                      "start": pa.array([s for _a, s in starts], pa.date32())}),
        )  # fmt: skip
        lday = f"CAST(ts + to_seconds({offset}) AS DATE)"
        source = event_store.duckdb_source(
            con, first - timedelta(days=1), day + timedelta(days=1),
            f"account_id, user_id, event, {lday} AS lday",
            merges=event_store.merged_accounts(engine), root=event_root,
        )  # fmt: skip
        rows = con.execute(
            f"""
            WITH e AS (
                SELECT DISTINCT e.account_id, e.user_id, e.lday
                FROM {source} e JOIN starts s ON s.account_id = e.account_id
                WHERE e.event = $event AND e.lday >= s.start AND e.lday <= $day
                  AND e.user_id IS NOT NULL
            ),
            candidate AS (SELECT DISTINCT account_id, lday AS d FROM e),
            window_users AS (
                SELECT c.account_id, c.d, count(DISTINCT x.user_id) AS users
                FROM candidate c JOIN e x ON x.account_id = c.account_id
                 AND x.lday > c.d - $within AND x.lday <= c.d
                GROUP BY 1, 2
            )
            SELECT account_id, min(d) FROM window_users WHERE users >= $users GROUP BY 1
            """,
            {"event": rule.event, "day": day, "within": rule.within_days, "users": rule.users},
        ).fetchall()
    finally:
        con.close()
    return {int(a): d for a, d in rows}


def activity_rule_met(
    session: Session, kind: str, starts: list[tuple[int, date]], day: date
) -> dict[int, date]:
    """``{account_id: company day of the first activity of kind on or after its start}``."""
    zone = get_settings().tz
    start_of = dict(starts)
    met: dict[int, date] = {}
    ids = list(start_of)
    earliest = datetime.combine(min(start_of.values()), time(0), zone).astimezone(UTC)
    latest = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
    for begin in range(0, len(ids), CHUNK):
        chunk = ids[begin : begin + CHUNK]
        rows = session.execute(
            select(Activity.account_id, Activity.occurred_at)
            .where(Activity.account_id.in_(chunk), Activity.kind == kind)
            .where(Activity.occurred_at >= earliest, Activity.occurred_at < latest)
            .order_by(Activity.account_id, Activity.occurred_at)
        ).all()
        for account_id, occurred in rows:
            local = _aware(occurred).astimezone(zone).date()
            if account_id not in met and start_of[account_id] <= local <= day:
                met[account_id] = local
    return met


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _utc_offset(day: date) -> int:
    offset = datetime.combine(day, time(12), ZoneInfo(get_settings().timezone)).utcoffset()
    return int(offset.total_seconds()) if offset else 0


# ---------------------------------------------------------------------------------------------
# Manual completion


class MilestoneNotEditable(BansoError):
    """The milestone cannot be changed that way."""


def milestone_account(session: Session, milestone_id: int) -> Account:
    """The account a milestone belongs to (for the role check before a tick)."""
    row = session.get(M, milestone_id)
    if row is None:
        raise NotFound(_("No onboarding milestone {id}.", id=milestone_id))
    account = session.get(Account, row.account_id)
    assert account is not None
    return account


def set_milestone(
    session: Session, milestone_id: int, done: bool, day: date, actor: str
) -> OnboardingMilestone:
    """Tick (``done``) or untick a milestone by hand, audited. Unticking is for milestones
    ticked by hand; one completed by its rule stays completed (the rule would complete it again)."""
    row = session.get(M, milestone_id)
    if row is None:
        raise NotFound(_("No onboarding milestone {id}.", id=milestone_id))
    before = row.completed_on
    if done and row.completed_on is None:
        row.completed_on, row.completed_by = day, actor[:320]
    elif not done and row.completed_on is not None:
        if row.completed_by == "rule":
            raise MilestoneNotEditable(
                _("This milestone was completed by its rule; it cannot be unticked.")
            )
        row.completed_on, row.completed_by = None, None
    if row.completed_on != before:
        audit.record(
            session, "onboarding.milestone." + ("complete" if done else "reopen"),
            f"account:{row.account_id}", milestone=row.milestone, programme=row.programme,
            completed_on=row.completed_on,
        )  # fmt: skip
    session.flush()
    return row


# ---------------------------------------------------------------------------------------------
# Reading


@dataclass(frozen=True)
class MilestoneView:
    id: int
    account_id: int
    programme: str
    milestone: str
    label: str
    position: int
    owner_side: str
    rule: str
    magic_moment: bool
    contract_start: date
    due_on: date
    completed_on: date | None
    completed_by: str | None
    overdue: bool
    late: bool
    """Completed after its due day."""


def milestone_label(programme: str, milestone: str, language: str) -> str:
    """The milestone's name in ``language`` from the template in force (its key when gone)."""
    p = load_programmes().programme(programme)
    m = next((x for x in p.milestones if x.key == milestone), None) if p else None
    return m.label.get(language) if m else milestone


def programme_label(programme: str, language: str) -> str:
    p = load_programmes().programme(programme)
    return p.label.get(language) if p else programme


def account_milestones(
    session: Session, account_id: int, today: date, language: str
) -> list[MilestoneView]:
    """The account's milestones in programme order (empty when it has no programme)."""
    rows = session.scalars(select(M).where(M.account_id == account_id).order_by(M.position))
    return [_view(r, today, language) for r in rows]


def milestones_context(
    session: Session, account_id: int, today: date, language: str, can_edit: bool
) -> dict[str, Any]:
    """What the 360's milestone list shows (``_onboarding_milestones.html``)."""
    milestones = account_milestones(session, account_id, today, language)
    return {
        "milestones": milestones,
        "programme_label": programme_label(milestones[0].programme, language) if milestones else "",
        "can_edit": can_edit,
    }


def _view(r: OnboardingMilestone, today: date, language: str) -> MilestoneView:
    return MilestoneView(
        id=r.id, account_id=r.account_id, programme=r.programme, milestone=r.milestone,
        label=milestone_label(r.programme, r.milestone, language), position=r.position,
        owner_side=r.owner_side, rule=r.rule, magic_moment=r.magic_moment,
        contract_start=r.contract_start, due_on=r.due_on, completed_on=r.completed_on,
        completed_by=r.completed_by,
        overdue=r.completed_on is None and r.due_on < today,
        late=r.completed_on is not None and r.completed_on > r.due_on,
    )  # fmt: skip


def onboarding_accounts_sql(day: date) -> Select[Any]:
    """Ids of the accounts still in onboarding on ``day``: a milestone open on it."""
    return (
        select(M.account_id)
        .where(M.contract_start <= day, or_(M.completed_on.is_(None), M.completed_on > day))
        .distinct()
    )


def overdue_columns() -> list[Any]:
    """What the ``onboarding_overdue`` trigger reads (one row per milestone)."""
    return [M.account_id, M.milestone, M.due_on, M.completed_on]


@dataclass(frozen=True)
class BoardRow:
    account_id: int
    account_name: str
    segment: str | None
    owner_id: int | None
    programme: str
    milestone: str
    milestone_label: str
    due_on: date
    overdue: bool
    overdue_days: int
    done: int
    total: int
    contract_start: date


@dataclass(frozen=True)
class BoardFilter:
    owner_id: int | None = None
    segment: str = ""
    milestone: str = ""
    overdue_only: bool = False
    page: int = 1


@dataclass(frozen=True)
class BoardPage:
    rows: list[BoardRow]
    total: int
    page: int
    pages: int
    by_milestone: list[tuple[str, str, int, int]]
    """(key, label, accounts at it, of which overdue), in programme order."""


PAGE_SIZE = 50


def board(session: Session, today: date, flt: BoardFilter, language: str) -> BoardPage:
    """Accounts in onboarding at their first open milestone, overdue first (most overdue on
    top), then by due day; one page of 50 and the count per milestone. Accounts that have
    churned by ``today`` are left out (their programme stays in the report)."""
    first_open = (
        select(M.account_id, func.min(M.position).label("position"),
               func.count().label("open_count"))
        .where(M.completed_on.is_(None))
        .group_by(M.account_id)
        .subquery()
    )  # fmt: skip
    totals = select(M.account_id, func.count().label("total")).group_by(M.account_id).subquery()
    overdue = M.due_on < today
    stmt = (
        select(
            M.account_id, Account.name, Account.segment, Account.owner_id, M.programme,
            M.milestone, M.due_on, M.contract_start, first_open.c.open_count, totals.c.total,
        )
        .join(first_open, and_(first_open.c.account_id == M.account_id,
                               first_open.c.position == M.position))
        .join(totals, totals.c.account_id == M.account_id)
        .join(Account, Account.id == M.account_id)
        .where(M.account_id.not_in(contracts.churned_accounts_sql(today)))
    )  # fmt: skip
    if flt.owner_id is not None:
        stmt = stmt.where(Account.owner_id == flt.owner_id)
    if flt.segment:
        stmt = stmt.where(Account.segment == flt.segment)
    counts_stmt = stmt.with_only_columns(M.milestone, M.programme, M.position, overdue)
    if flt.milestone:
        stmt = stmt.where(M.milestone == flt.milestone)
    if flt.overdue_only:
        stmt = stmt.where(overdue)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    rows = session.execute(
        stmt.order_by(case((overdue, 0), else_=1), M.due_on, Account.name, M.account_id)
        .offset((flt.page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    tally: dict[str, list[Any]] = {}
    for key, programme, position, late in session.execute(counts_stmt):
        entry = tally.setdefault(key, [position, programme, 0, 0])
        entry[0] = min(entry[0], position)
        entry[2] += 1
        entry[3] += bool(late)
    by_milestone = [
        (key, milestone_label(v[1], key, language), v[2], v[3])
        for key, v in sorted(tally.items(), key=lambda kv: (kv[1][0], kv[0]))
    ]
    return BoardPage(
        rows=[
            BoardRow(
                account_id=r.account_id, account_name=r.name, segment=r.segment,
                owner_id=r.owner_id, programme=r.programme, milestone=r.milestone,
                milestone_label=milestone_label(r.programme, r.milestone, language),
                due_on=r.due_on, overdue=r.due_on < today,
                overdue_days=max(0, (today - r.due_on).days), done=r.total - r.open_count,
                total=r.total, contract_start=r.contract_start,
            )
            for r in rows
        ],
        total=total, page=flt.page, pages=pages, by_milestone=by_milestone,
    )  # fmt: skip
