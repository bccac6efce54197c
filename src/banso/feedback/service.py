"""Feedback and feature requests: create, ask (from the 360, a survey comment, a ticket),
merge duplicates, change status (a shipped request emails each contact who asked, once), rank
by the MRR asking, and export for the product team.

Plain functions over a ``Session``; they do not commit. Every write is audited
(``feedback.*``). An account's MRR comes from :func:`banso.revenue.contracts.account_mrr` and
its band from ``health_current`` (:mod:`banso.health`); nothing is recomputed here.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.accounts.models import Account, Contact
from banso.audit.service import record
from banso.errors import BansoError, InvalidValue, NotFound
from banso.feedback.models import (
    ASK_SOURCES,
    REQUEST_CATEGORIES,
    REQUEST_STATUSES,
    FeedbackAsk,
    FeedbackRequest,
)
from banso.health.models import HealthCurrent
from banso.i18n import LANGUAGES, _, using_language
from banso.messaging import delivery, outbox
from banso.revenue import contracts
from banso.revenue.models import Subscription
from banso.support.models import Ticket
from banso.surveys.models import SurveyResponse

AT_RISK_BANDS = ("red", "yellow")
RANK_BY = ("mrr", "at_risk_mrr")
SHIPPED_SENDER = "feedback"
"""The ``playbook`` column of the outbox rows this package enqueues."""


# ---------------------------------------------------------------- writes


def get(session: Session, request_id: int) -> FeedbackRequest:
    request = session.get(FeedbackRequest, request_id)
    if request is None:
        raise NotFound(_("No feedback request with id {id}.", id=request_id))
    return request


def _open(session: Session, request_id: int) -> FeedbackRequest:
    """The request, refused when it was merged into another (say which)."""
    request = get(session, request_id)
    if request.merged_into_id is not None:
        raise BansoError(
            _("Request {id} was merged into request {kept}; use that one.",
              id=request.id, kept=request.merged_into_id)
        )  # fmt: skip
    return request


def _choice(value: str, choices: tuple[str, ...], name: str) -> str:
    if value not in choices:
        raise InvalidValue(
            name,
            _("Unknown {field} {value}; choose one of {choices}.", field=name, value=value,
              choices=", ".join(choices)),
        )  # fmt: skip
    return value


def _title(title: str) -> str:
    cleaned = " ".join(title.split())
    if not cleaned:
        raise InvalidValue("title", _("The title must not be empty."))
    if len(cleaned) > 300:
        raise InvalidValue("title", _("The title must be at most 300 characters."))
    return cleaned


def add(
    session: Session,
    title: str,
    *,
    description: str | None = None,
    category: str = "feature_request",
    product_area: str | None = None,
    status: str = "under_review",
) -> FeedbackRequest:
    """A new request (under review unless told otherwise)."""
    request = FeedbackRequest(
        title=_title(title),
        description=description or None,
        category=_choice(category, REQUEST_CATEGORIES, "category"),
        status=_choice(status, REQUEST_STATUSES, "status"),
        product_area=(product_area or "").strip() or None,
    )
    session.add(request)
    session.flush()
    record(session, "feedback.create", f"feedback:{request.id}", **request_dict(request))
    return request


def ask(
    session: Session,
    request_id: int,
    account_id: int,
    *,
    contact_id: int | None = None,
    source: str = "cli",
    note: str | None = None,
    asked_at: datetime | None = None,
    ticket_id: int | None = None,
    survey_response_id: int | None = None,
) -> FeedbackAsk:
    """Record that an account (and a contact of it) asked for the request."""
    request = _open(session, request_id)
    account = account_with_contact(session, account_id, contact_id)
    the_ask = FeedbackAsk(
        request_id=request.id,
        account_id=account.id,
        contact_id=contact_id,
        source=_choice(source, ASK_SOURCES, "source"),
        ticket_id=ticket_id,
        survey_response_id=survey_response_id,
        note=note or None,
        asked_at=asked_at or datetime.now(UTC),
    )
    session.add(the_ask)
    session.flush()
    record(
        session, "feedback.ask", f"feedback:{request.id}", ask_id=the_ask.id,
        account_id=account.id, contact_id=contact_id, source=source, ticket_id=ticket_id,
        survey_response_id=survey_response_id,
    )  # fmt: skip
    return the_ask


def ask_from_survey(session: Session, response_id: int, request_id: int) -> FeedbackAsk:
    """Turn a survey answer's comment into an ask on the request (once per answer and request)."""
    response = session.get(SurveyResponse, response_id)
    if response is None:
        raise NotFound(_("No survey response with id {id}.", id=response_id))
    if not (response.comment or "").strip():
        raise BansoError(
            _("Survey response {id} has no comment to turn into an ask.", id=response_id)
        )
    request = _open(session, request_id)
    already = session.scalar(
        select(FeedbackAsk.id).where(
            FeedbackAsk.request_id == request.id, FeedbackAsk.survey_response_id == response.id
        )
    )
    if already is not None:
        raise BansoError(
            _("Survey response {response} is already an ask on request {id}.",
              response=response_id, id=request.id)
        )  # fmt: skip
    return ask(
        session, request.id, response.account_id, contact_id=response.contact_id,
        source="survey", note=response.comment, asked_at=response.answered_at,
        survey_response_id=response.id,
    )  # fmt: skip


