"""CTAs (calls to action): open one per account, playbook and reason; update it on a repeat
trigger; create one by hand; tick and untick tasks, comment, snooze, reassign, change priority
or due date, close with an outcome. Every change leaves a ``CtaEvent``; a person's change is
also written to the audit log. The web app, the API and the CLI all call these functions.

``open_ctas`` lists the open ones (My tasks, the account 360), ``find_ctas`` any with filters and
pages (the API, ``banso ctas list``). Titles of playbook CTAs are kept in both languages and
shown in the reader's (``localized``)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.audit import service as audit
from banso.business_days import add_business_days
from banso.config import get_settings
from banso.dates import EARLIEST_DAY, latest_day
from banso.dates import today as company_today
from banso.db import utcnow
from banso.errors import BansoError, ConfigRejected, InvalidValue, NotFound
from banso.i18n import _, current_language, ngettext
from banso.playbooks.config import load_playbooks
from banso.playbooks.models import (
    CTA_OUTCOMES,
    CTA_PRIORITIES,
    CTA_STATUSES,
    CTA_TYPES,
    AssignmentCursor,
    Cta,
    CtaEvent,
    CtaTask,
)
from banso.retention import service as churn_reasons
from banso.team.models import TeamMember
from banso.users.models import User

OPEN_CTA_ROWS = 200
"""At most this many open CTAs are listed (My tasks, the account 360)."""
MANUAL_PLAYBOOK = "manual"
"""The ``playbook`` of a CTA a person created (web, API)."""
MAX_TITLE = 300
MAX_COMMENT = 5000
PAGE_SIZE = 50


@dataclass(frozen=True)
class CtaSpec:
    """What a playbook's CTA action asks for: titles in the message language, and in every
    language the playbook gives (``title_texts``, shown in the reader's language)."""

    playbook: str
    reason: str
    type: str
    priority: str
    title: str
    due_in_business_days: int
    tasks: tuple[tuple[str, int], ...]
    """``(title, due in business days)`` per task."""
    title_texts: Mapping[str, str] | None = None
    task_texts: tuple[Mapping[str, str], ...] = ()
    """The texts of each task, in the order of ``tasks`` (empty: only ``tasks``' titles)."""


def open_or_update(
    session: Session,
    account_id: int,
    day: date,
    spec: CtaSpec,
    owner_id: int | None,
    actor: str,
    trigger: dict[str, Any] | None = None,
    note: str | None = None,
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
        title=spec.title[:MAX_TITLE],
        title_texts=texts_json(spec.title_texts),
        note=note,
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
                title=title[:MAX_TITLE],
                title_texts=texts_json(
                    spec.task_texts[position - 1] if position <= len(spec.task_texts) else None
                ),
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


class NotAllowed(BansoError):
    """The person's role does not let them change this CTA (the web answers 403)."""


@dataclass(frozen=True)
class Writer:
    """Who changes a CTA: their e-mail (the audit trail's actor), their team member, and
    whether they may change any account's CTAs (admin, ops, the CLI) or only their own (CSM)."""

    email: str
    member_id: int | None = None
    any_account: bool = True
    may_write: bool = True

    @classmethod
    def of(cls, user: User, editor_roles: tuple[str, ...]) -> Writer:
        """A signed-in user: ``editor_roles`` change any CTA, a CSM the CTAs they own or of the
        accounts they own, anyone else (a viewer) none."""
        return cls(
            email=user.email,
            member_id=user.team_member_id,
            any_account=user.role in editor_roles,
            may_write=user.role in editor_roles or user.role == "csm",
        )

    def may_change(self, cta_owner_id: int | None, account_owner_id: int | None) -> bool:
        if not self.may_write:
            return False
        if self.any_account:
            return True
        return self.member_id is not None and self.member_id in (cta_owner_id, account_owner_id)


def texts_json(texts: Mapping[str, str] | None) -> str | None:
    """``{"en": ..., "ja": ...}`` as stored in ``title_texts`` (None when there is no text)."""
    clean = {lang: text for lang, text in (texts or {}).items() if text}
    return json.dumps(clean, ensure_ascii=False, sort_keys=True) if clean else None


def localized(title: str, texts: str | None, lang: str | None = None) -> str:
    """A stored title in ``lang`` (default: the reader's language): the playbook's text in that
    language, else its English, else the title as stored (rows from before both were kept,
    and titles a person typed)."""
    if not texts:
        return title
    try:
        parsed = json.loads(texts)
    except ValueError:
        return title
    if not isinstance(parsed, dict):
        return title
    return str(parsed.get(lang or current_language()) or parsed.get("en") or title)


# ---------------------------------------------------------------- templates


@dataclass(frozen=True)
class CtaTemplate:
    """A playbook's CTA action, offered as a template when a person creates a CTA."""

    name: str
    label: Mapping[str, str]
    type: str
    priority: str
    title: Mapping[str, str]
    due_in_business_days: int
    tasks: tuple[tuple[Mapping[str, str], int], ...]

    def label_in(self, lang: str | None = None) -> str:
        lang = lang or current_language()
        return self.label.get(lang) or self.label.get("en") or self.name


def cta_templates(config_dir: Path | None = None) -> list[CtaTemplate]:
    """The CTA action of every playbook that has one, by playbook name."""
    if config_dir is None:
        config_dir = get_settings().config_path
    found = []
    for p in load_playbooks(config_dir):
        for action in p.actions:
            a = action.cta
            if a is None:
                continue
            found.append(
                CtaTemplate(
                    name=p.name,
                    label=dict(p.label) or dict(a.title),
                    type=a.type,
                    priority=a.priority,
                    title=dict(a.title),
                    due_in_business_days=a.due_in_business_days,
                    tasks=tuple((dict(t.title), t.due_in_business_days) for t in a.tasks),
                )
            )
            break
    return found


def _template(name: str) -> CtaTemplate:
    templates = {t.name: t for t in cta_templates()}
    if name not in templates:
        raise InvalidValue(
            "template",
            _("No playbook named {name!r} has a CTA; use one of: {known}.", name=name,
              known=", ".join(sorted(templates)) or "—"),
        )  # fmt: skip
    return templates[name]


# ---------------------------------------------------------------- what a person does


def create(
    session: Session,
    writer: Writer,
    account_id: int,
    *,
    title: str = "",
    type: str = "activity",
    priority: str = "medium",
    due_date: date | None = None,
    template: str | None = None,
    owner_id: int | None = None,
) -> Cta:
    """A CTA a person opens on an account: ``title`` says what and why (with a ``template``,
    the playbook's title when left empty, and its tasks); the owner defaults to the account's;
    the due date to the template's business days from today, else 3 business days."""
    account = session.get(Account, account_id)
    if account is None:
        raise InvalidValue("account_id", _("There is no account with id {id}.", id=account_id))
    if not writer.may_change(owner_id, account.owner_id):
        raise NotAllowed(_("You may create CTAs only on the accounts you own."))
    chosen = _template(template) if template else None
    title = " ".join(title.split())
    if not title and chosen is None:
        raise InvalidValue("title", _("Say what is to be done (a title of 1 to 300 characters)."))
    if len(title) > MAX_TITLE:
        raise InvalidValue("title", _("Give a title of at most {n} characters.", n=MAX_TITLE))
    _check_choice("type", type, CTA_TYPES)
    _check_choice("priority", priority, CTA_PRIORITIES)
    today = company_today()
    if due_date is None:
        due_date = add_business_days(today, chosen.due_in_business_days if chosen else 3)
    _check_day("due_date", due_date)
    if owner_id is None:
        owner_id = account.owner_id
    elif session.get(TeamMember, owner_id) is None:
        raise InvalidValue("owner_id", _("There is no team member with id {id}.", id=owner_id))
    texts = None if title or chosen is None else chosen.title
    cta = Cta(
        account_id=account.id,
        playbook=MANUAL_PLAYBOOK,
        reason=f"{MANUAL_PLAYBOOK}:{template or '-'}:{secrets.token_hex(6)}",
        type=type,
        priority=priority,
        title=title or _pick(chosen.title if chosen else {}, current_language()),
        title_texts=texts_json(texts),
        status="open",
        owner_id=owner_id,
        due_date=due_date,
        first_triggered_on=today,
        last_triggered_on=today,
        trigger_count=1,
    )
    session.add(cta)
    session.flush()
    for position, (task_texts, due_in) in enumerate(chosen.tasks if chosen else (), start=1):
        session.add(
            CtaTask(
                cta_id=cta.id,
                position=position,
                title=_pick(task_texts, current_language())[:MAX_TITLE],
                title_texts=texts_json(task_texts),
                due_date=min(add_business_days(today, due_in), max(due_date, today)),
            )
        )
    detail = {
        "account_id": account.id,
        "owner_id": owner_id,
        "type": type,
        "priority": priority,
        "due_date": due_date.isoformat(),
        "template": template,
    }
    _audit(session, cta, writer.email, "created", detail)
    audit.record(session, "cta.create", f"cta:{cta.id}", actor=writer.email, title=cta.title,
                 **detail)  # fmt: skip
    return cta


def set_task(session: Session, writer: Writer, task_id: int, done: bool) -> CtaTask:
    """Tick (``done``) or untick one step of an open CTA."""
    task = session.get(CtaTask, task_id)
    if task is None:
        raise NotFound(_("No task {id}.", id=task_id))
    cta = _writable(session, writer, task.cta_id)
    if done == (task.done_at is not None):
        return task
    task.done_at = utcnow() if done else None
    task.done_by = writer.email if done else None
    action = "task_done" if done else "task_undone"
    _audit(session, cta, writer.email, action, {"task_id": task.id, "title": task.title})
    audit.record(session, "cta.task", f"cta:{cta.id}", actor=writer.email, task_id=task.id,
                 done=done)  # fmt: skip
    return task


def comment(session: Session, writer: Writer, cta_id: int, text: str) -> CtaEvent:
    """Add a comment to a CTA (open or closed)."""
    text = text.strip()
    if not text or len(text) > MAX_COMMENT:
        raise InvalidValue(
            "text", _("Write a comment of 1 to {n} characters.", n=MAX_COMMENT)
        )
    cta = _writable(session, writer, cta_id, open_only=False)
    event = _audit(session, cta, writer.email, "commented", {"text": text})
    audit.record(session, "cta.comment", f"cta:{cta.id}", actor=writer.email, length=len(text))
    return event


def snooze(session: Session, writer: Writer, cta_id: int, until: date | None) -> Cta:
    """Take an open CTA out of the queue until ``until`` (a later day); None brings it back."""
    cta = _writable(session, writer, cta_id)
    if until is not None:
        today = company_today()
        if until <= today:
            raise InvalidValue(
                "until", _("Snooze until a day after today ({today}).", today=today)
            )
        _check_day("until", until)
    before = cta.snoozed_until
    cta.snoozed_until = until
    detail = {"from": before.isoformat() if before else None,
              "until": until.isoformat() if until else None}  # fmt: skip
    _audit(session, cta, writer.email, "snoozed", detail)
    audit.record(session, "cta.update", f"cta:{cta.id}", actor=writer.email, snoozed=detail)
    return cta


def reassign(session: Session, writer: Writer, cta_id: int, member_id: int) -> Cta:
    """Give an open CTA to another team member."""
    cta = _writable(session, writer, cta_id)
    member = session.get(TeamMember, member_id)
    if member is None:
        raise InvalidValue("owner_id", _("There is no team member with id {id}.", id=member_id))
    before = cta.owner_id
    cta.owner_id = member.id
    _audit(session, cta, writer.email, "assigned", {"from": before, "to": member.id})
    audit.record(session, "cta.update", f"cta:{cta.id}", actor=writer.email,
                 owner={"from": before, "to": member.id})  # fmt: skip
    return cta


def update(
    session: Session,
    writer: Writer,
    cta_id: int,
    *,
    priority: str | None = None,
    due_date: date | None = None,
) -> Cta:
    """Change an open CTA's priority and/or due date."""
    cta = _writable(session, writer, cta_id)
    if priority is not None:
        _check_choice("priority", priority, CTA_PRIORITIES)
    if due_date is not None:
        _check_day("due_date", due_date)
    changed: dict[str, Any] = {}
    if priority is not None and priority != cta.priority:
        changed["priority"] = {"from": cta.priority, "to": priority}
        cta.priority = priority
    if due_date is not None and due_date != cta.due_date:
        changed["due_date"] = {"from": cta.due_date.isoformat(), "to": due_date.isoformat()}
        cta.due_date = due_date
    if changed:
        _audit(session, cta, writer.email, "updated", changed)
        audit.record(session, "cta.update", f"cta:{cta.id}", actor=writer.email, **changed)
    return cta


def close(
    session: Session,
    cta_id: int,
    outcome: str,
    actor: str | Writer,
    note: str | None = None,
    reason: str | None = None,
) -> Cta:
    """Close an open CTA with one of ``CTA_OUTCOMES``; closed as ``churned``, with the churn
    ``reason`` the CSM gives (recorded by :mod:`banso.retention` for the month of closing)."""
    writer = actor if isinstance(actor, Writer) else Writer(actor)
    if outcome not in CTA_OUTCOMES:
        raise InvalidValue(
            "outcome",
            _("Unknown outcome {outcome!r}; use one of: {known}.", outcome=outcome,
              known=", ".join(CTA_OUTCOMES)),
        )  # fmt: skip
    reason = (reason or "").strip() or None
    if reason is not None:
        churn_reasons.check_close_reason(outcome, reason)
    cta = _get(session, cta_id)
    if cta.status != "open":
        raise BansoError(_("CTA {id} is already closed.", id=cta_id))
    cta = _writable(session, writer, cta_id)
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_COMMENT:
        raise InvalidValue("note", _("Write a note of at most {n} characters.", n=MAX_COMMENT))
    cta.status = "closed"
    cta.outcome = outcome
    cta.outcome_note = note
    cta.closed_at = utcnow()
    cta.snoozed_until = None
    _audit(session, cta, writer.email, "closed", {"outcome": outcome, "note": note})
    audit.record(session, "cta.close", f"cta:{cta.id}", actor=writer.email, outcome=outcome)
    if reason is not None:
        churn_reasons.record_at_close(
            session, cta.account_id, reason, actor=writer.email, note=note, cta_id=cta.id
        )
    return cta


def assign(session: Session, cta_id: int, member_email: str, actor: str) -> Cta:
    """``banso ctas assign``: give a CTA to the team member with ``member_email``."""
    return reassign(session, Writer(actor), cta_id, member_by_email(session, member_email).id)


def complete_task(session: Session, task_id: int, actor: str) -> CtaTask:
    """``banso ctas done``: tick one task."""
    return set_task(session, Writer(actor), task_id, True)


def member_by_email(session: Session, email: str) -> TeamMember:
    member = session.scalars(select(TeamMember).where(TeamMember.email == email)).first()
    if member is None:
        raise BansoError(_("No team member with email {email}.", email=email))
    return member


def find_person(session: Session, who: str) -> TeamMember:
    """The team member ``who`` names: their team e-mail, the e-mail they sign in with, or their
    name (as a team member or as a user), case and spacing aside."""
    key = " ".join(who.split()).lower()
    member = session.scalars(
        select(TeamMember).where(
            or_(func.lower(TeamMember.email) == key, func.lower(TeamMember.name) == key)
        )
    ).first()
    if member is not None:
        return member
    user = session.scalars(
        select(User).where(
            User.team_member_id.is_not(None),
            or_(func.lower(User.email) == key, func.lower(User.name) == key),
        )
    ).first()
    if user is not None and user.team_member_id is not None:
        found = session.get(TeamMember, user.team_member_id)
        if found is not None:
            return found
    raise NotFound(
        _("No team member or user linked to a team member is called {who!r} (give the team "
          "e-mail, the sign-in e-mail or the name).", who=who)
    )  # fmt: skip


def account_owner(session: Session, account_id: int) -> int | None:
    """The team member who owns the account (None: nobody, or no such account)."""
    return session.scalar(select(Account.owner_id).where(Account.id == account_id))


def _writable(session: Session, writer: Writer, cta_id: int, open_only: bool = True) -> Cta:
    cta = _get(session, cta_id)
    account_owner = session.scalar(select(Account.owner_id).where(Account.id == cta.account_id))
    if not writer.may_change(cta.owner_id, account_owner):
        raise NotAllowed(_("You may change only your CTAs and those of the accounts you own."))
    if open_only and cta.status != "open":
        raise BansoError(_("CTA {id} is already closed.", id=cta_id))
    return cta


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise InvalidValue(name, _("Use one of: {known}.", known=", ".join(allowed)))


def _check_day(name: str, day: date) -> None:
    if not EARLIEST_DAY <= day <= latest_day():
        raise InvalidValue(
            name, _("Give a day from {first} to {last}.", first=EARLIEST_DAY, last=latest_day())
        )


def _pick(texts: Mapping[str, str], lang: str) -> str:
    return texts.get(lang) or texts.get("en") or next(iter(texts.values()), "")


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
        raise NotFound(_("No CTA {id}.", id=cta_id))
    return cta


def _audit(
    session: Session, cta: Cta, actor: str, action: str, detail: dict[str, Any]
) -> CtaEvent:
    event = CtaEvent(
        cta_id=cta.id,
        actor=actor,
        action=action,
        detail=json.dumps(detail, ensure_ascii=False, default=str),
    )
    session.add(event)
    return event




# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class TaskRow:
    id: int
    title: str
    done: bool
    due_date: date


@dataclass(frozen=True)
class CommentRow:
    at: datetime
    actor: str
    text: str


@dataclass(frozen=True)
class CtaRow:
    """A CTA as pages, the API and the CLI show it, its titles in the reader's language."""

    id: int
    account_id: int
    account: str
    title: str
    type: str
    priority: str
    status: str
    due_date: date
    owner: str | None
    owner_id: int | None
    owner_email: str | None
    account_owner_id: int | None
    playbook: str
    reason: str
    snoozed_until: date | None
    outcome: str | None
    outcome_note: str | None
    first_triggered_on: date
    last_triggered_on: date
    trigger_count: int
    created_at: datetime
    closed_at: datetime | None
    tasks: list[TaskRow] = field(default_factory=list)
    """The steps, in order."""
    comments: list[CommentRow] = field(default_factory=list)
    """Oldest first."""
    note: str | None = None
    """What the CTA carries (the sales handoff on the handoff CTA)."""

    @property
    def tasks_done(self) -> int:
        return sum(t.done for t in self.tasks)

    def snoozed_on(self, day: date) -> bool:
        return self.snoozed_until is not None and self.snoozed_until > day


@dataclass(frozen=True)
class CtaFilter:
    """Which CTAs to list; None leaves a criterion out. ``in_queue`` keeps the open CTAs that
    are not snoozed on ``today`` (My tasks); ``snoozed`` True/False keeps only those that are /
    are not snoozed."""

    owner_id: int | None = None
    account_id: int | None = None
    status: str | None = None
    priority: str | None = None
    type: str | None = None
    due_before: date | None = None
    """Due on or before this day."""
    due_after: date | None = None
    """Due on or after this day."""
    snoozed: bool | None = None
    in_queue: bool = False
    today: date | None = None


@dataclass(frozen=True)
class CtaPage:
    total: int
    page: int
    pages: int
    items: list[CtaRow]


@dataclass(frozen=True)
class CtaCounts:
    """The queue's figures: open and in the queue, overdue and due today among them, snoozed."""

    open: int
    overdue: int
    due_today: int
    snoozed: int


def _where(query: Any, f: CtaFilter) -> Any:
    today = f.today or company_today()
    if f.owner_id is not None:
        query = query.where(Cta.owner_id == f.owner_id)
    if f.account_id is not None:
        query = query.where(Cta.account_id == f.account_id)
    if f.in_queue:
        query = query.where(Cta.status == "open")
        query = query.where(or_(Cta.snoozed_until.is_(None), Cta.snoozed_until <= today))
    if f.status is not None:
        _check_choice("status", f.status, CTA_STATUSES)
        query = query.where(Cta.status == f.status)
    if f.priority is not None:
        _check_choice("priority", f.priority, CTA_PRIORITIES)
        query = query.where(Cta.priority == f.priority)
    if f.type is not None:
        _check_choice("type", f.type, CTA_TYPES)
        query = query.where(Cta.type == f.type)
    if f.due_before is not None:
        query = query.where(Cta.due_date <= f.due_before)
    if f.due_after is not None:
        query = query.where(Cta.due_date >= f.due_after)
    if f.snoozed is True:
        query = query.where(Cta.status == "open", Cta.snoozed_until > today)
    elif f.snoozed is False:
        query = query.where(or_(Cta.snoozed_until.is_(None), Cta.snoozed_until <= today))
    return query


def find_ctas(session: Session, flt: CtaFilter, page: int = 1, size: int = PAGE_SIZE) -> CtaPage:
    """One page of the CTAs ``flt`` selects, by due date then id; a page past the last is
    empty (with the real total)."""
    total = session.scalar(_where(select(func.count()).select_from(Cta), flt)) or 0
    query = _where(_row_query(), flt).offset((page - 1) * size).limit(size)
    return CtaPage(total, page, max(1, -(-total // size)), _rows(session, query))


def open_ctas(
    session: Session,
    *,
    owner_id: int | None = None,
    account_id: int | None = None,
    limit: int = OPEN_CTA_ROWS,
    include_snoozed: bool = False,
) -> list[CtaRow]:
    """Open CTAs by due date (of one owner or one account when given), with their steps and
    comments; snoozed ones only with ``include_snoozed`` (they are out of the queue)."""
    flt = CtaFilter(owner_id=owner_id, account_id=account_id, status="open",
                    in_queue=not include_snoozed)  # fmt: skip
    return _rows(session, _where(_row_query(), flt).limit(limit))


def get_cta(session: Session, cta_id: int) -> CtaRow:
    """One CTA with its steps and comments; NotFound when there is none."""
    rows = _rows(session, _row_query().where(Cta.id == cta_id))
    if not rows:
        raise NotFound(_("No CTA {id}.", id=cta_id))
    return rows[0]


def queue_counts(
    session: Session, *, owner_id: int | None = None, account_id: int | None = None
) -> CtaCounts:
    """How many open CTAs (of one owner or account) are in the queue, overdue, due today, and
    snoozed."""
    today = company_today()
    base = CtaFilter(owner_id=owner_id, account_id=account_id, in_queue=True, today=today)
    in_queue = _where(select(func.count()).select_from(Cta), base)
    snoozed = _where(
        select(func.count()).select_from(Cta),
        CtaFilter(owner_id=owner_id, account_id=account_id, snoozed=True, today=today),
    )
    return CtaCounts(
        open=session.scalar(in_queue) or 0,
        overdue=session.scalar(in_queue.where(Cta.due_date < today)) or 0,
        due_today=session.scalar(in_queue.where(Cta.due_date == today)) or 0,
        snoozed=session.scalar(snoozed) or 0,
    )


def describe_counts(counts: CtaCounts) -> str:
    """The queue's figures as one sentence in the reader's language."""
    parts = [
        ngettext("{n} open CTA", "{n} open CTAs", counts.open),
        ngettext("{n} overdue", "{n} overdue", counts.overdue),
        ngettext("{n} due today", "{n} due today", counts.due_today),
        ngettext("{n} snoozed", "{n} snoozed", counts.snoozed),
    ]
    return _(", ").join(parts)


def _row_query() -> Any:
    return (
        select(Cta, Account.name, Account.owner_id, TeamMember.name, TeamMember.email)
        .join(Account, Account.id == Cta.account_id)
        .outerjoin(TeamMember, TeamMember.id == Cta.owner_id)
        .order_by(Cta.due_date, Cta.id)
    )


def _rows(session: Session, query: Any) -> list[CtaRow]:
    found = session.execute(query).all()
    if not found:
        return []
    ids = [row[0].id for row in found]
    lang = current_language()
    steps: dict[int, list[TaskRow]] = {}
    notes: dict[int, list[CommentRow]] = {}
    for chunk in range(0, len(ids), 5000):
        part = ids[chunk : chunk + 5000]
        for task in session.scalars(
            select(CtaTask)
            .where(CtaTask.cta_id.in_(part))
            .order_by(CtaTask.cta_id, CtaTask.position)
        ):
            steps.setdefault(task.cta_id, []).append(
                TaskRow(task.id, localized(task.title, task.title_texts, lang),
                        task.done_at is not None, task.due_date)
            )  # fmt: skip
        for event in session.scalars(
            select(CtaEvent)
            .where(CtaEvent.cta_id.in_(part), CtaEvent.action == "commented")
            .order_by(CtaEvent.id)
        ):
            text = json.loads(event.detail or "{}").get("text", "")
            notes.setdefault(event.cta_id, []).append(CommentRow(event.at, event.actor, text))
    return [
        CtaRow(
            id=c.id,
            account_id=c.account_id,
            account=account,
            title=localized(c.title, c.title_texts, lang),
            note=c.note,
            type=c.type,
            priority=c.priority,
            status=c.status,
            due_date=c.due_date,
            owner=owner,
            owner_id=c.owner_id,
            owner_email=email,
            account_owner_id=account_owner,
            playbook=c.playbook,
            reason=c.reason,
            snoozed_until=c.snoozed_until,
            outcome=c.outcome,
            outcome_note=c.outcome_note,
            first_triggered_on=c.first_triggered_on,
            last_triggered_on=c.last_triggered_on,
            trigger_count=c.trigger_count,
            created_at=c.created_at,
            closed_at=c.closed_at,
            tasks=steps.get(c.id, []),
            comments=notes.get(c.id, []),
        )
        for c, account, account_owner, owner, email in found
    ]


def cooling_down(
    session: Session, playbook: str, account_ids: list[int], day: date, cooldown_days: int
) -> set[int]:
    """Accounts for which ``playbook`` must not open a CTA on ``day``: one it opened is still
    open, or the last one closed less than ``cooldown_days`` days before ``day``."""
    if not account_ids:
        return set()
    blocked: set[int] = set()
    since = day - timedelta(days=cooldown_days)
    for chunk in range(0, len(account_ids), 5000):
        part = account_ids[chunk : chunk + 5000]
        rows = session.execute(
            select(Cta.account_id, Cta.status, Cta.closed_at).where(
                Cta.playbook == playbook, Cta.account_id.in_(part)
            )
        ).all()
        for account_id, status, closed_at in rows:
            if status == "open":
                blocked.add(account_id)
            elif closed_at is not None and _local_day(closed_at) > since:
                blocked.add(account_id)
    return blocked


def _local_day(moment: datetime) -> date:
    zone = get_settings().tz
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone).date()


# ---------------------------------------------------------------- the pages' CTA section


@dataclass(frozen=True)
class CtaSection:
    """What My tasks (``view="tasks"``) and the account 360 (``view="account"``) show of CTAs:
    the queue (the 360 also lists snoozed ones), its counts, and the choices of the forms."""

    view: str
    rows: list[CtaRow]
    counts: CtaCounts
    members: list[tuple[int, str]]
    templates: list[CtaTemplate]
    account_id: int | None = None
    owner_id: int | None = None
    everyone: bool = False
    types: tuple[str, ...] = CTA_TYPES
    priorities: tuple[str, ...] = CTA_PRIORITIES
    outcomes: tuple[str, ...] = CTA_OUTCOMES

    @property
    def churn_reasons(self) -> list[tuple[str, str]]:
        """The churn reasons the close form offers with the outcome churned (code, label)."""
        return churn_reasons.choices()

    @property
    def counts_text(self) -> str:
        return describe_counts(self.counts)


def cta_section(
    session: Session,
    *,
    view: str,
    owner_id: int | None = None,
    account_id: int | None = None,
    everyone: bool = False,
) -> CtaSection:
    rows = open_ctas(
        session, owner_id=owner_id, account_id=account_id, include_snoozed=view == "account"
    )
    members = [
        (member_id, name)
        for member_id, name in session.execute(
            select(TeamMember.id, TeamMember.name).order_by(TeamMember.name, TeamMember.id)
        )
    ]
    try:
        templates = cta_templates()
    except ConfigRejected:  # `banso playbooks check-config` says what is wrong
        templates = []
    return CtaSection(
        view=view,
        rows=rows,
        counts=queue_counts(session, owner_id=owner_id, account_id=account_id),
        members=members,
        templates=templates,
        account_id=account_id,
        owner_id=owner_id,
        everyone=everyone,
    )


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
        select(Cta.id, Cta.account_id, Cta.title, Cta.title_texts, Cta.due_date)
        .where(Cta.account_id.in_(list(account_ids)), Cta.status == "open")
        .order_by(Cta.account_id, Cta.due_date, Cta.id)
    ).all()
    found: dict[int, NextCta] = {}
    counts: dict[int, int] = {}
    for cta_id, account_id, title, texts, due in rows:
        counts[account_id] = counts.get(account_id, 0) + 1
        if account_id not in found:
            found[account_id] = NextCta(cta_id, localized(title, texts), due, 0)
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
    first), at most ``limit``; a CTA snoozed past ``by`` is left out, as in the queue. Titles in
    the reader's language."""
    rows = session.execute(
        select(CtaTask, Cta.title, Cta.title_texts, Cta.account_id, Account.name)
        .join(Cta, Cta.id == CtaTask.cta_id)
        .join(Account, Account.id == Cta.account_id)
        .where(
            Cta.owner_id == owner_id,
            Cta.status == "open",
            CtaTask.done_at.is_(None),
            CtaTask.due_date <= by,
            or_(Cta.snoozed_until.is_(None), Cta.snoozed_until <= by),
        )
        .order_by(CtaTask.due_date, CtaTask.cta_id, CtaTask.position)
        .limit(limit)
    ).all()
    return [
        TaskDue(
            t.id,
            localized(t.title, t.title_texts),
            t.due_date,
            t.cta_id,
            localized(title, texts),
            account_id,
            account,
        )
        for t, title, texts, account_id, account in rows
    ]
