"""``/api/campaigns``: list and create campaigns, and one campaign with its audience on a day
and the figures of each run (the same as ``banso campaigns list|create|preview|stats``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from banso.campaigns import service
from banso.dates import today
from banso.users.models import User
from banso.web.auth import db_session, require_role

campaigns_api = APIRouter(prefix="/api", tags=["campaigns"])

Editor = Annotated[User, Depends(require_role("admin", "ops"))]
CampaignId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class CampaignIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    segment: str = Field(min_length=1, max_length=100, description="A segment of segments.yaml.")
    subject_en: str = Field(
        max_length=300, description="Jinja2: contact, account, campaign, unsubscribe_url."
    )
    body_en: str = Field(max_length=20_000)
    subject_ja: str = Field(max_length=300)
    body_ja: str = Field(max_length=20_000)
    schedule: Literal["once", "weekly", "monthly"] = "once"
    first_send_on: date | None = Field(None, description="Default: today (company time).")
    touch_model: str | None = Field(None, max_length=16)
    tier: str | None = Field(None, max_length=32)
    lifecycle_stage: str | None = Field(None, max_length=32)
    language: Literal["ja", "en"] | None = Field(None, description="Only contacts of it.")
    tracking: bool = True
    survey: str | None = Field(
        None, max_length=50, description="Send this survey's invitation instead of the template."
    )


class CampaignOut(BaseModel):
    id: int
    name: str
    segment: str
    touch_model: str | None
    tier: str | None
    lifecycle_stage: str | None
    language: str | None
    schedule: str
    next_send_on: date | None
    tracking: bool
    survey: str | None = None


class AudienceOut(BaseModel):
    day: date
    contacts: int
    accounts: int
    excluded_suppressed: int = Field(description="Unsubscribed or bounced addresses.")
    excluded_no_email: int
    excluded_quiet: int = Field(description="Got a campaign email within the quiet period.")


class RunOut(BaseModel):
    run_on: date
    queued: int
    sent: int
    bounced: int
    suppressed: int
    waiting: int
    opened: int
    clicked: int


class CampaignDetail(BaseModel):
    campaign: CampaignOut
    audience: AudienceOut
    runs: list[RunOut]


@campaigns_api.get("/campaigns", response_model=list[CampaignOut])
def api_campaigns(
    _user: Editor, session: Annotated[Session, Depends(db_session, scope="function")]
) -> list[CampaignOut]:
    return [CampaignOut(**service.as_dict(c)) for c in service.campaigns(session)]


@campaigns_api.post("/campaigns", response_model=CampaignOut, status_code=201)
def api_create_campaign(
    body: CampaignIn,
    user: Editor,
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> CampaignOut:
    """Create a campaign (a bad field is a 422 naming it); sent by ``banso run`` on its day."""
    campaign = service.create(
        session, service.CampaignInput(**body.model_dump()), today(), user.email
    )
    return CampaignOut(**service.as_dict(campaign))


@campaigns_api.get("/campaigns/{campaign_id}", response_model=CampaignDetail)
def api_campaign(
    campaign_id: CampaignId,
    _user: Editor,
    session: Annotated[Session, Depends(db_session, scope="function")],
    day: Annotated[date | None, Query(description="Audience day (default today).")] = None,
) -> CampaignDetail:
    """The campaign, its audience on ``day`` and the figures of each run."""
    campaign = service.get(session, campaign_id)
    people = service.audience(session, campaign, day or today())
    audience = AudienceOut(
        day=people.day,
        contacts=people.contacts,
        accounts=people.accounts,
        excluded_suppressed=people.excluded_suppressed,
        excluded_no_email=people.excluded_no_email,
        excluded_quiet=people.excluded_quiet,
    )
    runs = [
        RunOut(**{k: getattr(r, k) for k in RunOut.model_fields})
        for r in service.stats(session, campaign_id)
    ]
    return CampaignDetail(
        campaign=CampaignOut(**service.as_dict(campaign)), audience=audience, runs=runs
    )
