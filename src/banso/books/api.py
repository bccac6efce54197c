"""``GET /api/team``: books of business per CSM, capacity per touch model and the assignment
proposal (``banso team books|capacity|assign --propose``), optionally with what-if hires."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from banso.books.config import load_team_config
from banso.books.overview import MAX_HIRES, Hires, team_view
from banso.dates import today
from banso.users.models import User
from banso.web.auth import current_user, db_session

team_api = APIRouter(prefix="/api", tags=["team"])


class TeamOut(BaseModel):
    day: str
    hires: dict[str, Any]
    members: list[dict[str, Any]] = Field(
        description="Per team member: id, name, email, title, team, band_violations (accounts "
        "held outside the title's MRR band) and books by touch model (accounts, mrr, target)."
    )
    unowned: dict[str, int] = Field(description="Customer accounts without owner per touch model.")
    capacity: list[dict[str, Any]] = Field(
        description="Per touch model: accounts, csms, touches, touches_per_account_month, "
        "touches_per_csm_month, servable_accounts_per_csm, accounts_per_csm, utilisation, "
        "headroom (docs/team.md, Capacity)."
    )
    proposal: dict[str, Any] = Field(
        description="moved, assigned, overload, digest, unplaced, changes (account, from, to, "
        "reason) and the books after it (docs/team.md, Assignment)."
    )


@team_api.get("/team", response_model=TeamOut)
def api_team(
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    hires: Annotated[int, Query(ge=0, le=MAX_HIRES)] = 0,
    title: Annotated[str | None, Query(max_length=32)] = None,
    team: Annotated[str | None, Query(max_length=100)] = None,
) -> TeamOut:
    """The team today from ``team.yaml`` and the database; with ``hires`` (and ``title``,
    optionally ``team``), as if that many CSMs had joined."""
    config = load_team_config().model
    view = team_view(session, config, today(), Hires(hires, title, team))
    return TeamOut(**view.as_dict())
