"""My tasks: the open calls to action (CTAs) of the signed-in CSM, or of everyone for ops/admin
and viewers, and the forms that act on a CTA (here and on the account 360); the public
unsubscribe link of playbook e-mails.

The forms post to ``/ctas...``; with htmx the answer is the CTA's card (or what replaces it
once it leaves the queue) plus the queue's counts, swapped in place; without it, a redirect back
to the page. A viewer gets 403 from every one of them."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from banso.dates import today as company_today
from banso.errors import BansoError, NotFound
from banso.i18n import _
from banso.labels import label
from banso.messaging import outbox
from banso.playbooks import ctas
from banso.users.models import User
from banso.web.auth import EDITOR_ROLES, Forbidden, current_user, db_session
from banso.web.params import MAX_ID
from banso.web.templating import render

tasks_pages = APIRouter(include_in_schema=False)
CtaId = Annotated[int, Path(ge=1, le=MAX_ID)]
ViewField = Annotated[str, Form(pattern=r"^(tasks|account)$")]


@tasks_pages.get("/tasks")
def tasks_page(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    everyone: bool = False,
) -> Response:
    mine = user.role == "csm" and not everyone
    section = _tasks_section(session, user, everyone)
    context = {"section": section, "mine": mine, "today": company_today(), "writer": _writer(user)}
    return render(request, "tasks.html", context)


def _tasks_section(session: Session, user: User, everyone: bool) -> ctas.CtaSection:
    mine = user.role == "csm" and not everyone
    owner_id = (user.team_member_id or -1) if mine else None
    return ctas.cta_section(session, view="tasks", owner_id=owner_id, everyone=not mine)


def _writer(user: User) -> ctas.Writer:
    return ctas.Writer.of(user, EDITOR_ROLES)


def writing_user(user: Annotated[User, Depends(current_user)]) -> User:
    """The signed-in user when their role may change CTAs at all (a viewer: 403 at once)."""
    if not _writer(user).may_write:
        raise Forbidden
    return user


@tasks_pages.post("/ctas")
def create_cta(
    request: Request,
    account_id: Annotated[int, Form(ge=1, le=MAX_ID)],
    user: Annotated[User, Depends(writing_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    title: Annotated[str, Form(max_length=ctas.MAX_TITLE)] = "",
    type: Annotated[str, Form(max_length=32)] = "risk",
    priority: Annotated[str, Form(max_length=32)] = "medium",
    due_date: Annotated[date | None, Form()] = None,
    template: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Open a CTA on an account from the 360."""
    error = None
    try:
        ctas.create(
            session, _writer(user), account_id, title=title, type=type, priority=priority,
            due_date=due_date, template=template or None,
        )  # fmt: skip
    except ctas.NotAllowed as exc:
        raise Forbidden(str(exc)) from None
    except NotFound:
        raise
    except BansoError as exc:
        if not _htmx(request):
            raise
        error = str(exc)
    if not _htmx(request):
        return RedirectResponse(f"/accounts/{account_id}#open-ctas", status_code=303)
    account_owner = ctas.account_owner(session, account_id)
    section = ctas.cta_section(session, view="account", account_id=account_id)
    context = {"section": section, "writer": _writer(user), "today": company_today(),
               "account_owner_id": account_owner, "create_error": error}  # fmt: skip
    return render(request, "_ctas.html", context)


