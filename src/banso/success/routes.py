"""The success plan on the account 360: add an objective (from the handoff's draft), change its
status or a manual KPI's value with a note, record a review, set the handoff. htmx swaps the
section in place; without htmx the forms redirect back to the 360. Admin, ops and the owner CSM
(the account's, or the objective's own) write; a viewer sees no forms and gets 403 from every
post. The same service as the CLI and the API, so every write is audited and kept in the
objective's history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from banso.dates import today
from banso.errors import BansoError, NotFound
from banso.success import handoff as handoffs
from banso.success import service
from banso.users.models import User
from banso.web.auth import Forbidden, current_user, db_session, may_edit_account
from banso.web.params import MAX_ID, AccountId
from banso.web.templating import render

success_pages = APIRouter(include_in_schema=False)
ObjectiveId = Annotated[int, Path(ge=1, le=MAX_ID)]
Text = Annotated[str, Form(max_length=10_000)]
Number = Annotated[str, Form(max_length=40)]


def section_context(session: Session, user: User, account_id: int) -> dict[str, Any]:
    """What ``_success_plan.html`` needs (the 360 builds the same from the same service)."""
    plan = service.plan_section(session, account_id, today=today())
    return service.section_values(plan, partial(may_edit_account, user))


@success_pages.post("/accounts/{account_id}/success-plan/objectives")
def add_objective(
    request: Request,
    account_id: AccountId,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    title: Text,
    target: Number,
    measured_by: Annotated[str, Form(max_length=200)] = "",
    kpi_name: Annotated[str, Form(max_length=200)] = "",
    baseline: Number = "",
    due_date: Annotated[date | None, Form()] = None,
    contact_id: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None,
    owner: Annotated[str, Form(max_length=320)] = "",
    from_handoff: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Add an objective: ``measured_by`` is a measure's name, or ``kpi`` with ``kpi_name``."""
    account = service.get_account(session, account_id)
    if not may_edit_account(user, account.owner_id):
        raise Forbidden

    def act() -> None:
        kpi = measured_by == "kpi"
        service.add_objective(
            session, account_id, title, target=_number(target, "target"),
            measure=None if kpi or not measured_by else measured_by,
            kpi=(kpi_name or None) if kpi else None,
            baseline=_number(baseline, "baseline") if baseline.strip() else None,
            due_date=due_date, owner=owner or None, contact_id=contact_id,
            from_handoff=bool(from_handoff), today=today(),
        )  # fmt: skip

    return _answer(request, session, user, account_id, act)


@success_pages.post("/success-plan/objectives/{objective_id}")
def update_objective(
    request: Request,
    objective_id: ObjectiveId,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    status: Annotated[str, Form(max_length=16)] = "",
    value: Number = "",
    target: Number = "",
    due_date: Annotated[date | None, Form()] = None,
    note: Text = "",
    review: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Change the status, a manual KPI's value, the target or due date; with ``review`` the
    note is a review (required)."""
    objective = service.get(session, objective_id)
    account = service.get_account(session, objective.account_id)
    if not may_edit_account(user, account.owner_id, objective.owner_id):
        raise Forbidden

    def act() -> None:
        number = _number(value, "value") if value.strip() else None
        if review:
            service.review(session, objective_id, note, status=status or None, value=number,
                           today=today())  # fmt: skip
            return
        service.update_objective(
            session, objective_id, status=status or None, value=number,
            target=_number(target, "target") if target.strip() else None, due_date=due_date,
            note=note or None, today=today(),
        )  # fmt: skip

    return _answer(request, session, user, account.id, act)


@success_pages.post("/accounts/{account_id}/handoff")
def set_handoff(
    request: Request,
    account_id: AccountId,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    promised_outcome: Text = "",
    stakeholders: Text = "",
    deal_notes: Text = "",
) -> Response:
    """Write the handoff by hand (what sales said in the handoff meeting)."""
    account = service.get_account(session, account_id)
    if not may_edit_account(user, account.owner_id):
        raise Forbidden

    def act() -> None:
        handoffs.set_handoff(session, account_id, promised_outcome=promised_outcome,
                             stakeholders=stakeholders, deal_notes=deal_notes)  # fmt: skip

    return _answer(request, session, user, account_id, act)


def _number(text: str, name: str) -> float:
    try:
        return float(text.replace(",", "").strip())
    except ValueError:
        raise BansoError(service.not_a_number(name, text)) from None


def _answer(
    request: Request, session: Session, user: User, account_id: int, act: Callable[[], None]
) -> Response:
    """Run ``act``; with htmx answer the section again (a mistake shown in it), without it
    redirect to the 360 (a mistake as the error page)."""
    htmx = request.headers.get("hx-request") == "true"
    error = None
    try:
        act()  # the service checks everything before it changes anything
    except NotFound:
        raise
    except BansoError as exc:
        if not htmx:
            raise
        error = str(exc)
    if not htmx:
        return RedirectResponse(f"/accounts/{account_id}#success-plan", status_code=303)
    context = section_context(session, user, account_id) | {"plan_error": error}
    return render(request, "_success_plan.html", context)
