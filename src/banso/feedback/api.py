"""``/api/feedback``: the requests ranked by the MRR asking, create one, record an ask, change
its status (shipped emails the contacts who asked), merge a duplicate. The same service as the
CLI (:mod:`banso.feedback.service`); admin, ops and CSMs write (a CSM records asks on the
accounts they own), a viewer reads only. Every write is audited."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.dates import today
from banso.errors import InvalidValue
from banso.feedback import service
from banso.i18n import _
from banso.users.models import User
from banso.web.auth import Forbidden, current_user, db_session, may_edit_account, require_role
from banso.web.params import MAX_ID

feedback_api = APIRouter(prefix="/api", tags=["feedback"])
WRITER_ROLES = ("admin", "ops", "csm")
RequestId = Annotated[int, Path(ge=1, le=MAX_ID, description="The request's id.")]
Status = Literal["under_review", "planned", "shipped", "declined"]
Category = Literal["feature_request", "improvement", "bug", "integration", "other"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RequestOut(BaseModel):
    id: int
    title: str
    description: str | None
    category: str
    status: str
    product_area: str | None
    merged_into_id: int | None
    asks: int
    accounts: int = Field(description="Distinct accounts asking.")
    contacts: int = Field(description="Distinct contacts asking.")
    mrr: int = Field(description="Σ current MRR of the accounts asking, minor units.")
    at_risk_accounts: int = Field(description="Accounts asking whose band is red or yellow.")
    at_risk_mrr: int = Field(description="Σ current MRR of those accounts, minor units.")


class RequestIn(_Body):
    title: str = Field(min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=10_000)
    category: Category = "feature_request"
    product_area: str | None = Field(default=None, max_length=100)


class AskIn(_Body):
    account_id: int = Field(ge=1, le=MAX_ID)
    contact_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    note: str | None = Field(default=None, max_length=10_000)
    asked_at: AwareDatetime | None = Field(default=None, description="Default: now.")


class AskOut(BaseModel):
    id: int
    request_id: int
    account_id: int
    contact_id: int | None
    source: str
    note: str | None
    asked_at: datetime


class StatusIn(_Body):
    status: Status


class StatusOut(BaseModel):
    id: int
    status: str
    emails_queued: int = Field(description="Shipped: emails queued to contacts who asked.")


class MergeIn(_Body):
    into: int = Field(ge=1, le=MAX_ID, description="The request to keep.")


def _one(session: Session, request_id: int) -> RequestOut:
    rows = [r for r in service.ranking(session) if r["id"] == request_id]
    return RequestOut(**rows[0])


@feedback_api.get("/feedback", response_model=list[RequestOut])
def api_feedback(
    _user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    rank_by: Literal["mrr", "at_risk_mrr"] = "mrr",
    status: Literal["", "under_review", "planned", "shipped", "declined"] = "",
    category: Literal["", "feature_request", "improvement", "bug", "integration", "other"] = "",
    product_area: Annotated[str, Query(max_length=100)] = "",
    account_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> list[RequestOut]:
    """Requests not merged away, ranked by the MRR (or at-risk MRR) of the accounts asking."""
    rows = service.ranking(
        session, rank_by=rank_by, status=status or None, category=category or None,
        product_area=product_area or None, account_id=account_id,
    )  # fmt: skip
    return [RequestOut(**r) for r in rows]


@feedback_api.post("/feedback", response_model=RequestOut, status_code=201)
def api_create_feedback(
    body: RequestIn,
    _user: Annotated[User, Depends(require_role(*WRITER_ROLES))],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> RequestOut:
    """Add a request (under review)."""
    request = service.add(
        session, body.title, description=body.description, category=body.category,
        product_area=body.product_area,
    )  # fmt: skip
    return _one(session, request.id)


@feedback_api.post("/feedback/{request_id}/asks", response_model=AskOut, status_code=201)
def api_ask(
    request_id: RequestId,
    body: AskIn,
    user: Annotated[User, Depends(require_role(*WRITER_ROLES))],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> AskOut:
    """Record that an account (and a contact of it) asked for the request; a CSM on the
    accounts they own."""
    account = session.get(Account, body.account_id)
    if account is None:
        raise InvalidValue("account_id", _("No account with id {id}.", id=body.account_id))
    if not may_edit_account(user, account.owner_id):
        raise Forbidden(_("A CSM records asks for the accounts they own."))
    the_ask = service.ask(
        session, request_id, body.account_id, contact_id=body.contact_id, source="api",
        note=body.note, asked_at=body.asked_at,
    )  # fmt: skip
    return AskOut.model_validate(the_ask, from_attributes=True)


@feedback_api.post("/feedback/{request_id}/status", response_model=StatusOut)
def api_feedback_status(
    request_id: RequestId,
    body: StatusIn,
    _user: Annotated[User, Depends(require_role(*WRITER_ROLES))],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> StatusOut:
    """Change the status; shipped queues one email per contact who asked (once ever)."""
    request, queued = service.change_status(session, request_id, body.status, today())
    return StatusOut(id=request.id, status=request.status, emails_queued=queued)


@feedback_api.post("/feedback/{request_id}/merge", response_model=RequestOut)
def api_feedback_merge(
    request_id: RequestId,
    body: MergeIn,
    _user: Annotated[User, Depends(require_role(*WRITER_ROLES))],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> RequestOut:
    """Merge this duplicate into ``into``; returns the kept request with the asks moved."""
    kept = service.merge(session, request_id, body.into)
    return _one(session, kept.id)