@dataclass
class TicketImport:
    asks: int = 0
    requests_created: int = 0
    already: int = 0
    """Tickets of the category that were already an ask."""
    skipped: list[str] = field(default_factory=list)
    """Tickets left out, each with the reason."""


def import_tickets(session: Session, category: str = "feature_request") -> TicketImport:
    """Every ticket of ``category`` not yet an ask becomes one, on the open request whose title
    equals the ticket's subject (case and spacing ignored; a merged request's kept one), or on
    a new request with that title."""
    result = TicketImport()
    titles: dict[str, int] = {}
    for request in session.scalars(
        select(FeedbackRequest).where(FeedbackRequest.merged_into_id.is_(None))
    ):
        titles.setdefault(_match_key(request.title), request.id)
    linked = set(
        session.scalars(select(FeedbackAsk.ticket_id).where(FeedbackAsk.ticket_id.is_not(None)))
    )
    tickets = session.scalars(
        select(Ticket).where(Ticket.category == category).order_by(Ticket.opened_at, Ticket.id)
    )
    for ticket in tickets:
        if ticket.id in linked:
            result.already += 1
            continue
        subject = " ".join((ticket.subject or "").split())
        if not subject:
            result.skipped.append(
                _("ticket {source}/{id}: no subject to match a request by",
                  source=ticket.source, id=ticket.external_id)
            )  # fmt: skip
            continue
        key = _match_key(subject[:300])
        if key not in titles:
            titles[key] = add(session, subject[:300], category="feature_request").id
            result.requests_created += 1
        ask(
            session, titles[key], ticket.account_id, contact_id=ticket.contact_id,
            source="ticket", note=ticket.subject, asked_at=ticket.opened_at, ticket_id=ticket.id,
        )  # fmt: skip
        result.asks += 1
    if result.asks:  # the daily run calls this every day: audit only what changed something
        record(
            session, "feedback.import_tickets", f"category:{category}", asks=result.asks,
            requests_created=result.requests_created, skipped=len(result.skipped),
        )  # fmt: skip
    return result


def _match_key(title: str) -> str:
    return " ".join(title.split()).casefold()


def merge(session: Session, duplicate_id: int, kept_id: int) -> FeedbackRequest:
    """Merge a duplicate into the kept request: its asks move (an ask from the same ticket or
    survey answer the kept one already has is dropped), it points to the kept one."""
    if duplicate_id == kept_id:
        raise BansoError(_("A request cannot be merged into itself."))
    duplicate = _open(session, duplicate_id)
    kept = _open(session, kept_id)
    kept_tickets = set(
        session.scalars(select(FeedbackAsk.ticket_id).where(FeedbackAsk.request_id == kept.id))
    )
    kept_surveys = set(
        session.scalars(
            select(FeedbackAsk.survey_response_id).where(FeedbackAsk.request_id == kept.id)
        )
    )
    moved = dropped = 0
    for the_ask in session.scalars(
        select(FeedbackAsk).where(FeedbackAsk.request_id == duplicate.id)
    ).all():
        if (the_ask.ticket_id is not None and the_ask.ticket_id in kept_tickets) or (
            the_ask.survey_response_id is not None and the_ask.survey_response_id in kept_surveys
        ):
            session.delete(the_ask)
            dropped += 1
        else:
            the_ask.request_id = kept.id
            moved += 1
    duplicate.merged_into_id = kept.id
    session.flush()
    record(
        session, "feedback.merge", f"feedback:{duplicate.id}", kept=kept.id, asks_moved=moved,
        asks_dropped=dropped,
    )  # fmt: skip
    return kept


