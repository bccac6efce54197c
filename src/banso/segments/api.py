"""``GET /api/segments`` (the rules with accounts and MRR per segment on the newest evaluated
day) and ``GET /api/segments/{segment}/members``."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from banso.errors import NotFound
from banso.i18n import _
from banso.revenue.fx import reporting_currency
from banso.segments import service
from banso.segments.config import SegmentsError
from banso.segments.views import overview
from banso.users.models import User
from banso.web.auth import current_user, db_session

segments_api = APIRouter(prefix="/api", tags=["segments"])


class SegmentOut(BaseModel):
    segment: str
    label: str
    touch_model: str
    tier: str | None
    default: bool = Field(description="Accounts no rule matches get this segment.")
    rules: list[dict[str, Any]] = Field(
        description="Each rule of the segment: priority and conditions (money as MRR in major "
        "units of the reporting currency folded from ARR; see docs/segments.md)."
    )
    accounts: int | None = Field(description="Members on the day; null before any evaluation.")
    mrr: int | None = Field(description="Σ MRR of the members, minor units of the currency.")


class SegmentsOut(BaseModel):
    day: date | None = Field(description="The newest evaluated day.")
    currency: str
    segments: list[SegmentOut]


class MemberOut(BaseModel):
    account_id: int
    name: str
    touch_model: str | None
    tier: str | None
    touch_source: str | None
    owner: str | None
    since: date


class MembersOut(BaseModel):
    segment: str
    day: date | None
    total: int
    members: list[MemberOut]


@segments_api.get("/segments", response_model=SegmentsOut)
def api_segments(
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> SegmentsOut:
    """Every segment of ``segments.yaml`` with its touch model, tier and rules, and its accounts
    and MRR on the newest evaluated day."""
    seen = overview(session)
    if seen.problems:
        raise SegmentsError(seen.problems)
    return SegmentsOut(
        day=seen.day,
        currency=reporting_currency(),
        segments=[SegmentOut.model_validate(r, from_attributes=True) for r in seen.rows],
    )


@segments_api.get("/segments/{segment}/members", response_model=MembersOut)
def api_segment_members(
    segment: Annotated[str, Path(max_length=100)],
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    day: Annotated[date | None, Query(description="Default: the newest evaluated day.")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> MembersOut:
    """The accounts in ``segment`` on ``day``, by name."""
    if segment not in service.rule_set().segments:
        raise NotFound(_("Unknown segment {segment}.", segment=segment))
    total, members = service.members(session, segment, day, limit=limit, offset=offset)
    return MembersOut(
        segment=segment,
        day=day or service.latest_day(session),
        total=total,
        members=[MemberOut.model_validate(m, from_attributes=True) for m in members],
    )
