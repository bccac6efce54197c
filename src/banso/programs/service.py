"""Programmes, their sessions, enrolment and attendance.

Plain functions over a ``Session``; the caller owns the transaction. Capacity is enforced
whenever a person is added to a session (enrolled, or marked attended without having enrolled);
changing the status of someone already on the roster never counts twice. Every write is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.accounts.models import Account, Contact
from banso.attendance.models import STATUSES, ProgramEnrolment, ProgramSession
from banso.audit import service as audit
from banso.config import get_settings
from banso.errors import BansoError, InvalidValue, NotFound
from banso.i18n import _
from banso.programs.config import Program, ProgramsFile, load_catalogue
from banso.segments.service import rule_set


class SessionFull(BansoError):
    """The session has as many enrolments as seats."""


def catalogue() -> ProgramsFile:
    """The catalogue in force, its target segments checked against the segment rule set."""
    return load_catalogue(set(rule_set().segments))


def program(key: str) -> Program:
    """The programme ``key``; an unknown key is the ``program`` field's problem."""
    found = catalogue().program(key)
    if found is None:
        known = ", ".join(p.key for p in catalogue().programs)
        raise InvalidValue(
            "program", _("No programme {key} (programmes: {known}).", key=key, known=known)
        )
    return found


def program_rows(session: Session, language: str) -> list[dict[str, Any]]:
    """The catalogue as plain rows, each with its number of sessions and attendances."""
    counts = dict(
        session.execute(
            select(ProgramSession.program, func.count()).group_by(ProgramSession.program)
        ).all()
    )
    attended = dict(
        session.execute(
            select(ProgramSession.program, func.count())
            .join(ProgramEnrolment, ProgramEnrolment.session_id == ProgramSession.id)
            .where(ProgramEnrolment.status == "attended")
            .group_by(ProgramSession.program)
        ).all()
    )
    return [
        {
            "key": p.key,
            "kind": p.kind,
            "title": p.title.get(language),
            "title_en": p.title.en,
            "title_ja": p.title.ja,
            "language": p.language,
            "segments": p.segments,
            "capacity": p.capacity,
            "price_yen": int(p.price_yen) if p.price_yen is not None else None,
            "sessions": counts.get(p.key, 0),
            "attended": attended.get(p.key, 0),
        }
        for p in catalogue().programs
    ]


def add_session(
    session: Session, program_key: str, starts_at: datetime, capacity: int | None = None
) -> ProgramSession:
    """A new session of ``program_key`` at ``starts_at`` (aware); its capacity is ``capacity``
    or the programme's default."""
    found = program(program_key)
    if starts_at.tzinfo is None:
        raise BansoError(_("A session's start needs a time zone."))
    if not 2000 <= starts_at.year <= 2100:
        raise BansoError(_("A session starts between the years 2000 and 2100."))
    if capacity is not None and capacity < 1:
        raise BansoError(_("Capacity must be at least 1."))
    same = session.scalar(
        select(ProgramSession).where(
            ProgramSession.program == found.key, ProgramSession.starts_at == starts_at
        )
    )
    if same is not None:
        raise BansoError(
            _("Programme {key} already has a session at {at}.", key=found.key,
              at=starts_at.isoformat())
        )  # fmt: skip
    starts_at = starts_at.astimezone(UTC)  # stored in UTC: SQLite keeps no offset
    row = ProgramSession(
        program=found.key, starts_at=starts_at, capacity=capacity or found.capacity
    )
    session.add(row)
    session.flush()
    audit.record(session, "program.session_add", found.key, session_id=row.id,
                 starts_at=starts_at.isoformat(), capacity=row.capacity)  # fmt: skip
    return row


@dataclass(frozen=True)
class SessionView:
    id: int
    program: str
    starts_at: datetime
    capacity: int | None
    enrolled: int
    attended: int

    @property
    def seats_left(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.enrolled, 0)


def sessions(session: Session, program_key: str | None = None) -> list[SessionView]:
    """Sessions, oldest first, with how many are on the roster and how many attended."""
    e = ProgramEnrolment
    query = (
        select(
            ProgramSession,
            func.count(e.id),
            func.count(e.id).filter(e.status == "attended"),
        )
        .outerjoin(e, e.session_id == ProgramSession.id)
        .group_by(ProgramSession.id)
        .order_by(ProgramSession.starts_at, ProgramSession.id)
    )
    if program_key is not None:
        query = query.where(ProgramSession.program == program_key)
    return [
        SessionView(s.id, s.program, as_utc(s.starts_at), s.capacity, n, attended)
        for s, n, attended in session.execute(query).all()
    ]


