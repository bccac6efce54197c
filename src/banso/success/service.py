"""Success plans: add objectives, change them, review them, read the plan with progress.

Plain functions over a ``Session``; they do not commit (the CLI command or request does). Every
write adds an entry to the objective's history (``success_objective_entries``: who, when, what
changed, the note) and to the audit log (``objective.create``, ``objective.update``,
``objective.review``).

Progress (docs/success-plans.md) is ``(current − baseline) / (target − baseline)`` clamped to
0–1, where ``current`` is, for a product metric, the measure's value read through
:mod:`banso.success.metric_values` (health snapshot, else the usage store) and, for a manual KPI,
the value the CSM entered last. Nothing is recomputed here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from banso.accounts.models import Account, Contact
from banso.audit.service import current_actor, record
from banso.dates import today as company_today
from banso.errors import BansoError, InvalidValue, NotFound
from banso.health.measures import MEASURES, format_measure, measure_label
from banso.i18n import _
from banso.success import handoff as handoffs
from banso.success.metric_values import CurrentValue, current_value, current_values
from banso.success.models import (
    OBJECTIVE_STATUSES,
    OPEN_STATUSES,
    ObjectiveEntry,
    SuccessObjective,
)
from banso.team.models import TeamMember

PAGE_SIZE = 50
MAX_TITLE = 500
MAX_NOTE = 10_000


# ---------------------------------------------------------------- progress


def progress(baseline: float, target: float, current: float | None) -> float | None:
    """How far ``current`` has moved from ``baseline`` to ``target``, 0–1 (6 decimals).

    ``(current − baseline) / (target − baseline)``, clamped to [0, 1]: a value beyond the
    target is 1, one that moved the wrong way is 0. It works both ways (a target below the
    baseline, such as fewer tickets, counts a fall as progress). None without a current value
    or when target equals baseline (no distance to cover; refused when written)."""
    if current is None or not math.isfinite(current) or target == baseline:
        return None
    ratio = (current - baseline) / (target - baseline)
    return round(min(1.0, max(0.0, ratio)), 6)


# ---------------------------------------------------------------- checks


def _status(status: str) -> str:
    if status not in OBJECTIVE_STATUSES:
        raise BansoError(
            _("Unknown status {status}; choose one of {choices}.", status=status,
              choices=", ".join(OBJECTIVE_STATUSES))
        )  # fmt: skip
    return status


def _measure(measure: str) -> str:
    if measure not in MEASURES:
        raise BansoError(
            _("Unknown measure {measure}; see banso health measures for the list.",
              measure=measure)
        )  # fmt: skip
    return measure


def _title(title: str) -> str:
    cleaned = " ".join(title.split())
    if not cleaned:
        raise BansoError(_("Give the objective in the customer's words (a title)."))
    if len(cleaned) > MAX_TITLE:
        raise BansoError(_("The title is longer than {n} characters.", n=MAX_TITLE))
    return cleaned


def not_a_number(name: str, text: str) -> str:
    return _("{name} must be a number (got {text}).", name=name, text=text)


def _number(value: float, name: str) -> float:
    if not math.isfinite(value):
        raise BansoError(_("{name} must be a finite number.", name=name))
    return float(value)


def _note(note: str | None) -> str | None:
    if note is None or not note.strip():
        return None
    if len(note) > MAX_NOTE:
        raise BansoError(_("The note is longer than {n} characters.", n=MAX_NOTE))
    return note.strip()


def get_account(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(_("No account with id {id}.", id=account_id))
    return account


def get(session: Session, objective_id: int) -> SuccessObjective:
    objective = session.get(SuccessObjective, objective_id)
    if objective is None:
        raise NotFound(_("No objective with id {id}.", id=objective_id))
    return objective


def member_by_email(session: Session, email: str) -> TeamMember:
    member = session.scalar(
        select(TeamMember).where(func.lower(TeamMember.email) == email.strip().lower())
    )
    if member is None:
        raise BansoError(_("No team member with email {email}.", email=email))
    return member


def _contact(session: Session, account_id: int, contact_id: int) -> int:
    contact = session.get(Contact, contact_id)
    if contact is None or contact.account_id != account_id:
        raise BansoError(
            _("Contact {id} is not a contact of account {account}.", id=contact_id,
              account=account_id)
        )  # fmt: skip
    return contact.id


# ---------------------------------------------------------------- writes


def add_objective(
    session: Session,
    account_id: int,
    title: str | None,
    *,
    target: float,
    measure: str | None = None,
    kpi: str | None = None,
    baseline: float | None = None,
    due_date: date | None = None,
    owner: str | None = None,
    contact_id: int | None = None,
    status: str = "not_started",
    from_handoff: bool = False,
    today: date | None = None,
) -> SuccessObjective:
    """Add an objective to the account's plan.

    Exactly one of ``measure`` (a product metric) and ``kpi`` (a manual KPI's name). The
    baseline defaults, for a metric, to its value today (refused when Banso has none). With
    ``from_handoff`` the title defaults to the handoff's promised outcome. Our owner defaults
    to the account's owner."""
    account = get_account(session, account_id)
    if (measure is None) == (kpi is None or not kpi.strip()):
        raise BansoError(_("Give either a measure (a product metric) or a KPI name, not both."))
    source = "manual"
    if from_handoff:
        promised = handoffs.promised_outcome(session, account.id)
        if promised is None:
            raise BansoError(
                _("Account {id} has no handoff with a promised outcome.", id=account.id)
            )
        title = title or promised
        source = "handoff"
    if measure is not None:
        _measure(measure)
        if baseline is None:
            now = current_value(account.id, measure, today)
            if now is None:
                raise BansoError(
                    _("Banso has no value of {measure} for this account yet; give a baseline.",
                      measure=measure)
                )  # fmt: skip
            baseline = now.value
    elif baseline is None:
        raise BansoError(_("A manual KPI needs a baseline."))
    baseline = _number(baseline, "baseline")
    target = _number(target, "target")
    if target == baseline:
        raise BansoError(_("The target must differ from the baseline ({value}).", value=baseline))
    objective = SuccessObjective(
        account_id=account.id,
        title=_title(title or ""),
        measure=measure,
        kpi_name=kpi.strip()[:200] if kpi else None,
        baseline=baseline,
        target=target,
        due_date=due_date,
        owner_id=member_by_email(session, owner).id if owner else account.owner_id,
        contact_id=_contact(session, account.id, contact_id) if contact_id else None,
        status=_status(status),
        source=source,
    )
    session.add(objective)
    session.flush()
    fields = _fields(objective)
    _entry(session, objective, "created", None, {k: {"from": None, "to": v} for k, v in
                                                 fields.items() if v is not None})  # fmt: skip
    record(session, "objective.create", f"objective:{objective.id}", objective=fields)
    return objective


EDITABLE = ("title", "baseline", "target", "due_date", "owner", "contact_id", "status", "value")


def update_objective(
    session: Session,
    objective_id: int,
    *,
    title: str | None = None,
    baseline: float | None = None,
    target: float | None = None,
    due_date: date | None = None,
    owner: str | None = None,
    contact_id: int | None = None,
    status: str | None = None,
    value: float | None = None,
    note: str | None = None,
    today: date | None = None,
    kind: str = "changed",
) -> SuccessObjective:
    """Change the given fields (``value``: a manual KPI's new current value, as of ``today``);
    the history keeps each change from → to and the note."""
    objective = get(session, objective_id)
    new: dict[str, Any] = {
        "title": _title(title) if title is not None else None,
        "baseline": _number(baseline, "baseline") if baseline is not None else None,
        "target": _number(target, "target") if target is not None else None,
        "due_date": due_date,
        "owner_id": member_by_email(session, owner).id if owner is not None else None,
        "contact_id": (
            _contact(session, objective.account_id, contact_id) if contact_id is not None else None
        ),
        "status": _status(status) if status is not None else None,
    }
    if value is not None:
        if objective.kpi_name is None:
            raise BansoError(
                _("Objective {id} is measured by {measure}; Banso reads its value, it is not "
                  "entered.", id=objective.id, measure=objective.measure)
            )  # fmt: skip
        new["kpi_value"] = _number(value, "value")
        new["kpi_value_on"] = today or _today()
    after_baseline = new["baseline"] if new["baseline"] is not None else objective.baseline
    after_target = new["target"] if new["target"] is not None else objective.target
    if after_baseline == after_target:
        raise BansoError(
            _("The target must differ from the baseline ({value}).", value=after_baseline)
        )
    changes: dict[str, dict[str, Any]] = {}
    for name, to in new.items():
        if to is not None and getattr(objective, name) != to:
            changes[name] = {"from": _plain(getattr(objective, name)), "to": _plain(to)}
            setattr(objective, name, to)
    cleaned = _note(note)
    if not changes and cleaned is None:
        return objective
    session.flush()
    _entry(session, objective, kind, cleaned, changes)
    action = "objective.review" if kind == "reviewed" else "objective.update"
    record(session, action, f"objective:{objective.id}", changes=changes, note=cleaned)
    return objective


def review(
    session: Session,
    objective_id: int,
    note: str,
    *,
    status: str | None = None,
    value: float | None = None,
    today: date | None = None,
) -> SuccessObjective:
    """A review: a note (required) and, when given, the new status and a manual KPI's value."""
    if _note(note) is None:
        raise BansoError(_("A review needs a note."))
    return update_objective(
        session, objective_id, status=status, value=value, note=note, today=today, kind="reviewed"
    )


def _entry(
    session: Session,
    objective: SuccessObjective,
    kind: str,
    note: str | None,
    changes: dict[str, Any],
) -> None:
    session.add(
        ObjectiveEntry(
            objective_id=objective.id,
            actor=(current_actor().name or "anonymous")[:320],
            kind=kind,
            status=objective.status,
            note=note,
            changes=json.dumps(changes, ensure_ascii=False, sort_keys=True) if changes else None,
        )
    )
    session.flush()


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _fields(o: SuccessObjective) -> dict[str, Any]:
    return {
        "account_id": o.account_id,
        "title": o.title,
        "measure": o.measure,
        "kpi_name": o.kpi_name,
        "baseline": o.baseline,
        "target": o.target,
        "due_date": _plain(o.due_date),
        "owner_id": o.owner_id,
        "contact_id": o.contact_id,
        "status": o.status,
        "source": o.source,
    }


def _today() -> date:
    return company_today()


# ---------------------------------------------------------------- reads


@dataclass
class HistoryEntry:
    at: datetime
    actor: str
    kind: str
    status: str
    note: str | None
    changes: dict[str, Any]


@dataclass
class ObjectiveView:
    """One objective as pages, the API and the CLI show it."""

    id: int
    account_id: int
    account_name: str
    title: str
    kind: str
    """metric or kpi."""
    measure: str | None
    kpi_name: str | None
    baseline: float
    target: float
    current: float | None
    current_on: date | None
    current_source: str | None
    """health (snapshot), usage (the event store), manual (entered), or None without a value."""
    progress: float | None
    due_date: date | None
    overdue: bool
    owner_id: int | None
    owner: str | None
    contact_id: int | None
    contact: str | None
    status: str
    source: str
    updated_at: datetime
    history: list[HistoryEntry] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out = {k: _plain(v) for k, v in self.__dict__.items() if k != "history"}
        out["updated_at"] = self.updated_at.isoformat()
        out["history"] = [{**h.__dict__, "at": h.at.isoformat()} for h in self.history]
        return out


@dataclass
class ObjectivePage:
    items: list[ObjectiveView]
    total: int
    page: int
    pages: int


@dataclass(frozen=True)
class ObjectiveFilter:
    account_id: int | None = None
    owner_id: int | None = None
    status: str | None = None
    """A status, or ``open`` for not_started, on_track and at_risk."""
    kind: str | None = None
    overdue: bool = False
    q: str = ""
    page: int = 1


def list_objectives(
    session: Session,
    flt: ObjectiveFilter,
    *,
    today: date | None = None,
    page_size: int = PAGE_SIZE,
    history: bool = False,
) -> ObjectivePage:
    """Objectives matching the filter, by due date (none last), then id; one page."""
    day = today or _today()
    query = select(SuccessObjective).join(Account, Account.id == SuccessObjective.account_id)
    if flt.account_id is not None:
        query = query.where(SuccessObjective.account_id == flt.account_id)
    if flt.owner_id is not None:
        query = query.where(SuccessObjective.owner_id == flt.owner_id)
    if flt.status == "open":
        query = query.where(SuccessObjective.status.in_(OPEN_STATUSES))
    elif flt.status:
        query = query.where(SuccessObjective.status == _status(flt.status))
    if flt.kind == "metric":
        query = query.where(SuccessObjective.measure.is_not(None))
    elif flt.kind == "kpi":
        query = query.where(SuccessObjective.kpi_name.is_not(None))
    elif flt.kind:
        raise InvalidValue("kind", _("Give metric or kpi."))
    if flt.overdue:
        query = query.where(
            SuccessObjective.due_date < day, SuccessObjective.status.in_(OPEN_STATUSES)
        )
    if flt.q.strip():
        pattern = f"%{flt.q.strip()}%"
        query = query.where(or_(SuccessObjective.title.ilike(pattern), Account.name.ilike(pattern)))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // page_size))
    rows = session.scalars(
        query.order_by(
            SuccessObjective.due_date.is_(None), SuccessObjective.due_date, SuccessObjective.id
        )
        .offset((flt.page - 1) * page_size)
        .limit(page_size)
    ).all()
    return ObjectivePage(views(session, list(rows), day, history=history), total, flt.page, pages)


def account_plan(
    session: Session, account_id: int, *, today: date | None = None
) -> list[ObjectiveView]:
    """Every objective of the account with its progress and history, open ones first, then by
    due date."""
    get_account(session, account_id)
    rows = session.scalars(
        select(SuccessObjective)
        .where(SuccessObjective.account_id == account_id)
        .order_by(
            SuccessObjective.due_date.is_(None), SuccessObjective.due_date, SuccessObjective.id
        )  # fmt: skip
    ).all()
    found = views(session, list(rows), today or _today(), history=True)
    return sorted(found, key=lambda v: v.status not in OPEN_STATUSES)


def one(session: Session, objective_id: int, *, today: date | None = None) -> ObjectiveView:
    return views(session, [get(session, objective_id)], today or _today(), history=True)[0]


def views(
    session: Session, rows: list[SuccessObjective], day: date, *, history: bool = False
) -> list[ObjectiveView]:
    if not rows:
        return []
    accounts = dict(
        session.execute(
            select(Account.id, Account.name).where(Account.id.in_({r.account_id for r in rows}))
        ).all()
    )
    owners = dict(
        session.execute(
            select(TeamMember.id, TeamMember.email).where(
                TeamMember.id.in_({r.owner_id for r in rows if r.owner_id})
            )
        ).all()
    )
    contacts = dict(
        session.execute(
            select(Contact.id, func.coalesce(Contact.name, Contact.email)).where(
                Contact.id.in_({r.contact_id for r in rows if r.contact_id})
            )
        ).all()
    )
    entries: dict[int, list[HistoryEntry]] = {}
    if history:
        for e in session.scalars(
            select(ObjectiveEntry)
            .where(ObjectiveEntry.objective_id.in_([r.id for r in rows]))
            .order_by(ObjectiveEntry.at.desc(), ObjectiveEntry.id.desc())
        ):
            entries.setdefault(e.objective_id, []).append(
                HistoryEntry(
                    e.at,
                    e.actor,
                    e.kind,
                    e.status,
                    e.note,
                    json.loads(e.changes) if e.changes else {},
                )  # fmt: skip
            )
    by_account: dict[int, list[str]] = {}
    for r in rows:
        if r.measure is not None:
            by_account.setdefault(r.account_id, []).append(r.measure)
    metrics = {a: current_values(a, ms, day) for a, ms in by_account.items()}
    out = []
    for r in rows:
        now = _current(r, metrics.get(r.account_id, {}))
        out.append(
            ObjectiveView(
                id=r.id, account_id=r.account_id, account_name=accounts.get(r.account_id, ""),
                title=r.title, kind="metric" if r.measure else "kpi", measure=r.measure,
                kpi_name=r.kpi_name, baseline=r.baseline, target=r.target,
                current=now.value if now else None, current_on=now.day if now else None,
                current_source=now.source if now else None,
                progress=progress(r.baseline, r.target, now.value if now else None),
                due_date=r.due_date,
                overdue=r.due_date is not None and r.due_date < day
                and r.status in OPEN_STATUSES,
                owner_id=r.owner_id, owner=owners.get(r.owner_id) if r.owner_id else None,
                contact_id=r.contact_id,
                contact=contacts.get(r.contact_id) if r.contact_id else None,
                status=r.status, source=r.source, updated_at=r.updated_at,
                history=entries.get(r.id, []),
            )
        )  # fmt: skip
    return out


def _current(objective: SuccessObjective, metrics: dict[str, CurrentValue]) -> CurrentValue | None:
    if objective.measure is not None:
        return metrics.get(objective.measure)
    if objective.kpi_value is None:
        return None
    return CurrentValue(objective.kpi_value, objective.kpi_value_on, "manual")


# ---------------------------------------------------------------- the 360's section


@dataclass
class PlanSection:
    """What the account 360's success-plan section shows and its forms offer."""

    account_id: int
    account_owner_id: int | None
    objectives: list[ObjectiveView]
    handoff: dict[str, Any] | None
    draft: str | None
    """The handoff's promised outcome while no objective started from it: the first
    objective's wording, pre-filled in the form."""
    contacts: list[tuple[int, str]]
    members: list[tuple[str, str, bool]]
    """(email, name, is the account's owner) of every team member, for our owner."""
    measures: list[str]


def plan_section(session: Session, account_id: int, *, today: date | None = None) -> PlanSection:
    account = get_account(session, account_id)
    objectives = account_plan(session, account_id, today=today)
    handoff = handoffs.as_dict(handoffs.get(session, account_id))
    promised = handoff["promised_outcome"] if handoff else None
    draft = promised if promised and not any(o.source == "handoff" for o in objectives) else None
    contacts = [
        (c.id, c.name or c.email or str(c.id))
        for c in session.scalars(
            select(Contact)
            .where(Contact.account_id == account_id, Contact.left_at.is_(None))
            .order_by(Contact.name, Contact.id)
        )
    ]
    members = [
        (email, name, member_id == account.owner_id)
        for member_id, email, name in session.execute(
            select(TeamMember.id, TeamMember.email, TeamMember.name).order_by(TeamMember.name)
        )
        if email
    ]
    return PlanSection(account.id, account.owner_id, objectives, handoff, draft, contacts,
                       members, sorted(MEASURES))  # fmt: skip


def section_values(plan: PlanSection, may_edit: Callable[..., bool]) -> dict[str, Any]:
    """The template values of the 360's section; ``may_edit(*owner_ids)`` is the web's one rule
    for writing on an account (the account's owner, and an objective's own owner)."""
    return {
        "plan": plan,
        "plan_can_edit": may_edit(plan.account_owner_id),
        "plan_editable": {
            o.id for o in plan.objectives if may_edit(plan.account_owner_id, o.owner_id)
        },
        "statuses": OBJECTIVE_STATUSES,
        "measure_label": measure_label,
        "format_measure": format_measure,
    }
