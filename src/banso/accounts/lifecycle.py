"""The lifecycle stage of an account and its history (one interval per stretch in a stage).

``accounts.lifecycle_stage`` is the current stage; :func:`record_stages` is the one way to change
it, so the history never misses a change: the daily rules (``banso.lifecycle``), a playbook's
``set_field`` action and an accounts import all call it. Intervals are ``[started_on, ended_on)``
in company days; a change on the day an interval started replaces that interval's stage (a day
holds one stage).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from banso.accounts.models import Account, LifecycleInterval
from banso.bulk import bulk_insert, bulk_update

CHUNK = 10_000


@dataclass(frozen=True)
class StageInterval:
    stage: str
    started_on: date
    ended_on: date | None
    source: str

    def days(self, today: date) -> int:
        """Days spent in the stage up to ``today`` (or its end)."""
        return ((self.ended_on or today) - self.started_on).days


def record_stages(
    session: Session, stages: Mapping[int, str | None], day: date, source: str
) -> int:
    """Set each account's stage (``{account_id: stage}``, None: no stage) from ``day`` on, closing
    its open interval and opening one for the new stage; accounts already in that stage are left
    alone. Returns how many accounts changed. Set-based: a few statements per 10,000 accounts."""
    ids = list(stages)
    changed = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        current = dict(
            session.execute(
                select(Account.id, Account.lifecycle_stage).where(Account.id.in_(chunk))
            ).all()
        )
        moving = {a: stages[a] for a in chunk if a in current and current[a] != stages[a]}
        if moving:
            _move(session, moving, day, source)
            changed += len(moving)
    return changed


def _move(session: Session, moving: dict[int, str | None], day: date, source: str) -> None:
    opened = session.execute(
        select(LifecycleInterval.id, LifecycleInterval.account_id, LifecycleInterval.started_on)
        .where(LifecycleInterval.account_id.in_(list(moving)))
        .where(LifecycleInterval.ended_on.is_(None))
    ).all()
    same_day = {row.id: row.account_id for row in opened if row.started_on >= day}
    reopen: list[dict[str, Any]] = []
    reopened: set[int] = set()
    if same_day:
        session.execute(
            LifecycleInterval.__table__.delete().where(LifecycleInterval.id.in_(list(same_day)))
        )
        # back to the stage it left that very day: the earlier interval simply goes on
        for interval_id, account_id, stage in session.execute(
            select(LifecycleInterval.id, LifecycleInterval.account_id, LifecycleInterval.stage)
            .where(LifecycleInterval.account_id.in_(list(same_day.values())))
            .where(LifecycleInterval.ended_on == day)
        ):
            if moving[account_id] == stage:
                reopen.append({"id": interval_id, "ended_on": None})
                reopened.add(account_id)
    closing = [{"id": row.id, "ended_on": day} for row in opened if row.id not in same_day]
    bulk_update(session, LifecycleInterval.__table__, closing + reopen)
    bulk_insert(
        session,
        LifecycleInterval.__table__,
        [
            {"account_id": a, "stage": stage, "started_on": day, "ended_on": None,
             "source": source[:100]}
            for a, stage in moving.items()
            if stage is not None and a not in reopened
        ],
    )  # fmt: skip
    by_stage: dict[str | None, list[int]] = {}
    for a, stage in moving.items():
        by_stage.setdefault(stage, []).append(a)
    for stage, accounts in by_stage.items():
        session.execute(
            update(Account)
            .where(Account.id.in_(accounts))
            # the history says when the stage changed; updated_at stays the time the account's
            # own facts last changed (and a demo world stays the same from run to run)
            .values(lifecycle_stage=stage, updated_at=Account.updated_at)
            .execution_options(synchronize_session=False)
        )
    # accounts already loaded in the session see their new stage without a reload
    for obj in session.identity_map.values():
        if isinstance(obj, Account) and obj.id in moving:
            set_committed_value(obj, "lifecycle_stage", moving[obj.id])


def history(session: Session, account_id: int) -> list[StageInterval]:
    """The account's stage intervals, oldest first."""
    rows = session.scalars(
        select(LifecycleInterval)
        .where(LifecycleInterval.account_id == account_id)
        .order_by(LifecycleInterval.started_on, LifecycleInterval.id)
    )
    return [StageInterval(r.stage, r.started_on, r.ended_on, r.source) for r in rows]


def current_interval(session: Session, account_id: int) -> StageInterval | None:
    """The account's open interval (its current stage and since when), if it has one."""
    row = session.scalars(
        select(LifecycleInterval)
        .where(LifecycleInterval.account_id == account_id, LifecycleInterval.ended_on.is_(None))
        .order_by(LifecycleInterval.started_on.desc())
        .limit(1)
    ).first()
    return StageInterval(row.stage, row.started_on, row.ended_on, row.source) if row else None
