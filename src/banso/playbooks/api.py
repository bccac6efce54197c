"""``/api/ctas``: list CTAs with filters and pages, open one, change it (snooze, reassign,
priority, due date), tick tasks, comment, close. The same service functions as the web app
(:mod:`banso.playbooks.ctas`), the same role rule: admin and ops change any CTA, a CSM their
own CTAs and those of the accounts they own, a viewer none (403)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.errors import InvalidValue, NotFound
from banso.i18n import _, current_language
from banso.labels import label
from banso.playbooks import ctas
from banso.playbooks.models import Cta, CtaTask
from banso.users.models import User
from banso.web.auth import EDITOR_ROLES, Forbidden, current_user, db_session
from banso.web.params import MAX_ID, UtcDateTime, owner_parameter

ctas_api = APIRouter(prefix="/api", tags=["ctas"])
MAX_PAGE = 1_000_000
CtaId = Annotated[int, Path(ge=1, le=MAX_ID, description="The CTA's id.")]
TaskId = Annotated[int, Path(ge=1, le=MAX_ID, description="The task's id.")]
DayQuery = Annotated[date | None, Query(description="A day YYYY-MM-DD.")]
CtaType = Literal["risk", "opportunity", "lifecycle", "activity"]
Priority = Literal["low", "medium", "high", "urgent"]
Outcome = Literal["resolved", "churned", "expanded", "renewed", "not_needed", "no_response"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TaskOut(BaseModel):
    id: int
    title: str = Field(description="In the request's language where the playbook gives it.")
    done: bool
    due_date: date


class CommentOut(BaseModel):
    at: UtcDateTime
    author: str
    text: str


class CtaOut(BaseModel):
    id: int
    account_id: int
    account: str
    title: str = Field(description="In the request's language (Accept-Language or lang).")
    title_texts: dict[str, str] = Field(
        description="The title in every language the playbook gives (en, ja); a title a "
        "person typed is given under the request's language."
    )
    type: CtaType | str
    priority: Priority | str
    priority_label: str = Field(description="The priority in the request's language.")
    status: Literal["open", "closed"] | str
    due_date: date
    owner_id: int | None
    owner: str | None = Field(description="The owner's name.")
    owner_email: str | None
    playbook: str = Field(description="The playbook that opened it, or manual.")
    snoozed_until: date | None = Field(description="Out of the queue until this day.")
    note: str | None = Field(
        default=None, description="What the CTA carries, e.g. the sales handoff (carry: handoff)."
    )
    outcome: str | None
    outcome_note: str | None
    first_triggered_on: date
    last_triggered_on: date
    trigger_count: int
    created_at: UtcDateTime
    closed_at: UtcDateTime | None
    tasks: list[TaskOut]
    comments: list[CommentOut]


class CtaPageOut(BaseModel):
    total: int
    page: int
    pages: int
    items: list[CtaOut]


class CtaIn(_Body):
    account_id: int = Field(ge=1, le=MAX_ID)
    title: str = Field(
        default="",
        max_length=ctas.MAX_TITLE,
        description="What is to be done and why; may be empty with a template.",
    )
    type: CtaType = "risk"
    priority: Priority = "medium"
    due_date: date | None = Field(
        default=None, description="Default: the template's, else 3 business days from today."
    )
    template: str | None = Field(
        default=None, max_length=100, description="A playbook name: its CTA's title and tasks."
    )
    owner_id: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="A team member; default the account's owner."
    )


class CtaChange(_Body):
    priority: Priority | None = None
    due_date: date | None = None
    owner_id: int | None = Field(default=None, ge=1, le=MAX_ID, description="Reassign.")
    snoozed_until: date | None = Field(
        default=None, description="Snooze until this later day; send null to wake it up."
    )


class CloseIn(_Body):
    outcome: Outcome
    note: str | None = Field(default=None, max_length=ctas.MAX_COMMENT)
    reason: str | None = Field(
        default=None,
        max_length=64,
        description="With the outcome churned: a churn reason code (GET /api/churn-reasons); "
        "recorded for the account and the month of closing.",
    )


class TaskChange(_Body):
    done: bool


class CommentIn(_Body):
    text: str = Field(min_length=1, max_length=ctas.MAX_COMMENT)


def _writer(user: User) -> ctas.Writer:
    writer = ctas.Writer.of(user, EDITOR_ROLES)
    if not writer.may_write:
        raise Forbidden
    return writer


def _out(row: ctas.CtaRow, texts: dict[str, str]) -> CtaOut:
    values: dict[str, Any] = {
        name: getattr(row, name) for name in CtaOut.model_fields if hasattr(row, name)
    }
    values["tasks"] = [TaskOut(**t.__dict__) for t in row.tasks]
    values["comments"] = [CommentOut(at=c.at, author=c.actor, text=c.text) for c in row.comments]
    values["title_texts"] = texts
    values["priority_label"] = label(row.priority, "cta_priority")
    return CtaOut(**values)


def _texts(session: Session, cta_id: int, title: str) -> dict[str, str]:
    stored = session.get(Cta, cta_id)
    if stored is not None and stored.title_texts:
        texts = stored.title_texts
        return {lang: ctas.localized(stored.title, texts, lang) for lang in ("en", "ja")}
    return {current_language(): title}


def _one(session: Session, cta_id: int) -> CtaOut:
    row = ctas.get_cta(session, cta_id)
    return _out(row, _texts(session, cta_id, row.title))


def _guarded(action: Any) -> Any:
    try:
        return action()
    except ctas.NotAllowed as exc:
        raise Forbidden(str(exc)) from None


@ctas_api.get("/ctas", response_model=CtaPageOut)
def api_ctas(
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    owner: Annotated[
        str,
        Query(
            pattern=r"^(me|[0-9]{1,19})?$",
            description="me (the signed-in CSM), a team member's id, or empty for everyone.",
        ),
    ] = "",  # fmt: skip
    account_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    status: Literal["", "open", "closed"] = "",
    priority: Literal["", "low", "medium", "high", "urgent"] = "",
    type: Literal["", "risk", "opportunity", "lifecycle", "activity"] = "",
    due_before: DayQuery = None,
    due_after: DayQuery = None,
    snoozed: Annotated[
        bool | None, Query(description="true: only snoozed; false: only not snoozed.")
    ] = None,
    page: Annotated[
        int, Query(ge=1, le=MAX_PAGE, description="1-based; a page past the last is empty.")
    ] = 1,
) -> CtaPageOut:
    """CTAs by due date, 50 a page; every filter given must hold (due_before and due_after
    include the day)."""
    owner_id = owner_parameter(session, user, owner)
    if due_before and due_after and due_after > due_before:
        raise InvalidValue("due_after", _("due_after is after due_before."))
    flt = ctas.CtaFilter(
        owner_id=owner_id, account_id=account_id, status=status or None,
        priority=priority or None, type=type or None, due_before=due_before,
        due_after=due_after, snoozed=snoozed,
    )  # fmt: skip
    found = ctas.find_ctas(session, flt, page)
    texts = _all_texts(session, [r.id for r in found.items])
    items = [_out(r, texts.get(r.id) or {current_language(): r.title}) for r in found.items]
    return CtaPageOut(total=found.total, page=found.page, pages=found.pages, items=items)


def _all_texts(session: Session, ids: list[int]) -> dict[int, dict[str, str]]:
    if not ids:
        return {}
    rows = session.execute(select(Cta.id, Cta.title, Cta.title_texts).where(Cta.id.in_(ids))).all()
    return {i: {lang: ctas.localized(t, x, lang) for lang in ("en", "ja")} for i, t, x in rows if x}


@ctas_api.get("/ctas/{cta_id}", response_model=CtaOut)
def api_cta(
    cta_id: CtaId,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> CtaOut:
    """One CTA with its tasks and comments."""
    return _one(session, cta_id)


@ctas_api.post("/ctas", response_model=CtaOut, status_code=201)
def api_create_cta(
    body: CtaIn,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> CtaOut:
    """Open a CTA on an account (admin/ops: any account; CSM: accounts they own)."""
    writer = _writer(user)
    cta = _guarded(
        lambda: ctas.create(
            session, writer, body.account_id, title=body.title, type=body.type,
            priority=body.priority, due_date=body.due_date, template=body.template,
            owner_id=body.owner_id,
        )
    )  # fmt: skip
    session.flush()
    return _one(session, cta.id)


@ctas_api.patch("/ctas/{cta_id}", response_model=CtaOut)
def api_change_cta(
    cta_id: CtaId,
    body: CtaChange,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> CtaOut:
    """Change an open CTA: priority, due date, owner, snooze (only the fields sent)."""
    writer = _writer(user)
    sent = body.model_fields_set

    def act() -> None:
        if "owner_id" in sent and body.owner_id is None:
            raise InvalidValue("owner_id", _("Give a team member's id."))
        if sent & {"priority", "due_date"}:
            ctas.update(session, writer, cta_id, priority=body.priority, due_date=body.due_date)
        if body.owner_id is not None:
            ctas.reassign(session, writer, cta_id, body.owner_id)
        if "snoozed_until" in sent:
            ctas.snooze(session, writer, cta_id, body.snoozed_until)
        if not sent:
            ctas.get_cta(session, cta_id)

    _guarded(act)
    session.flush()
    return _one(session, cta_id)


@ctas_api.post("/ctas/{cta_id}/close", response_model=CtaOut)
def api_close_cta(
    cta_id: CtaId,
    body: CloseIn,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> CtaOut:
    """Close an open CTA with an outcome."""
    writer = _writer(user)
    _guarded(lambda: ctas.close(session, cta_id, body.outcome, writer, body.note, body.reason))
    session.flush()
    return _one(session, cta_id)


@ctas_api.patch("/ctas/{cta_id}/tasks/{task_id}", response_model=TaskOut)
def api_change_task(
    cta_id: CtaId,
    task_id: TaskId,
    body: TaskChange,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> TaskOut:
    """Tick (``done: true``) or untick one step of an open CTA."""
    writer = _writer(user)
    stored = session.get(CtaTask, task_id)
    if stored is None or stored.cta_id != cta_id:
        raise NotFound(_("No task {id}.", id=task_id))
    _guarded(lambda: ctas.set_task(session, writer, task_id, body.done))
    session.flush()
    [task] = [t for t in ctas.get_cta(session, cta_id).tasks if t.id == task_id]
    return TaskOut(**task.__dict__)


@ctas_api.post("/ctas/{cta_id}/comments", response_model=CommentOut, status_code=201)
def api_comment(
    cta_id: CtaId,
    body: CommentIn,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> CommentOut:
    """Add a comment to a CTA."""
    writer = _writer(user)
    event = _guarded(lambda: ctas.comment(session, writer, cta_id, body.text))
    session.flush()
    return CommentOut(at=event.at, author=event.actor, text=body.text.strip())
