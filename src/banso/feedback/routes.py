"""The Feedback page (requests ranked by the MRR asking, filters, the CSV download, and for
admin, ops and CSMs the forms that add a request, change its status and merge a duplicate), the
Advocacy page (items open first, status changes), and the 360's section (the account's requests
and advocacy, a form to record an ask, its survey comments each turnable into an ask). Forms post
and redirect back; a viewer sees no forms and gets 403 from every post. Same services as the CLI
and the API, so every write is audited."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.models import Account, Contact
from banso.dates import today
from banso.errors import NotFound
from banso.feedback import advocacy, service
from banso.feedback.models import (
    ADVOCACY_KINDS,
    ADVOCACY_OPEN,
    ADVOCACY_STATUSES,
    REQUEST_CATEGORIES,
    REQUEST_STATUSES,
)
from banso.i18n import _
from banso.users.models import User
from banso.web.auth import Forbidden, current_user, db_session, may_edit_account
from banso.web.params import MAX_ID
from banso.web.templating import render

feedback_pages = APIRouter(include_in_schema=False)
WRITER_ROLES = ("admin", "ops", "csm")
Id = Annotated[int, Path(ge=1, le=MAX_ID)]
StatusFilter = Annotated[str, Query(pattern=r"^(under_review|planned|shipped|declined|)$")]
CategoryFilter = Annotated[
    str, Query(pattern=r"^(feature_request|improvement|bug|integration|other|)$")
]
RankBy = Annotated[str, Query(pattern=r"^(mrr|at_risk_mrr)$")]


def writing_user(user: Annotated[User, Depends(current_user)]) -> User:
    if user.role not in WRITER_ROLES:
        raise Forbidden
    return user


def _account_editor(session: Session, user: User, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(_("There is no account with id {id}.", id=account_id))
    if not may_edit_account(user, account.owner_id):
        raise Forbidden(_("A CSM records asks for the accounts they own."))
    return account


@feedback_pages.get("/feedback")
def feedback_page(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    rank_by: RankBy = "mrr",
    status: StatusFilter = "",
    category: CategoryFilter = "",
    product_area: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    """The ranked requests; the filter form sends an empty value for "All"."""
    filters = {"rank_by": rank_by, "status": status, "category": category,
               "product_area": product_area}  # fmt: skip
    rows = service.ranking(
        session, rank_by=rank_by, status=status or None, category=category or None,
        product_area=product_area or None,
    )  # fmt: skip
    context = {
        "rows": rows,
        "filters": filters,
        "query": {k: v for k, v in filters.items() if v},
        "statuses": REQUEST_STATUSES,
        "categories": REQUEST_CATEGORIES,
        "writer": user.role in WRITER_ROLES,
    }
    return render(request, "feedback.html", context)


@feedback_pages.get("/feedback/export.csv")
def feedback_export(
    _user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    rank_by: RankBy = "mrr",
    status: StatusFilter = "",
    category: CategoryFilter = "",
    product_area: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    """The ranked requests as CSV (UTF-8 with a byte-order mark, so Excel reads Japanese)."""
    text = service.export_csv(
        session, rank_by=rank_by, status=status or None, category=category or None,
        product_area=product_area or None,
    )  # fmt: skip
    return Response(
        "\ufeff" + text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="feedback-{today()}.csv"'},
    )


@feedback_pages.post("/feedback/requests")
def create_request(
    title: Annotated[str, Form(max_length=300)],
    _user: Annotated[User, Depends(writing_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    description: Annotated[str, Form(max_length=10_000)] = "",
    category: Annotated[str, Form(max_length=32)] = "feature_request",
    product_area: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Add a request; back to the list."""
    service.add(
        session, title, description=description or None, category=category,
        product_area=product_area or None,
    )  # fmt: skip
    return RedirectResponse("/feedback", status_code=303)


