"""``/api/opportunities``: list expansion opportunities with filters, open one, change it,
close it won or lost, and the monthly report against spec §3's expansion MRR. The same service
functions as the CLI (:mod:`banso.expansion.service`); admin, ops and CSMs write, a viewer
reads only (403 on a write). Every write is audited."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from banso.dates import today
from banso.errors import InvalidValue, NotFound
from banso.expansion import service
from banso.i18n import _
from banso.team.models import TeamMember
from banso.users.models import User
from banso.web.auth import Forbidden, current_user, db_session, may_edit_account, require_role
from banso.web.params import MAX_ID

opportunities_api = APIRouter(prefix="/api", tags=["opportunities"])
WRITER_ROLES = ("admin", "ops", "csm")
OpportunityId = Annotated[int, Path(ge=1, le=MAX_ID, description="The opportunity's id.")]
Kind = Literal["upsell", "cross_sell", "seats"]
Month = Annotated[str | None, Query(pattern=r"^[0-9]{4}-[0-9]{2}$", description="YYYY-MM.")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OpportunityOut(BaseModel):
    id: int
    account_id: int
    account_name: str | None
    kind: Kind | str
    expected_mrr: int = Field(description="Minor units of the reporting currency.")
    stage: str = Field(description="An open stage (expansion.yaml), or won / lost.")
    status: Literal["open", "closed"]
    close_date: date | None = Field(description="Expected close day; the day it closed.")
    owner: str | None = Field(description="The owner's email.")
    owner_id: int | None
    source: str = Field(description="manual, or the playbook that opened it.")
    notes: str | None


class OpportunityIn(_Body):
    account_id: int = Field(ge=1, le=MAX_ID)
    kind: Kind
    expected_mrr: int = Field(default=0, ge=0, description="Minor units of the reporting currency.")
    stage: str | None = Field(default=None, max_length=32, description="Default: the first.")
    close_date: date | None = None
    owner_id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="A team member; default the account's owner."
    )
    notes: str | None = Field(default=None, max_length=10_000)


class OpportunityChange(_Body):
    kind: Kind | None = None
    expected_mrr: int | None = Field(default=None, ge=0)
    stage: str | None = Field(default=None, max_length=32)
    close_date: date | None = None
    owner_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    notes: str | None = Field(default=None, max_length=10_000)


class CloseIn(_Body):
    outcome: Literal["won", "lost"]
    close_date: date | None = Field(default=None, description="Default: today.")
    expected_mrr: int | None = Field(default=None, ge=0, description="The MRR as finally agreed.")
    notes: str | None = Field(default=None, max_length=10_000)


class ReportRow(BaseModel):
    month: str
    won: int
    won_expected_mrr: float = Field(description="Major units, 2 decimals.")
    won_actual_expansion_mrr: float = Field(
        description="Spec §3 expansion MRR that month of the accounts won on that month."
    )
    won_accounts: int
    won_accounts_expanded: int
    expansion_mrr: float = Field(description="The month's expansion MRR, all accounts.")
    customers_start: int
    upsell_accounts: int
    cross_sell_accounts: int
    upsell_rate: float | None
    cross_sell_rate: float | None


def _email(session: Session, member_id: int | None) -> str | None:
    if member_id is None:
        return None
    member = session.get(TeamMember, member_id)
    if member is None:
        raise InvalidValue("owner_id", _("No team member with id {id}.", id=member_id))
    return member.email


def _check_may_change(session: Session, user: User, opportunity_id: int) -> None:
    """A CSM changes the opportunities they own or that are on the accounts they own."""
    opportunity = service.get(session, opportunity_id)
    account = service.get_account(session, opportunity.account_id)
    if not may_edit_account(user, account.owner_id, opportunity.owner_id):
        raise Forbidden(
            _("A CSM changes the opportunities they own or those of the accounts they own.")
        )


def _one(session: Session, opportunity_id: int) -> OpportunityOut:
    rows = service.list_opportunities(session, status=None, opportunity_id=opportunity_id)
    return OpportunityOut(**rows[0])


@opportunities_api.get("/opportunities", response_model=list[OpportunityOut])
def api_opportunities(
    _user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    status: Literal["", "open", "closed"] = "open",
    kind: Literal["", "upsell", "cross_sell", "seats"] = "",
    stage: Annotated[str, Query(max_length=32)] = "",
    owner_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    account_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> list[OpportunityOut]:
    """Opportunities by close date (open ones by default; empty status: all)."""
    rows = service.list_opportunities(
        session, status=status or None, kind=kind or None, stage=stage or None,
        owner_id=owner_id, account_id=account_id,
    )  # fmt: skip
    return [OpportunityOut(**r) for r in rows]


@opportunities_api.post("/opportunities", response_model=OpportunityOut, status_code=201)
def api_create_opportunity(
    body: OpportunityIn,
    user: Annotated[User, Depends(require_role(*WRITER_ROLES))],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> OpportunityOut:
    """Open an opportunity by hand (an unknown account is a 422 on ``account_id``); a CSM on
    the accounts they own."""
    try:
        account = service.get_account(session, body.account_id)
    except NotFound as exc:
        raise InvalidValue("account_id", str(exc)) from None
    if not may_edit_account(user, account.owner_id):
        raise Forbidden(_("A CSM opens opportunities on the accounts they own."))
    o = service.add(
        session, body.account_id, body.kind, expected_mrr=body.expected_mrr, stage=body.stage,
        close_date=body.close_date, owner=_email(session, body.owner_id), notes=body.notes,
    )  # fmt: skip
    return _one(session, o.id)


@opportunities_api.patch("/opportunities/{opportunity_id}", response_model=OpportunityOut)
def api_change_opportunity(
    opportunity_id: OpportunityId,
    body: OpportunityChange,
    user: Annotated[User, Depends(require_role(*WRITER_ROLES))],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> OpportunityOut:
    """Change an open opportunity (only the fields sent)."""
    _check_may_change(session, user, opportunity_id)
    service.update(
        session, opportunity_id, stage=body.stage, expected_mrr=body.expected_mrr,
        close_date=body.close_date, owner=_email(session, body.owner_id), kind=body.kind,
        notes=body.notes,
    )  # fmt: skip
    return _one(session, opportunity_id)


@opportunities_api.post("/opportunities/{opportunity_id}/close", response_model=OpportunityOut)
def api_close_opportunity(
    opportunity_id: OpportunityId,
    body: CloseIn,
    user: Annotated[User, Depends(require_role(*WRITER_ROLES))],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> OpportunityOut:
    """Close an open opportunity as won or lost."""
    _check_may_change(session, user, opportunity_id)
    service.close(
        session, opportunity_id, body.outcome, body.close_date or today(),
        expected_mrr=body.expected_mrr, notes=body.notes,
    )  # fmt: skip
    return _one(session, opportunity_id)


@opportunities_api.get("/opportunities/report", response_model=list[ReportRow])
def api_opportunities_report(
    _user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    start: Annotated[Month, Query(alias="from")] = None,
    end: Annotated[Month, Query(alias="to")] = None,
) -> list[ReportRow]:
    """Per month: won opportunities, expected vs actual expansion MRR, upsell and cross-sell
    rates (docs/metrics.md)."""
    return [ReportRow(**service.rounded(r)) for r in service.report(session, start=start, end=end)]
