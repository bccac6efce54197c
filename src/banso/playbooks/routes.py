"""My tasks: the open calls to action (CTAs) of the signed-in CSM, or of everyone for ops/admin
and viewers; and the public unsubscribe link of playbook e-mails."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.dates import today as company_today
from banso.playbooks import service as playbooks
from banso.playbooks.models import Cta, CtaTask
from banso.team.models import TeamMember
from banso.users.models import User
from banso.web.auth import current_user, db_session
from banso.web.templating import render

tasks_pages = APIRouter(include_in_schema=False)

MAX_ROWS = 200


@dataclass(frozen=True)
class CtaRow:
    id: int
    account_id: int
    account: str
    title: str
    priority: str
    due_date: date
    owner: str | None
    tasks: list[tuple[str, bool]]
    """(title, done) of each step, in order."""


@tasks_pages.get("/tasks")
def tasks_page(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    everyone: bool = False,
) -> Response:
    mine = user.role == "csm" and not everyone
    rows = open_ctas(session, owner_id=user.team_member_id if mine else None, limit=MAX_ROWS)
    return render(request, "tasks.html", {"rows": rows, "mine": mine, "today": company_today()})


@tasks_pages.get("/unsubscribe/{token}")
def unsubscribe_page(request: Request, token: str) -> Response:
    """The link in playbook e-mails: asks to confirm, so link scanners do not unsubscribe."""
    return render(request, "unsubscribe.html", {"token": token, "email": None, "done": False})


@tasks_pages.post("/unsubscribe/{token}")
def unsubscribe_confirm(
    request: Request, token: str, session: Annotated[Session, Depends(db_session, scope="function")]
) -> Response:
    """Suppress further playbook e-mails to the token's address (also RFC 8058 one-click)."""
    email = playbooks.unsubscribe(session, token)
    status = 200 if email else 400
    context = {"token": token, "email": email, "done": True}
    return render(request, "unsubscribe.html", context, status_code=status)


def open_ctas(
    session: Session,
    *,
    owner_id: int | None = None,
    account_id: int | None = None,
    limit: int = MAX_ROWS,
) -> list[CtaRow]:
    """Open CTAs by due date (of one owner or one account when given), with their steps."""
    query = (
        select(Cta, Account.name, TeamMember.name)
        .join(Account, Account.id == Cta.account_id)
        .outerjoin(TeamMember, TeamMember.id == Cta.owner_id)
        .where(Cta.status == "open")
        .order_by(Cta.due_date, Cta.id)
        .limit(limit)
    )
    if owner_id is not None:
        query = query.where(Cta.owner_id == owner_id)
    if account_id is not None:
        query = query.where(Cta.account_id == account_id)
    found = session.execute(query).all()
    steps: dict[int, list[tuple[str, bool]]] = {}
    if found:
        for task in session.scalars(
            select(CtaTask)
            .where(CtaTask.cta_id.in_([c.id for c, _a, _o in found]))
            .order_by(CtaTask.cta_id, CtaTask.position)
        ):
            steps.setdefault(task.cta_id, []).append((task.title, task.done_at is not None))
    return [
        CtaRow(
            c.id, c.account_id, account, c.title, c.priority, c.due_date, owner, steps.get(c.id, [])
        )  # fmt: skip
        for c, account, owner in found
    ]