@feedback_pages.post("/feedback/requests/{request_id}/status")
def change_status(
    request_id: Id,
    status: Annotated[str, Form(max_length=16)],
    _user: Annotated[User, Depends(writing_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> Response:
    """Change a request's status (shipped emails the contacts who asked); back to the list."""
    service.change_status(session, request_id, status, today())
    return RedirectResponse("/feedback", status_code=303)


@feedback_pages.post("/feedback/requests/{request_id}/merge")
def merge_request(
    request_id: Id,
    into: Annotated[int, Form(ge=1, le=MAX_ID)],
    _user: Annotated[User, Depends(writing_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> Response:
    """Merge the request into another; back to the list."""
    service.merge(session, request_id, into)
    return RedirectResponse("/feedback", status_code=303)


@feedback_pages.get("/accounts/{account_id}/feedback")
def account_feedback_fragment(
    request: Request,
    account_id: Id,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> Response:
    """The 360's section: the account's requests, survey comments, advocacy items."""
    account = session.get(Account, account_id)
    if account is None:
        message = _("There is no account with id {id}.", id=account_id)
        return render(request, "_feedback_section.html", {"missing": message}, status_code=404)
    context = {
        "account": account,
        "requests": service.account_requests(session, account_id),
        "comments": service.survey_comments(session, account_id),
        "advocacy": advocacy.list_items(session, account_id=account_id),
        "contacts": session.scalars(
            select(Contact).where(Contact.account_id == account_id).order_by(Contact.name)
        ).all(),
        "choices": service.open_requests(session),
        "can_edit": may_edit_account(user, account.owner_id),
        "advocacy_kinds": ADVOCACY_KINDS,
        "advocacy_open": ADVOCACY_OPEN,
        "advocacy_statuses": ADVOCACY_STATUSES,
    }
    return render(request, "_feedback_section.html", context)


@feedback_pages.post("/accounts/{account_id}/feedback/asks")
def account_ask(
    account_id: Id,
    user: Annotated[User, Depends(writing_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    request_id: Annotated[str, Form(pattern=r"^([1-9][0-9]{0,17})?$")] = "",
    title: Annotated[str, Form(max_length=300)] = "",
    contact_id: Annotated[str, Form(pattern=r"^([1-9][0-9]{0,17})?$")] = "",
    note: Annotated[str, Form(max_length=10_000)] = "",
    survey_response_id: Annotated[str, Form(pattern=r"^([1-9][0-9]{0,17})?$")] = "",
) -> Response:
    """Record an ask from the 360: on a chosen request, or on a new one with ``title``; from a
    survey comment when ``survey_response_id`` is given. Back to the account."""
    _account_editor(session, user, account_id)
    if request_id:
        chosen = int(request_id)
    else:
        chosen = service.add(session, title).id
    if survey_response_id:
        service.ask_from_survey(session, int(survey_response_id), chosen)
    else:
        service.ask(
            session, chosen, account_id, contact_id=int(contact_id) if contact_id else None,
            source="account_360", note=note or None,
        )  # fmt: skip
    return RedirectResponse(f"/accounts/{account_id}#feedback", status_code=303)


@feedback_pages.get("/advocacy")
def advocacy_page(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    status: Annotated[str, Query(pattern=r"^(proposed|asked|agreed|done|declined|)$")] = "",
    kind: Annotated[str, Query(pattern=r"^(reference|case_study|review|referral|)$")] = "",
) -> Response:
    """Advocacy items, open ones first."""
    context = {
        "rows": advocacy.list_items(session, status=status or None, kind=kind or None),
        "filters": {"status": status, "kind": kind},
        "kinds": ADVOCACY_KINDS,
        "statuses": ADVOCACY_STATUSES,
        "open_statuses": ADVOCACY_OPEN,
        "writer": user.role in WRITER_ROLES,
    }
    return render(request, "advocacy.html", context)


@feedback_pages.post("/advocacy/items")
def add_advocacy(
    account_id: Annotated[int, Form(ge=1, le=MAX_ID)],
    kind: Annotated[str, Form(max_length=16)],
    user: Annotated[User, Depends(writing_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    note: Annotated[str, Form(max_length=10_000)] = "",
    back: Annotated[str, Form(pattern=r"^(advocacy|account)$")] = "advocacy",
) -> Response:
    """Propose an advocacy item (a CSM on the accounts they own)."""
    _account_editor(session, user, account_id)
    advocacy.add(session, account_id, kind, today(), note=note or None)
    target = "/advocacy" if back == "advocacy" else f"/accounts/{account_id}#feedback"
    return RedirectResponse(target, status_code=303)


@feedback_pages.post("/advocacy/items/{item_id}/status")
def advocacy_status(
    item_id: Id,
    status: Annotated[str, Form(max_length=16)],
    user: Annotated[User, Depends(writing_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    back: Annotated[str, Form(pattern=r"^(advocacy|account)$")] = "advocacy",
) -> Response:
    """Move an advocacy item on; back where the form was."""
    item = advocacy.get(session, item_id)
    _account_editor(session, user, item.account_id)
    advocacy.change_status(session, item_id, status, today())
    target = "/advocacy" if back == "advocacy" else f"/accounts/{item.account_id}#feedback"
    return RedirectResponse(target, status_code=303)
