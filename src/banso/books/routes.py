"""The Team page (``GET /team``): books of business per CSM by touch model, capacity, and the
proposed reassignment as a diff that an admin, ops or a manager applies (``POST /team/apply``,
audited); the same services as ``banso team``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from banso.books.assignment import apply_proposal
from banso.books.config import load_team_config
from banso.books.overview import MAX_HIRES, Hires, team_view
from banso.dates import today
from banso.errors import BansoError
from banso.i18n import _
from banso.team.models import TeamMember
from banso.users.models import User
from banso.web.auth import Forbidden, current_user, db_session
from banso.web.templating import render

team_pages = APIRouter(include_in_schema=False)
PAGE = "/team"
APPLYING_ROLES = ("admin", "ops")
APPLYING_TITLES = ("manager", "senior_manager")


def may_apply(session: Session, user: User) -> bool:
    """Admin and ops, or a user who is a team member with a manager's title."""
    if user.role in APPLYING_ROLES:
        return True
    if user.role == "viewer" or user.team_member_id is None:
        return False
    member = session.get(TeamMember, user.team_member_id)
    return member is not None and member.job_title in APPLYING_TITLES


@team_pages.get(PAGE)
def team_page(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    hires: Annotated[int, Query(ge=0, le=MAX_HIRES)] = 0,
    title: Annotated[str, Query(max_length=32)] = "",
    team: Annotated[str, Query(max_length=100)] = "",
    applied: Annotated[int | None, Query(ge=0, le=10**9)] = None,
) -> Response:
    what_if = Hires(hires, title or None, team or None)
    base = {"hires": hires, "title": title, "team": team, "applied": applied}
    try:
        config = load_team_config().model
        view = team_view(session, config, today(), what_if)
    except BansoError as problem:
        return render(request, "team.html", {**base, "message": str(problem)})
    data = view.as_dict()
    context = {
        **base,
        "message": None,
        "view": data,
        "titles": [t.title for t in config.titles],
        "teams": [t.name for t in config.teams],
        "may_apply": may_apply(session, user) and not hires,
    }
    return render(request, "team.html", context)


@team_pages.post(f"{PAGE}/apply")
def apply_assignment(
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    digest: Annotated[str, Form(min_length=1, max_length=64)],
) -> Response:
    """Apply the proposal the manager reviewed: refused when the books changed since (the
    proposal computed now has another digest)."""
    if not may_apply(session, user):
        raise Forbidden
    config = load_team_config().model
    view = team_view(session, config, today())
    if view.proposal.digest() != digest:
        raise BansoError(
            _("The books changed since the proposal was shown; review the new proposal.")
        )
    apply_proposal(session, view.proposal)
    return RedirectResponse(f"{PAGE}?applied={len(view.proposal.changes)}", status_code=303)
