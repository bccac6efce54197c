"""``/api/programs``: the catalogue, sessions (list, add), a session's roster, enrolment and
attendance, and the effect. Admin and ops add sessions; admin, ops and the CSM who owns the
contact's account enrol and record attendance; everyone signed in reads. Audited."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.i18n import _, current_language
from banso.programs import effect as program_effect
from banso.programs import service
from banso.users.models import User
from banso.web.auth import (
    EDITOR_ROLES,
    Forbidden,
    current_user,
    db_session,
    may_edit_account,
    require_role,
)
from banso.web.params import MAX_ID

programs_api = APIRouter(prefix="/api", tags=["programs"])
SessionId = Annotated[int, Path(ge=1, le=MAX_ID)]


class ProgramOut(BaseModel):
    key: str
    kind: str = Field(description="webinar, training, help_article, community_event, paid_service")
    title: str = Field(description="In the request's language.")
    title_en: str
    title_ja: str
    language: str = Field(description="The language it is held or written in: ja or en.")
    segments: list[str] | None = Field(description="Target segments; null: every customer.")
    capacity: int | None
    price_yen: int | None = Field(description="Whole yen; paid services only.")
    sessions: int
    attended: int


class SessionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    program: str = Field(min_length=1, max_length=64)
    starts_at: datetime = Field(description="With a UTC offset.")
    capacity: int | None = Field(default=None, ge=1, le=100_000)


class SessionOut(BaseModel):
    id: int
    program: str
    starts_at: datetime
    capacity: int | None
    enrolled: int
    attended: int


class AttendanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=320)
    status: Literal["enrolled", "attended", "no_show"] = "attended"


class EnrolmentOut(BaseModel):
    id: int
    account_id: int
    account: str
    contact_id: int | None
    contact: str | None
    email: str | None
    status: str


@programs_api.get("/programs", response_model=list[ProgramOut])
def api_programs(
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> list[ProgramOut]:
    """The catalogue (``programs.yaml``) with each programme's sessions and attendances."""
    return [ProgramOut(**r) for r in service.program_rows(session, current_language())]


@programs_api.get("/programs/sessions", response_model=list[SessionOut])
def api_sessions(
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    program: Annotated[str, Query(max_length=64, description="A programme key.")] = "",
) -> list[SessionOut]:
    """Sessions, oldest first."""
    return [_session_out(v) for v in service.sessions(session, program or None)]


@programs_api.post("/programs/sessions", response_model=SessionOut, status_code=201)
def api_add_session(
    body: SessionIn,
    user: Annotated[User, Depends(require_role(*EDITOR_ROLES))],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> SessionOut:
    """Add a session (admin, ops); its capacity defaults to the programme's."""
    row = service.add_session(session, body.program, body.starts_at, body.capacity)
    [view] = [v for v in service.sessions(session, row.program) if v.id == row.id]
    return _session_out(view)


@programs_api.get("/programs/sessions/{session_id}/enrolments", response_model=list[EnrolmentOut])
def api_roster(
    session_id: SessionId,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> list[EnrolmentOut]:
    """The session's roster."""
    return [EnrolmentOut(**r) for r in service.roster(session, session_id)]


@programs_api.post("/programs/sessions/{session_id}/enrolments", response_model=EnrolmentOut)
def api_attendance(
    session_id: SessionId,
    body: AttendanceIn,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> EnrolmentOut:
    """Enrol a contact (``status: enrolled``; 400 when the session is full or they are on it)
    or record that they attended or did not come (adds them when not on the roster)."""
    contact = service.contact_by_email(session, body.email)
    account = session.get(Account, contact.account_id)
    if not may_edit_account(user, account.owner_id if account else None):
        raise Forbidden(_("A CSM records attendance for contacts of the accounts they own."))
    if body.status == "enrolled":
        row = service.enrol(session, session_id, body.email, user.email)
    else:
        row = service.record_attendance(session, session_id, body.email, body.status, user.email)
    [out] = [r for r in service.roster(session, session_id) if r["id"] == row.id]
    return EnrolmentOut(**out)


@programs_api.get("/programs/effect")
def api_effect(
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    program: Annotated[
        str, Query(max_length=64, description="A programme key; all if empty.")
    ] = "",
    days: Annotated[int, Query(ge=1, le=365, description="Days after attending.")] = 60,
) -> list[dict[str, object]]:
    """Per programme: change of health and usage of attending accounts against matched similar
    accounts that did not attend, the difference and its 95 % interval, and the sentence."""
    return program_effect.effect(session, program or None, days)


def _session_out(v: service.SessionView) -> SessionOut:
    return SessionOut(
        id=v.id, program=v.program, starts_at=v.starts_at, capacity=v.capacity,
        enrolled=v.enrolled, attended=v.attended,
    )  # fmt: skip
