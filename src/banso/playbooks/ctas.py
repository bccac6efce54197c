"""CTAs (calls to action): open one per account, playbook and reason; update it on a repeat
trigger; assign, complete tasks, close with an outcome. Every change leaves a ``CtaEvent``.
``open_ctas`` lists the open ones (My tasks, the account 360)."""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.db import utcnow
from banso.errors import BansoError
from banso.i18n import _
from banso.playbooks.business_days import add_business_days
from banso.playbooks.models import CTA_OUTCOMES, AssignmentCursor, Cta, CtaEvent, CtaTask
from banso.team.models import TeamMember

OPEN_CTA_ROWS = 200
"""At most this many open CTAs are listed (My tasks, the account 360)."""


@dataclass(frozen=True)
class CtaSpec:
    """What a playbook's CTA action asks for, already in the message language."""

    playbook: str
    reason: str
    type: str
    priority: str
    title: str
    due_in_business_days: int
    tasks: tuple[tuple[str, int], ...]
    """``(title, due in business days)`` per task."""


def open_or_update(
    session: Session,
    account_id: int,
    day: date,
    spec: CtaSpec,
    owner_id: int | None,
    actor: str,
    trigger: dict[str, Any] | None = None,
) -> tuple[Cta, bool]:
    """The open CTA of (account, playbook, reason), created when there is none; returns it and
    whether it was created. A repeat trigger counts and is audited, never duplicated."""
    cta = session.scalars(
        select(Cta).where(
            Cta.account_id == account_id,
            Cta.playbook == spec.playbook,
            Cta.reason == spec.reason,
            Cta.status == "open",
        )
    ).first()
    if cta is not None:
        cta.last_triggered_on = max(cta.last_triggered_on, day)
        cta.trigger_count += 1
        _audit(session, cta, actor, "retriggered", {"day": day.isoformat(), "trigger": trigger})
        return cta, False
    cta = Cta(
        account_id=account_id,
        playbook=spec.playbook,
        reason=spec.reason,
        type=spec.type,
        priority=spec.priority,
        title=spec.title,
        status="open",
        owner_id=owner_id,
        due_date=add_business_days(day, spec.due_in_business_days),
        first_triggered_on=day,
        last_triggered_on=day,
        trigger_count=1,
    )
    session.add(cta)
    session.flush()
    for position, (title, due_in) in enumerate(spec.tasks, start=1):
        session.add(
            CtaTask(
                cta_id=cta.id,
                position=position,
                title=title,
                due_date=add_business_days(day, due_in),
            )
        )
    _audit(
        session,
        cta,
        actor,
        "created",
        {"day": day.isoformat(), "owner_id": owner_id, "trigger": trigger},
    )
    return cta, True


def close(session: Session, cta_id: int, outcome: str, actor: str, note: str | None = None) -> Cta:
    """Close an open CTA with one of ``CTA_OUTCOMES``."""
    if outcome not in CTA_OUTCOMES:
        raise BansoError(
            _(
                "Unknown outcome {outcome!r}; use one of: {known}.",
                outcome=outcome,
                known=", ".join(CTA_OUTCOMES),
            )
        )
    cta = _get(session, cta_id)
    if cta.status != "open":
        raise BansoError(_("CTA {id} is already closed.", id=cta_id))
    cta.status = "closed"
    cta.outcome = outcome
    cta.outcome_note = note
    cta.closed_at = utcnow()
    _audit(session, cta, actor, "closed", {"outcome": outcome, "note": note})
    return cta


def assign(session: Session, cta_id: int, member_email: str, actor: str) -> Cta:
    cta = _get(session, cta_id)
    member = member_by_email(session, member_email)
    before = cta.owner_id
    cta.owner_id = member.id
    _audit(session, cta, actor, "assigned", {"from": before, "to": member.id})
    return cta


def complete_task(session: Session, task_id: int, actor: str) -> CtaTask:
    task = session.get(CtaTask, task_id)
    if task is None:
        raise BansoError(_("No task {id}.", id=task_id))
    if task.done_at is None:
        task.done_at = utcnow()
        task.done_by = actor
        cta = _get(session, task.cta_id)
        _audit(session, cta, actor, "task_done", {"task_id": task.id, "title": task.title})
    return task


def member_by_email(session: Session, email: str) -> TeamMember:
    member = session.scalars(select(TeamMember).where(TeamMember.email == email)).first()
    if member is None:
        raise BansoError(_("No team member with email {email}.", email=email))
    return member


def next_in_rotation(session: Session, team: str) -> int:
    """The member of ``team`` after the one who got the previous CTA (by member id, wrapping);
    the cursor row is locked on PostgreSQL so concurrent runs do not hand out the same turn."""
    members = list(
        session.scalars(
            select(TeamMember.id).where(TeamMember.team == team).order_by(TeamMember.id)
        )
    )
    if not members:
        raise BansoError(_("Team {team!r} has no members to assign CTAs to.", team=team))
    pool = f"team:{team}"
    cursor = session.scalars(
        select(AssignmentCursor).where(AssignmentCursor.pool == pool).with_for_update()
    ).first()
    if cursor is None:
        cursor = AssignmentCursor(pool=pool, last_member_id=None)
        session.add(cursor)
    later = [m for m in members if cursor.last_member_id is None or m > cursor.last_member_id]
    chosen = later[0] if later else members[0]
    cursor.last_member_id = chosen
    return chosen


