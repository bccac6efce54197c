"""The onboarding board (accounts at their first open milestone, overdue first, with the
completion rate and time to first value by cohort month) and the tick of a milestone from the
account 360 (htmx: the 360's milestone list comes back). A CSM ticks milestones of the accounts
they own, admin and ops of any (``web.auth.may_edit_account``); a viewer gets 403. Audited by
``onboarding.service.set_milestone``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.dates import today
from banso.i18n import _, current_language
from banso.onboarding import report as onboarding_report
from banso.onboarding import service
from banso.team.models import TeamMember
from banso.users.models import User
from banso.web.auth import Forbidden, current_user, db_session, may_edit_account
from banso.web.params import MAX_ID, owner_parameter
from banso.web.templating import render

onboarding_pages = APIRouter(include_in_schema=False)
MilestoneId = Annotated[int, Path(ge=1, le=MAX_ID)]
MAX_PAGE = 1_000_000


@onboarding_pages.get("/onboarding")
def onboarding_board(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    owner: Annotated[str, Query(pattern=r"^(me|[0-9]{1,19})?$")] = "",
    segment: Annotated[str, Query(max_length=100)] = "",
    milestone: Annotated[str, Query(max_length=64)] = "",
    overdue: bool = False,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
) -> Response:
    day = today()
    flt = service.BoardFilter(
        owner_id=owner_parameter(session, user, owner), segment=segment, milestone=milestone,
        overdue_only=overdue, page=page,
    )  # fmt: skip
    members = session.execute(select(TeamMember.id, TeamMember.name).order_by(TeamMember.name))
    context = {
        "board": service.board(session, day, flt, current_language()),
        "report": onboarding_report.onboarding_report(session, day, "cohort"),
        "filters": {"owner": owner, "segment": segment, "milestone": milestone,
                    "overdue": overdue},
        "members": members.all(),
        "names": dict(session.execute(select(TeamMember.id, TeamMember.name)).all()),
        "params": dict(request.query_params),
        "today": day,
    }  # fmt: skip
    return render(request, "onboarding_board.html", context)


@onboarding_pages.post("/onboarding/milestones/{milestone_id}")
def tick_milestone(
    request: Request,
    milestone_id: MilestoneId,
    done: Annotated[bool, Form()],
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> Response:
    """Tick or untick; htmx gets the 360's milestone list back, a plain form a redirect."""
    account = service.milestone_account(session, milestone_id)
    if not may_edit_account(user, account.owner_id):
        raise Forbidden(_("A CSM ticks milestones on the accounts they own."))
    service.set_milestone(session, milestone_id, done, today(), user.email)
    if request.headers.get("hx-request") != "true":
        return RedirectResponse(f"/accounts/{account.id}#onboarding", status_code=303)
    return render(
        request,
        "_onboarding_milestones.html",
        service.milestones_context(session, account.id, today(), current_language(), True),
    )
