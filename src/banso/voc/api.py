"""``GET /api/surveys/report``: NPS, CSAT or CES by month, segment, touch model, owner or plan,
with the count, the 95 % interval and the response rate; and the newest verbatims."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from banso.dates import check_day
from banso.users.models import User
from banso.voc import report
from banso.web.auth import current_user, db_session

surveys_api = APIRouter(prefix="/api", tags=["surveys"])


class RowOut(BaseModel):
    key: str = Field(description="The group (YYYY-MM, segment, touch model, owner, plan); "
                     "blank: none that day; the total row is blank too.")  # fmt: skip
    count: int = Field(description="Answers in the group.")
    score: float | None = Field(description="NPS in points, CSAT in %, CES as the mean.")
    ci_low: float | None = Field(description="95% interval, lower end (docs/surveys.md).")
    ci_high: float | None
    invited: int = Field(description="Invitations Banso sent in the group.")
    answered: int = Field(description="Of those, answered.")
    response_rate: float | None = Field(description="answered ÷ invited, in %.")


class VerbatimOut(BaseModel):
    account_id: int
    account: str
    mrr: int | None = Field(description="The account's MRR today, minor units of the currency.")
    survey_type: str
    score: int
    category: str
    comment: str
    answered_at: datetime


class ReportOut(BaseModel):
    survey_type: str
    by: str
    method: str
    total: RowOut
    rows: list[RowOut]
    verbatims: list[VerbatimOut]


@surveys_api.get("/surveys/report", response_model=ReportOut)
def survey_report(
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    survey_type: Annotated[str, Query(alias="type", pattern=r"^(nps|csat|ces)$")] = "nps",
    by: Annotated[str, Query(pattern=r"^(month|segment|touch|owner|plan)$")] = "month",
    first: Annotated[date | None, Query(description="First answer day (company time).")] = None,
    last: Annotated[date | None, Query(description="Last answer day, included.")] = None,
) -> ReportOut:
    """The survey report of the answers given from ``first`` to ``last``."""
    first = check_day(first, "first") if first else None
    last = check_day(last, "last") if last else None
    found = report.survey_report(session, survey_type, by, first=first, last=last)
    return ReportOut(
        survey_type=survey_type, by=by, method=report.method_note(survey_type),
        total=RowOut(**found.total.as_dict()),  # type: ignore[arg-type]
        rows=[RowOut(**r.as_dict()) for r in found.rows],  # type: ignore[arg-type]
        verbatims=[VerbatimOut(**v.as_dict()) for v in report.verbatims(session, survey_type)],  # type: ignore[arg-type]
    )  # fmt: skip