def events(session: Session, cta_id: int) -> list[CtaEvent]:
    return list(
        session.scalars(select(CtaEvent).where(CtaEvent.cta_id == cta_id).order_by(CtaEvent.id))
    )


def _get(session: Session, cta_id: int) -> Cta:
    cta = session.get(Cta, cta_id)
    if cta is None:
        raise BansoError(_("No CTA {id}.", id=cta_id))
    return cta


def _audit(session: Session, cta: Cta, actor: str, action: str, detail: dict[str, Any]) -> None:
    session.add(
        CtaEvent(
            cta_id=cta.id,
            actor=actor,
            action=action,
            detail=json.dumps(detail, ensure_ascii=False, default=str),
        )
    )


@dataclass(frozen=True)
class CtaRow:
    id: int
    account_id: int
    account: str
    title: str
    priority: str
    due_date: date
    owner: str | None
    tasks: list[tuple[str, bool]]
    """(title, done) of each step, in order."""


def open_ctas(
    session: Session,
    *,
    owner_id: int | None = None,
    account_id: int | None = None,
    limit: int = OPEN_CTA_ROWS,
) -> list[CtaRow]:
    """Open CTAs by due date (of one owner or one account when given), with their steps."""
    query = (
        select(Cta, Account.name, TeamMember.name)
        .join(Account, Account.id == Cta.account_id)
        .outerjoin(TeamMember, TeamMember.id == Cta.owner_id)
        .where(Cta.status == "open")
        .order_by(Cta.due_date, Cta.id)
        .limit(limit)
    )
    if owner_id is not None:
        query = query.where(Cta.owner_id == owner_id)
    if account_id is not None:
        query = query.where(Cta.account_id == account_id)
    found = session.execute(query).all()
    steps: dict[int, list[tuple[str, bool]]] = {}
    if found:
        for task in session.scalars(
            select(CtaTask)
            .where(CtaTask.cta_id.in_([c.id for c, _a, _o in found]))
            .order_by(CtaTask.cta_id, CtaTask.position)
        ):
            steps.setdefault(task.cta_id, []).append((task.title, task.done_at is not None))
    return [
        CtaRow(
            c.id, c.account_id, account, c.title, c.priority, c.due_date, owner, steps.get(c.id, [])
        )  # fmt: skip
        for c, account, owner in found
    ]


@dataclass(frozen=True)
class NextCta:
    """An account's most urgent open CTA (earliest due) and how many it has open."""

    id: int
    title: str
    due_date: date
    open_count: int


def next_open_ctas(session: Session, account_ids: Collection[int]) -> dict[int, NextCta]:
    """Per account of ``account_ids`` with an open CTA, the one due first (then the oldest), for
    the accounts list and My book; accounts without one are absent."""
    if not account_ids:
        return {}
    rows = session.execute(
        select(Cta.id, Cta.account_id, Cta.title, Cta.due_date)
        .where(Cta.account_id.in_(list(account_ids)), Cta.status == "open")
        .order_by(Cta.account_id, Cta.due_date, Cta.id)
    ).all()
    found: dict[int, NextCta] = {}
    counts: dict[int, int] = {}
    for cta_id, account_id, title, due in rows:
        counts[account_id] = counts.get(account_id, 0) + 1
        if account_id not in found:
            found[account_id] = NextCta(cta_id, title, due, 0)
    return {a: NextCta(c.id, c.title, c.due_date, counts[a]) for a, c in found.items()}


@dataclass(frozen=True)
class TaskDue:
    """A step of an open CTA, not done, due on or before a day."""

    id: int
    title: str
    due_date: date
    cta_id: int
    cta_title: str
    account_id: int
    account: str


def tasks_due(
    session: Session, owner_id: int, by: date, *, limit: int = OPEN_CTA_ROWS
) -> list[TaskDue]:
    """The steps not done of ``owner_id``'s open CTAs that are due on or before ``by`` (overdue
    first), at most ``limit``."""
    rows = session.execute(
        select(CtaTask, Cta.title, Cta.account_id, Account.name)
        .join(Cta, Cta.id == CtaTask.cta_id)
        .join(Account, Account.id == Cta.account_id)
        .where(
            Cta.owner_id == owner_id,
            Cta.status == "open",
            CtaTask.done_at.is_(None),
            CtaTask.due_date <= by,
        )
        .order_by(CtaTask.due_date, CtaTask.cta_id, CtaTask.position)
        .limit(limit)
    ).all()
    return [
        TaskDue(t.id, t.title, t.due_date, t.cta_id, title, account_id, account)
        for t, title, account_id, account in rows
    ]
