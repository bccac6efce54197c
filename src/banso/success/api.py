"""``/api/success-plans``: the objectives of every account's success plan, paginated (50 a page)
and filtered like ``/api/accounts``; add one, change one, review one. The same service as the
CLI and the 360 (:mod:`banso.success.service`): admin and ops write on any account, a CSM on the
accounts they own (or the objectives they own), a viewer reads only (403 on a write). Every
write is audited and kept in the objective's history."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from banso.dates import today
from banso.errors import InvalidValue, NotFound
from banso.i18n import _
from banso.success import service
from banso.success.service import ObjectiveFilter
from banso.team.models import TeamMember
from banso.users.models import User
from banso.web.auth import Forbidden, current_user, db_session, may_edit_account, require_role
from banso.web.params import MAX_ID, UtcDateTime, owner_parameter

success_plans_api = APIRouter(prefix="/api", tags=["success plans"])
WRITER_ROLES = ("admin", "ops", "csm")
MAX_PAGE = 1_000_000
ObjectiveId = Annotated[int, Path(ge=1, le=MAX_ID, description="The objective's id.")]
Status = Literal["not_started", "on_track", "at_risk", "achieved", "abandoned"]
Value = Annotated[float, Field(ge=-1e15, le=1e15, allow_inf_nan=False)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HistoryOut(BaseModel):
    at: UtcDateTime
    actor: str
    kind: Literal["created", "changed", "reviewed"]
    status: str
    note: str | None
    changes: dict[str, Any] = Field(description="Per field changed: {from, to}.")


class ObjectiveOut(BaseModel):
    id: int
    account_id: int
    account_name: str
    title: str = Field(description="The outcome in the customer's words.")
    kind: Literal["metric", "kpi"]
    measure: str | None = Field(description="A health measure, for a product metric.")
    kpi_name: str | None = Field(description="A manual KPI's name.")
    baseline: float
    target: float
    current: float | None = Field(description="The latest value; null without one.")
    current_on: date | None
    current_source: Literal["health", "usage", "manual"] | None
    progress: float | None = Field(
        description="(current − baseline) / (target − baseline), clamped to 0-1."
    )
    due_date: date | None
    overdue: bool
    owner_id: int | None = Field(description="Our owner (a team member).")
    owner: str | None
    contact_id: int | None = Field(description="The customer's owner (a contact).")
    contact: str | None
    status: Status
    source: Literal["manual", "handoff"]
    updated_at: UtcDateTime
    history: list[HistoryOut] = Field(description="Newest first.")


class ObjectivePageOut(BaseModel):
    total: int
    page: int
    pages: int
    items: list[ObjectiveOut]


class ObjectiveIn(_Body):
    account_id: int = Field(ge=1, le=MAX_ID)
    title: str | None = Field(
        default=None, max_length=service.MAX_TITLE,
        description="Default with from_handoff: the handoff's promised outcome.",
    )  # fmt: skip
    measure: str | None = Field(default=None, max_length=100)
    kpi_name: str | None = Field(default=None, max_length=200)
    baseline: Value | None = Field(default=None, description="Default for a metric: its value.")
    target: Value
    due_date: date | None = None
    owner_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    contact_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    status: Status = "not_started"
    from_handoff: bool = False


class ObjectiveChange(_Body):
    title: str | None = Field(default=None, max_length=service.MAX_TITLE)
    baseline: Value | None = None
    target: Value | None = None
    due_date: date | None = None
    owner_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    contact_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    status: Status | None = None
    value: Value | None = Field(default=None, description="A manual KPI's current value.")
    note: str | None = Field(default=None, max_length=service.MAX_NOTE)


class ReviewIn(_Body):
    note: str = Field(min_length=1, max_length=service.MAX_NOTE)
    status: Status | None = None
    value: Value | None = None


def _email(session: Session, member_id: int | None) -> str | None:
    if member_id is None:
        return None
    member = session.get(TeamMember, member_id)
    if member is None or not member.email:
        raise InvalidValue("owner_id", _("No team member with id {id}.", id=member_id))
    return member.email


def _out(session: Session, objective_id: int) -> ObjectiveOut:
    view = service.one(session, objective_id, today=today())
    return ObjectiveOut.model_validate(view, from_attributes=True)


def _check_may_change(session: Session, user: User, objective_id: int) -> None:
    objective = service.get(session, objective_id)
    account = service.get_account(session, objective.account_id)
    if not may_edit_account(user, account.owner_id, objective.owner_id):
        raise Forbidden(_("A CSM changes the objectives of the accounts they own."))


@success_plans_api.get("/success-plans", response_model=ObjectivePageOut)
def api_success_plans(
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    q: Annotated[str, Query(max_length=200, description="In the title or account name.")] = "",
    account_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    owner: Annotated[
        str,
        Query(
            pattern=r"^(me|[0-9]{1,19})?$",
            description="me (the signed-in CSM), a team member's id, or empty for everyone.",
        ),
    ] = "",
    status: Annotated[
        Literal["", "open", "not_started", "on_track", "at_risk", "achieved", "abandoned"],
        Query(description="A status, or open (not started, on track or at risk)."),
    ] = "",
    kind: Literal["", "metric", "kpi"] = "",
    overdue: Annotated[bool, Query(description="Only open objectives past due.")] = False,
    page: Annotated[
        int, Query(ge=1, le=MAX_PAGE, description="1-based; a page past the last is empty.")
    ] = 1,
) -> ObjectivePageOut:
    """Objectives by due date (none last), one page of 50, with progress and history."""
    flt = ObjectiveFilter(
        account_id=account_id, owner_id=owner_parameter(session, user, owner),
        status=status or None, kind=kind or None, overdue=overdue, q=q, page=page,
    )  # fmt: skip
    result = service.list_objectives(session, flt, today=today(), history=True)
    items = [ObjectiveOut.model_validate(v, from_attributes=True) for v in result.items]
    return ObjectivePageOut(total=result.total, page=result.page, pages=result.pages, items=items)


@success_plans_api.post("/success-plans", response_model=ObjectiveOut, status_code=201)
def api_add_objective(
    body: ObjectiveIn,
    user: Annotated[User, Depends(require_role(*WRITER_ROLES))],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> ObjectiveOut:
    """Add an objective (an unknown account is a 422 on ``account_id``); a CSM on the accounts
    they own."""
    try:
        account = service.get_account(session, body.account_id)
    except NotFound as exc:
        raise InvalidValue("account_id", str(exc)) from None
    if not may_edit_account(user, account.owner_id):
        raise Forbidden(_("A CSM adds objectives on the accounts they own."))
    o = service.add_objective(
        session, body.account_id, body.title, target=body.target, measure=body.measure,
        kpi=body.kpi_name, baseline=body.baseline, due_date=body.due_date,
        owner=_email(session, body.owner_id), contact_id=body.contact_id, status=body.status,
        from_handoff=body.from_handoff, today=today(),
    )  # fmt: skip
    return _out(session, o.id)


@success_plans_api.patch("/success-plans/{objective_id}", response_model=ObjectiveOut)
def api_change_objective(
    objective_id: ObjectiveId,
    body: ObjectiveChange,
    user: Annotated[User, Depends(require_role(*WRITER_ROLES))],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> ObjectiveOut:
    """Change an objective (only the fields sent); the history keeps each change."""
    _check_may_change(session, user, objective_id)
    service.update_objective(
        session, objective_id, title=body.title, baseline=body.baseline, target=body.target,
        due_date=body.due_date, owner=_email(session, body.owner_id), contact_id=body.contact_id,
        status=body.status, value=body.value, note=body.note, today=today(),
    )  # fmt: skip
    return _out(session, objective_id)


@success_plans_api.post("/success-plans/{objective_id}/reviews", response_model=ObjectiveOut)
def api_review_objective(
    objective_id: ObjectiveId,
    body: ReviewIn,
    user: Annotated[User, Depends(require_role(*WRITER_ROLES))],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> ObjectiveOut:
    """Record a review: a note, and optionally the new status or a manual KPI's value."""
    _check_may_change(session, user, objective_id)
    service.review(
        session, objective_id, body.note, status=body.status, value=body.value, today=today()
    )
    return _out(session, objective_id)
