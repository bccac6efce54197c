"""``/api/onboarding``: accounts in onboarding at their first open milestone, paginated and
filtered like ``/api/accounts``; ``POST /api/onboarding/milestones/{id}`` ticks or unticks a
milestone (a CSM on the accounts they own, admin and ops on any; a viewer gets 403). Audited."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from banso.dates import today
from banso.i18n import _, current_language
from banso.onboarding import service
from banso.users.models import User
from banso.web.auth import Forbidden, current_user, db_session, may_edit_account
from banso.web.params import MAX_ID, owner_parameter

onboarding_api = APIRouter(prefix="/api", tags=["onboarding"])
MAX_PAGE = 1_000_000


class BoardItem(BaseModel):
    account_id: int
    account_name: str
    segment: str | None
    owner_id: int | None
    programme: str
    milestone: str = Field(description="The key of the account's first open milestone.")
    milestone_label: str
    due_on: date
    overdue: bool
    overdue_days: int
    done: int = Field(description="Milestones completed.")
    total: int
    contract_start: date


class BoardPageOut(BaseModel):
    total: int
    page: int
    pages: int
    items: list[BoardItem]


class MilestoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    done: bool


class MilestoneOut(BaseModel):
    id: int
    account_id: int
    programme: str
    milestone: str
    owner_side: str = Field(description="us or customer.")
    rule: str = Field(description="event, activity or manual.")
    magic_moment: bool
    contract_start: date
    due_on: date
    completed_on: date | None
    completed_by: str | None = Field(description="rule, or the email of who ticked it.")


@onboarding_api.get("/onboarding", response_model=BoardPageOut)
def api_onboarding(
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    owner: Annotated[
        str,
        Query(
            pattern=r"^(me|[0-9]{1,19})?$",
            description="me (the signed-in CSM), a team member's id, or empty for everyone.",
        ),
    ] = "",
    segment: Annotated[str, Query(max_length=200)] = "",
    milestone: Annotated[str, Query(max_length=64, description="A milestone key.")] = "",
    overdue: Annotated[
        bool, Query(description="Only accounts whose milestone is overdue.")
    ] = False,
    page: Annotated[
        int, Query(ge=1, le=MAX_PAGE, description="1-based; a page past the last is empty.")
    ] = 1,
) -> BoardPageOut:
    """Accounts in onboarding, one page of 50, overdue first (most overdue on top)."""
    flt = service.BoardFilter(
        owner_id=owner_parameter(session, user, owner), segment=segment, milestone=milestone,
        overdue_only=overdue, page=page,
    )  # fmt: skip
    board = service.board(session, today(), flt, current_language())
    return BoardPageOut(
        total=board.total, page=board.page, pages=board.pages,
        items=[BoardItem(**r.__dict__) for r in board.rows],
    )  # fmt: skip


@onboarding_api.post("/onboarding/milestones/{milestone_id}", response_model=MilestoneOut)
def api_tick_milestone(
    milestone_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    body: MilestoneIn,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> MilestoneOut:
    """Tick (``done: true``) or untick a milestone; one completed by its rule stays completed."""
    account = service.milestone_account(session, milestone_id)
    if not may_edit_account(user, account.owner_id):
        raise Forbidden(_("A CSM ticks milestones on the accounts they own."))
    row = service.set_milestone(session, milestone_id, body.done, today(), user.email)
    return MilestoneOut(
        id=row.id, account_id=row.account_id, programme=row.programme, milestone=row.milestone,
        owner_side=row.owner_side, rule=row.rule, magic_moment=row.magic_moment,
        contract_start=row.contract_start, due_on=row.due_on, completed_on=row.completed_on,
        completed_by=row.completed_by,
    )  # fmt: skip
