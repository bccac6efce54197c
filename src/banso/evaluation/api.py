"""``GET /api/team/scorecard?period=``: the scorecards of a period (``banso team scorecard``),
only those the caller may see (their own; a manager their team's; an admin everyone's)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from banso.evaluation.access import visible_members
from banso.evaluation.periods import parse_period
from banso.evaluation.render import report_dict
from banso.evaluation.scorecard import scorecards
from banso.users.models import User
from banso.web.auth import current_user, db_session

team_api = APIRouter(prefix="/api/team", tags=["team"])

PERIOD_PATTERN = r"^(FY[0-9]{4}(-?Q[1-4])?|[0-9]{4}-(0[1-9]|1[0-2]))$"


class ScorecardsOut(BaseModel):
    period: str = Field(description="FY2025-Q1, FY2025 or 2025-03.")
    from_: str = Field(alias="from", description="First month, YYYY-MM.")
    to: str = Field(description="Last month, YYYY-MM.")
    complete: bool = Field(description="Whether every month of the period is over.")
    currency: str
    scorecards: list[dict[str, Any]] = Field(
        description="Per CSM: member_id, name, email, team, job_title, rule (the evaluation "
        "entry applied), accounts, book (the period's revenue figures), axes (axis, weight, "
        "measure, actual, target, attainment), total (0-1.5), missing (axes without a figure), "
        "qualitative_note. docs/team.md, Evaluation."
    )


@team_api.get("/scorecard", response_model=ScorecardsOut, response_model_by_alias=True)
def api_scorecard(
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    period: Annotated[
        str,
        Query(pattern=PERIOD_PATTERN, description="FY2025Q1, FY2025-Q1, FY2025 or 2025-03."),
    ],
) -> dict[str, Any]:
    """Each visible CSM's book figures for the period against the targets of
    ``evaluation.yaml``, the attainment per axis and the weighted total."""
    visible = visible_members(session, user)
    report = scorecards(session, parse_period(period), member_ids=visible)
    return report_dict(report)