def change_status(
    session: Session, request_id: int, status: str, day: date | None = None
) -> tuple[FeedbackRequest, int]:
    """Set the request's status; when it becomes ``shipped``, queue one email to each contact
    who asked (with an address), in the contact's language. Returns the request and the number
    of emails queued (a contact already told about this request is not told again)."""
    request = _open(session, request_id)
    new = _choice(status, REQUEST_STATUSES, "status")
    before = request.status
    queued = 0
    if new != before:
        request.status = new
        request.status_changed_at = datetime.now(UTC)
        session.flush()
        record(session, "feedback.status", f"feedback:{request.id}", before=before, after=new)
    if new == "shipped":
        queued = _notify_shipped(session, request, day or datetime.now(UTC).date())
    return request, queued


def _notify_shipped(session: Session, request: FeedbackRequest, day: date) -> int:
    contacts = session.scalars(
        select(Contact)
        .where(
            Contact.id.in_(
                select(FeedbackAsk.contact_id).where(
                    FeedbackAsk.request_id == request.id, FeedbackAsk.contact_id.is_not(None)
                )
            ),
            Contact.email.is_not(None),
        )
        .order_by(Contact.id)
    ).all()
    settings = delivery.delivery_settings()
    queued = 0
    for contact in contacts:
        email = (contact.email or "").strip()
        if not email:
            continue
        lang = contact.language if contact.language in LANGUAGES else "ja"
        link = delivery.unsubscribe_url(settings, email, contact.id)
        subject, body = shipped_email(request, contact, lang, link)
        added = outbox.enqueue(
            session,
            f"feedback-shipped/{request.id}/{contact.id}",
            playbook=SHIPPED_SENDER,
            account_id=contact.account_id,
            trigger_day=day,
            channel="email",
            recipient=email,
            payload={"subject": subject, "body": body, "unsubscribe_url": link, "language": lang},
        )
        queued += added is not None
    return queued


def shipped_email(
    request: FeedbackRequest, contact: Contact, lang: str, unsubscribe_url: str
) -> tuple[str, str]:
    """``(subject, body)`` of the "what you asked for has shipped" email in ``lang``."""
    with using_language(lang):
        subject = _("You asked for it: “{title}” is now available", title=request.title)
        body = "\n\n".join(
            [
                _("Dear {name},", name=contact.name or email_name(contact.email)),
                _("Thank you for telling us you needed “{title}”. It is now available.",
                  title=request.title),
                *([request.description] if request.description else []),
                _("To stop these emails: {url}", url=unsubscribe_url),
            ]
        )  # fmt: skip
    return subject, body


def email_name(email: str | None) -> str:
    return (email or "").partition("@")[0]


# ---------------------------------------------------------------- reads


def request_dict(r: FeedbackRequest) -> dict[str, Any]:
    return {
        "id": r.id,
        "title": r.title,
        "description": r.description,
        "category": r.category,
        "status": r.status,
        "product_area": r.product_area,
        "merged_into_id": r.merged_into_id,
    }


def ranking(
    session: Session,
    *,
    rank_by: str = "mrr",
    status: str | None = None,
    category: str | None = None,
    product_area: str | None = None,
    account_id: int | None = None,
    day: date | None = None,
) -> list[dict[str, Any]]:
    """Open (not merged) requests with their asks, ranked by the MRR asking (``mrr``) or the
    at-risk MRR asking (``at_risk_mrr``), then by the number of asking accounts, then id.

    ``mrr`` is Σ of each distinct asking account's MRR on ``day`` (default today; integer minor
    units of the reporting currency, ``revenue.contracts.account_mrr``): an account asking twice
    counts once. ``at_risk_mrr`` is the same sum over the asking accounts whose current health
    band is red or yellow. Both come with their account counts."""
    _choice(rank_by, RANK_BY, "rank_by")
    query = select(FeedbackRequest).where(FeedbackRequest.merged_into_id.is_(None))
    if status:
        query = query.where(FeedbackRequest.status == _choice(status, REQUEST_STATUSES, "status"))
    if category:
        query = query.where(
            FeedbackRequest.category == _choice(category, REQUEST_CATEGORIES, "category")
        )
    if product_area:
        query = query.where(FeedbackRequest.product_area == product_area)
    requests = session.scalars(query).all()
    ids = [r.id for r in requests]
    asks = session.execute(
        select(FeedbackAsk.request_id, FeedbackAsk.account_id, FeedbackAsk.contact_id).where(
            FeedbackAsk.request_id.in_(ids)
        )
    ).all()
    accounts_of: dict[int, set[int]] = defaultdict(set)
    contacts_of: dict[int, set[int]] = defaultdict(set)
    ask_count: dict[int, int] = defaultdict(int)
    for request_id, asking_account, contact_id in asks:
        accounts_of[request_id].add(asking_account)
        ask_count[request_id] += 1
        if contact_id is not None:
            contacts_of[request_id].add(contact_id)
    every_account = set().union(*accounts_of.values()) if accounts_of else set()
    mrr = account_mrrs(session, every_account, day or datetime.now(UTC).date())
    bands = dict(
        session.execute(
            select(HealthCurrent.account_id, HealthCurrent.band).where(
                HealthCurrent.account_id.in_(every_account)
            )
        ).all()
    )
    rows = []
    for r in requests:
        asking = accounts_of.get(r.id, set())
        if account_id is not None and account_id not in asking:
            continue
        at_risk = {a for a in asking if bands.get(a) in AT_RISK_BANDS}
        rows.append(
            {
                **request_dict(r),
                "asks": ask_count.get(r.id, 0),
                "accounts": len(asking),
                "contacts": len(contacts_of.get(r.id, set())),
                "mrr": sum(mrr.get(a, 0) for a in asking),
                "at_risk_accounts": len(at_risk),
                "at_risk_mrr": sum(mrr.get(a, 0) for a in at_risk),
            }
        )
    rows.sort(key=lambda row: (-row[rank_by], -row["accounts"], row["id"]))
    return rows


