"""The Expansion page: open (or closed) opportunities with filters, and for admin, ops and CSMs
the forms that open one and close one won or lost. The forms post and redirect back; a viewer
sees the list without forms and gets 403 from every post. Same service as the CLI and the API
(:mod:`banso.expansion.service`), so every write is audited."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.dates import today
from banso.expansion import service
from banso.expansion.models import CLOSED_STAGES, OPPORTUNITY_KINDS
from banso.i18n import _
from banso.team.models import TeamMember
from banso.users.models import User
from banso.web.auth import Forbidden, current_user, db_session, may_edit_account
from banso.web.params import MAX_ID
from banso.web.templating import render

expansion_pages = APIRouter(include_in_schema=False)
WRITER_ROLES = ("admin", "ops", "csm")
OpportunityId = Annotated[int, Path(ge=1, le=MAX_ID)]


def writing_user(user: Annotated[User, Depends(current_user)]) -> User:
    if user.role not in WRITER_ROLES:
        raise Forbidden
    return user


@expansion_pages.get("/expansion")
def expansion_page(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    status: Annotated[str, Query(pattern=r"^(open|closed|)$")] = "open",
    kind: Annotated[str, Query(pattern=r"^(upsell|cross_sell|seats|)$")] = "",
    stage: Annotated[str, Query(max_length=32)] = "",
    owner: Annotated[str, Query(alias="owner_id", pattern=r"^([1-9][0-9]{0,17})?$")] = "",
) -> Response:
    """The list; the filter form sends an empty value for "All"."""
    owner_id = int(owner) if owner else None
    rows = service.list_opportunities(
        session, status=status or None, kind=kind or None, stage=stage or None,
        owner_id=owner_id,
    )  # fmt: skip
    members = session.execute(select(TeamMember.id, TeamMember.name).order_by(TeamMember.name))
    context = {
        "rows": rows,
        "filters": {"status": status, "kind": kind, "stage": stage, "owner_id": owner_id},
        "kinds": OPPORTUNITY_KINDS,
        "stages": service.open_stages(),
        "closed_stages": CLOSED_STAGES,
        "members": members.all(),
        "writer": user.role in WRITER_ROLES,
        "today": today(),
    }
    return render(request, "expansion.html", context)


@expansion_pages.post("/expansion/opportunities")
def create_opportunity(
    account_id: Annotated[int, Form(ge=1, le=MAX_ID)],
    kind: Annotated[str, Form(max_length=16)],
    user: Annotated[User, Depends(writing_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    expected_mrr: Annotated[int, Form(ge=0, le=10**15)] = 0,
    stage: Annotated[str, Form(max_length=32)] = "",
    close_date: Annotated[date | None, Form()] = None,
    notes: Annotated[str, Form(max_length=10_000)] = "",
) -> Response:
    """Open an opportunity (a CSM on the accounts they own); back to the list."""
    if not may_edit_account(user, service.get_account(session, account_id).owner_id):
        raise Forbidden(_("A CSM opens opportunities on the accounts they own."))
    service.add(
        session, account_id, kind, expected_mrr=expected_mrr, stage=stage or None,
        close_date=close_date, notes=notes or None,
    )  # fmt: skip
    return RedirectResponse("/expansion", status_code=303)


@expansion_pages.post("/expansion/opportunities/{opportunity_id}/close")
def close_opportunity(
    opportunity_id: OpportunityId,
    outcome: Annotated[str, Form(pattern=r"^(won|lost)$")],
    user: Annotated[User, Depends(writing_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    close_date: Annotated[date | None, Form()] = None,
) -> Response:
    """Close won or lost (default today); back to the list."""
    opportunity = service.get(session, opportunity_id)
    owner = service.get_account(session, opportunity.account_id).owner_id
    if not may_edit_account(user, owner, opportunity.owner_id):
        raise Forbidden(
            _("A CSM changes the opportunities they own or those of the accounts they own.")
        )
    service.close(session, opportunity_id, outcome, close_date or today())
    return RedirectResponse("/expansion", status_code=303)