@tasks_pages.post("/ctas/{cta_id}/tasks/{task_id}")
def tick_task(
    request: Request,
    cta_id: CtaId,
    task_id: CtaId,
    user: Annotated[User, Depends(writing_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    view: ViewField = "tasks",
    everyone: Annotated[str, Form(max_length=5)] = "",
    done: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Tick (``done=1``) or untick a step."""

    def act() -> None:
        task = ctas.set_task(session, _writer(user), task_id, bool(done))
        if task.cta_id != cta_id:
            raise NotFound(_("No task {id}.", id=task_id))

    return _act(request, session, user, cta_id, view, everyone, act)


@tasks_pages.post("/ctas/{cta_id}/comments")
def comment_cta(
    request: Request,
    cta_id: CtaId,
    user: Annotated[User, Depends(writing_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    text: Annotated[str, Form(max_length=ctas.MAX_COMMENT)] = "",
    view: ViewField = "tasks",
    everyone: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    return _act(request, session, user, cta_id, view, everyone,
                lambda: ctas.comment(session, _writer(user), cta_id, text))  # fmt: skip


@tasks_pages.post("/ctas/{cta_id}/snooze")
def snooze_cta(
    request: Request,
    cta_id: CtaId,
    user: Annotated[User, Depends(writing_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    until: Annotated[date | None, Form()] = None,
    view: ViewField = "tasks",
    everyone: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Snooze until a later day (an empty day brings the CTA back to the queue)."""
    return _act(request, session, user, cta_id, view, everyone,
                lambda: ctas.snooze(session, _writer(user), cta_id, until))  # fmt: skip


@tasks_pages.post("/ctas/{cta_id}/assign")
def assign_cta(
    request: Request,
    cta_id: CtaId,
    owner_id: Annotated[int, Form(ge=1, le=MAX_ID)],
    user: Annotated[User, Depends(writing_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    view: ViewField = "tasks",
    everyone: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    return _act(request, session, user, cta_id, view, everyone,
                lambda: ctas.reassign(session, _writer(user), cta_id, owner_id))  # fmt: skip


@tasks_pages.post("/ctas/{cta_id}/close")
def close_cta(
    request: Request,
    cta_id: CtaId,
    user: Annotated[User, Depends(writing_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    outcome: Annotated[str, Form(max_length=32)] = "",
    note: Annotated[str, Form(max_length=ctas.MAX_COMMENT)] = "",
    view: ViewField = "tasks",
    everyone: Annotated[str, Form(max_length=5)] = "",
    reason: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    writer = _writer(user)
    return _act(request, session, user, cta_id, view, everyone,
                lambda: ctas.close(session, cta_id, outcome, writer, note, reason))  # fmt: skip


def _act(
    request: Request,
    session: Session,
    user: User,
    cta_id: int,
    view: str,
    everyone: str,
    action: Any,
) -> Response:
    """Run ``action`` on the CTA and answer: with htmx the card again (or a line saying it left
    the queue) and the counts; without, a redirect to the page. A mistake (a day in the past,
    a closed CTA) is shown on the card with htmx, as an error page without."""
    error = None
    try:
        action()  # the service checks everything before it changes anything
    except ctas.NotAllowed as exc:
        raise Forbidden(str(exc)) from None
    except NotFound:
        raise
    except BansoError as exc:
        if not _htmx(request):
            raise
        error = str(exc)
    row = ctas.get_cta(session, cta_id)
    if not _htmx(request):
        back = f"/accounts/{row.account_id}#open-ctas" if view == "account" else "/tasks"
        if view == "tasks" and everyone:
            back += "?everyone=true"
        return RedirectResponse(back, status_code=303)
    today = company_today()
    if view == "account":
        section = ctas.cta_section(session, view="account", account_id=row.account_id)
    else:
        section = _tasks_section(session, user, bool(everyone))
    context = {"c": row, "section": section, "writer": _writer(user), "today": today,
               "error": error}  # fmt: skip
    gone = None
    if error is None and row.status == "closed":
        gone = _("Closed “{title}”: {outcome}.", title=row.title,
                 outcome=label(row.outcome, "cta_outcome"))  # fmt: skip
    elif error is None and view == "tasks" and row.snoozed_on(today):
        gone = _("Snoozed “{title}” until {day}.", title=row.title, day=row.snoozed_until)
    card = render(request, "_cta_gone.html" if gone else "_cta_card.html",
                  {**context, "message": gone})  # fmt: skip
    counts = render(request, "_cta_counts_oob.html", context)
    return Response(bytes(card.body) + bytes(counts.body), media_type="text/html; charset=utf-8")


def _htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


@tasks_pages.get("/unsubscribe/{token}")
def unsubscribe_page(request: Request, token: str) -> Response:
    """The link in playbook e-mails: asks to confirm, so link scanners do not unsubscribe."""
    return render(request, "unsubscribe.html", {"token": token, "email": None, "done": False})


@tasks_pages.post("/unsubscribe/{token}")
def unsubscribe_confirm(
    request: Request, token: str, session: Annotated[Session, Depends(db_session, scope="function")]
) -> Response:
    """Suppress further playbook e-mails to the token's address (also RFC 8058 one-click)."""
    email = outbox.unsubscribe(session, token)
    status = 200 if email else 400
    context = {"token": token, "email": email, "done": True}
    return render(request, "unsubscribe.html", context, status_code=status)