def account_mrrs(session: Session, account_ids: set[int], day: date) -> dict[int, int]:
    """Each account's MRR on ``day`` (minor units of the reporting currency), through
    ``revenue.contracts``; a missing FX rate is the same clear error the 360 shows."""
    if not account_ids:
        return {}
    lines: dict[int, list[contracts.Line]] = defaultdict(list)
    for s in session.scalars(select(Subscription).where(Subscription.account_id.in_(account_ids))):
        lines[s.account_id].append(contracts.Line.of(s))
    fx = contracts.fx_table(session, day)
    return {a: contracts.account_mrr(ls, day, fx) for a, ls in lines.items()}


def account_requests(session: Session, account_id: int) -> list[dict[str, Any]]:
    """The requests an account asked for (each once), for its 360."""
    rows = session.execute(
        select(FeedbackRequest, func.count(FeedbackAsk.id), func.max(FeedbackAsk.asked_at))
        .join(FeedbackAsk, FeedbackAsk.request_id == FeedbackRequest.id)
        .where(FeedbackAsk.account_id == account_id)
        .group_by(FeedbackRequest.id)
        .order_by(func.max(FeedbackAsk.asked_at).desc())
    ).all()
    return [{**request_dict(r), "asks": n, "last_asked_at": at} for r, n, at in rows]


def survey_comments(session: Session, account_id: int, limit: int = 10) -> list[SurveyResponse]:
    """The account's newest survey answers with a comment (the 360 offers each as an ask)."""
    return list(
        session.scalars(
            select(SurveyResponse)
            .where(SurveyResponse.account_id == account_id, SurveyResponse.comment.is_not(None))
            .order_by(SurveyResponse.answered_at.desc())
            .limit(limit)
        )
    )


def open_requests(session: Session) -> list[tuple[int, str]]:
    """``(id, title)`` of every request not merged away, by title (for the forms' choices)."""
    return list(
        session.execute(
            select(FeedbackRequest.id, FeedbackRequest.title)
            .where(FeedbackRequest.merged_into_id.is_(None))
            .order_by(FeedbackRequest.title, FeedbackRequest.id)
        ).tuples()
    )


EXPORT_COLUMNS = (
    "id", "title", "category", "status", "product_area", "accounts", "asks", "contacts", "mrr",
    "at_risk_accounts", "at_risk_mrr", "description",
)  # fmt: skip


def export_csv(session: Session, rank_by: str = "mrr", **filters: Any) -> str:
    """The ranking as CSV for the product team: one row per request, MRR columns in minor units
    of the reporting currency, status and category as codes, UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for row in ranking(session, rank_by=rank_by, **filters):
        writer.writerow(["" if row[c] is None else row[c] for c in EXPORT_COLUMNS])
    return out.getvalue()


def account_with_contact(session: Session, account_id: int, contact_id: int | None) -> Account:
    """The account, checked to exist, and ``contact_id`` (when given) checked to be its contact;
    a 4xx ``InvalidValue`` naming the field otherwise."""
    account = session.get(Account, account_id)
    if account is None:
        raise InvalidValue("account_id", _("No account with id {id}.", id=account_id))
    if contact_id is not None:
        contact = session.get(Contact, contact_id)
        if contact is None or contact.account_id != account.id:
            raise InvalidValue(
                "contact_id",
                _("Contact {id} is not a contact of account {account}.", id=contact_id,
                  account=account.id),
            )  # fmt: skip
    return account