def as_utc(at: datetime) -> datetime:
    """A stored timestamp as an aware UTC one (SQLite hands back naive UTC values)."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def get_session(session: Session, session_id: int) -> ProgramSession:
    found = session.get(ProgramSession, session_id)
    if found is None:
        raise NotFound(_("No programme session {id}.", id=session_id))
    return found


def roster(session: Session, session_id: int) -> list[dict[str, Any]]:
    """Who is on the session: account, contact (name, e-mail) and status, by account name."""
    get_session(session, session_id)
    e = ProgramEnrolment
    rows = session.execute(
        select(e, Account.name, Contact.name, Contact.email)
        .join(Account, Account.id == e.account_id)
        .outerjoin(Contact, Contact.id == e.contact_id)
        .where(e.session_id == session_id)
        .order_by(Account.name, Contact.email, e.id)
    ).all()
    return [
        {
            "id": row.id,
            "account_id": row.account_id,
            "account": account,
            "contact_id": row.contact_id,
            "contact": name,
            "email": email,
            "status": row.status,
        }
        for row, account, name, email in rows
    ]


def contact_by_email(session: Session, email: str) -> Contact:
    found = session.scalar(
        select(Contact).where(func.lower(Contact.email) == email.strip().lower()).limit(1)
    )
    if found is None:
        raise InvalidValue("email", _("No contact with the e-mail {email}.", email=email))
    return found


def enrol(session: Session, session_id: int, email: str, actor: str) -> ProgramEnrolment:
    """Put the contact with ``email`` on the session's roster as enrolled; refused when the
    session is full or the contact is already on it."""
    return _set_status(session, session_id, email, "enrolled", actor, new_only=True)


def record_attendance(
    session: Session, session_id: int, email: str, status: str, actor: str
) -> ProgramEnrolment:
    """Mark the contact ``attended`` or ``no_show`` (or back to ``enrolled``); someone not yet
    on the roster is added, which takes a seat."""
    if status not in STATUSES:
        raise BansoError(
            _("Status must be one of {allowed}, not {value!r}.", allowed=", ".join(STATUSES),
              value=status)
        )  # fmt: skip
    return _set_status(session, session_id, email, status, actor, new_only=False)


def _set_status(
    session: Session, session_id: int, email: str, status: str, actor: str, *, new_only: bool
) -> ProgramEnrolment:
    target = get_session(session, session_id)
    contact = contact_by_email(session, email)
    row = session.scalar(
        select(ProgramEnrolment).where(
            ProgramEnrolment.session_id == session_id,
            ProgramEnrolment.contact_id == contact.id,
        )
    )
    if row is not None and new_only:
        raise BansoError(_("{email} is already on this session.", email=contact.email))
    if row is None:
        check_seats(session, target, 1)
        row = ProgramEnrolment(
            session_id=session_id, account_id=contact.account_id, contact_id=contact.id
        )
        session.add(row)
    before = row.status
    row.status = status
    row.recorded_by = actor
    session.flush()
    audit.record(session, "program.attendance", contact.email, actor=actor,
                 session_id=session_id, program=target.program, before=before,
                 status=status)  # fmt: skip
    return row


def check_seats(session: Session, target: ProgramSession, adding: int) -> None:
    """Raise :class:`SessionFull` when ``adding`` more people do not fit the session."""
    if target.capacity is None:
        return
    taken = (
        session.scalar(select(func.count()).where(ProgramEnrolment.session_id == target.id)) or 0
    )
    if taken + adding > target.capacity:
        raise SessionFull(
            _("The session is full: {taken} of {capacity} seats taken.", taken=taken,
              capacity=target.capacity)
        )  # fmt: skip


def parse_start(text: str) -> datetime:
    """A session's start from ``YYYY-MM-DD HH:MM`` (company time) or an ISO timestamp with an
    offset; the result is aware."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BansoError(
            _("{value!r} is not a date and time (YYYY-MM-DD HH:MM).", value=text)
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=get_settings().tz)
    return value
