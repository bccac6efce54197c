"""Sending surveys and taking their answers.

``invite`` records an invitation and enqueues its email through the outbox, in the caller's
transaction; the email's link carries a token that names the invitation and its random nonce,
signed with the installation's key. ``answer`` saves the answer once: one conditional UPDATE of
the invitation's ``answered_at`` (a second answer finds it set; concurrent ones wait for the
first's row lock on PostgreSQL, SQLite has one writer) and a ``SurveyResponse`` whose
``(source, external_id)`` is unique, so the database itself refuses a second answer.
``send_reminders`` is the daily run's step: one reminder per unanswered, unexpired invitation.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from banso.accounts.models import Account, Contact
from banso.config import get_settings
from banso.db import utcnow
from banso.errors import BansoError
from banso.i18n import _, system_language, translate_to
from banso.labels import register
from banso.messaging import delivery, outbox
from banso.messaging.models import Suppression
from banso.surveys.models import SurveyResponse
from banso.voc.config import SurveyDefinition, SurveysFile, load_surveys
from banso.voc.models import SurveyInvitation

SOURCE = "banso"
"""``survey_responses.source`` of answers given on Banso's own page."""
ANSWER_PATH = "/s/"
COMMENT_MAX = 5000

SKIP_REASONS = ("no_email", "left", "suppressed", "quiet")
register(
    "survey_outcome",
    {
        "sent": "sent", "would_send": "would be sent", "no_email": "no address",
        "left": "left the company", "suppressed": "unsubscribed or bounced",
        "quiet": "in the quiet period",
    },
)  # fmt: skip
"""Why a contact was not invited: no address, left the company, unsubscribed or bounced, or
surveyed (invited or answered) within the quiet period."""


class UnknownSurvey(BansoError):
    """The survey name is not in ``surveys.yaml``."""


class UnknownContact(BansoError):
    """No contact has this id."""


class AnswerRejected(BansoError):
    """The answer is not valid for its survey (score out of range, required question blank)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Invited:
    """The outcome of one ``invite``: ``invitation_id`` when sent, else ``skipped`` says why."""

    contact_id: int
    invitation_id: int | None
    skipped: str | None


def invite(
    session: Session,
    *,
    survey: str,
    contact_id: int,
    origin: str,
    day: date,
    definitions: SurveysFile | None = None,
    now: datetime | None = None,
) -> Invited:
    """Send ``survey`` to the contact on ``day`` unless one of ``SKIP_REASONS`` applies.

    ``origin`` says who sends it (``cli``, ``playbook:<name>``, ``campaign:<id>``). The email
    goes through the outbox in the caller's transaction; nothing is committed here."""
    definitions = definitions or load_surveys()
    definition = survey_definition(definitions, survey)
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise UnknownContact(_("No contact has the id {id}.", id=contact_id))
    skipped = _skip_reason(session, contact, day, definitions.quiet_days)
    if skipped is not None:
        return Invited(contact_id, None, skipped)
    assert contact.email is not None
    now = now or utcnow()
    lang = contact.language if contact.language in ("ja", "en") else system_language()
    invitation = SurveyInvitation(
        survey=survey,
        survey_type=definition.type,
        account_id=contact.account_id,
        contact_id=contact.id,
        email=contact.email.strip().lower(),
        language=lang,
        origin=origin[:200],
        nonce=secrets.token_urlsafe(24),
        invited_on=day,
        expires_at=now + timedelta(days=definitions.expiry_days),
    )
    session.add(invitation)
    session.flush()
    _enqueue(session, invitation, definitions, definition, contact, reminder=False)
    return Invited(contact.id, invitation.id, None)


def invite_many(
    session: Session,
    *,
    survey: str,
    contact_ids: Iterable[int],
    origin: str,
    day: date,
    dry_run: bool = False,
) -> list[Invited]:
    """``invite`` for each contact (each contact once); with ``dry_run`` only the outcomes that
    sending would have, nothing written."""
    definitions = load_surveys()
    survey_definition(definitions, survey)
    out = []
    for contact_id in dict.fromkeys(contact_ids):
        if dry_run:
            contact = session.get(Contact, contact_id)
            if contact is None:
                raise UnknownContact(_("No contact has the id {id}.", id=contact_id))
            reason = _skip_reason(session, contact, day, definitions.quiet_days)
            out.append(Invited(contact_id, None, reason or "would_send"))
        else:
            out.append(
                invite(
                    session, survey=survey, contact_id=contact_id, origin=origin, day=day,
                    definitions=definitions,
                )
            )  # fmt: skip
    return out


def audience(
    session: Session, *, account_ids: Iterable[int] | None = None, segment: str | None = None
) -> list[int]:
    """The contacts of the given accounts, or of the accounts whose segment is ``segment``
    (the current one, kept on the account by ``banso.segments``), by id."""
    query = select(Contact.id).join(Account, Account.id == Contact.account_id)
    if account_ids is not None:
        query = query.where(Account.id.in_(list(account_ids)))
    if segment is not None:
        query = query.where(Account.segment == segment)
    return list(session.scalars(query.order_by(Contact.id)))


def survey_definition(definitions: SurveysFile, survey: str) -> SurveyDefinition:
    found = definitions.surveys.get(survey)
    if found is None:
        raise UnknownSurvey(
            _(
                "There is no survey {name}; surveys.yaml has: {names}.",
                name=survey,
                names=", ".join(sorted(definitions.surveys)),
            )
        )
    return found


def send_reminders(session: Session, day: date, now: datetime | None = None) -> int:
    """Enqueue one reminder for each invitation sent at least ``reminder_after_days`` before
    ``day``, unanswered, unexpired and not yet reminded; returns how many."""
    definitions = load_surveys()
    if definitions.reminder_after_days is None:
        return 0
    now = now or utcnow()
    inv = SurveyInvitation
    due = session.scalars(
        select(inv)
        .where(
            inv.answered_at.is_(None),
            inv.reminded_at.is_(None),
            inv.invited_on <= day - timedelta(days=definitions.reminder_after_days),
            inv.expires_at > now,
        )
        .order_by(inv.id)
    ).all()
    sent = 0
    for invitation in due:
        definition = definitions.surveys.get(invitation.survey)
        contact = session.get(Contact, invitation.contact_id)
        if definition is None or contact is None or _suppressed(session, invitation.email):
            continue
        invitation.reminded_at = now
        _enqueue(session, invitation, definitions, definition, contact, reminder=True)
        sent += 1
    return sent


# ---------------------------------------------------------------- the answer link


@dataclass(frozen=True)
class OpenInvitation:
    """What the answer page shows: the invitation's state and the survey's texts."""

    state: str
    """``open``, ``answered``, ``expired`` or ``invalid`` (forged, unknown, or the survey
    is no longer in ``surveys.yaml``)."""
    language: str
    invitation_id: int | None = None
    definition: SurveyDefinition | None = None
    account_name: str = ""
    product: str = ""


def answer_token(invitation: SurveyInvitation) -> str:
    return _serializer().dumps({"i": invitation.id, "n": invitation.nonce})


def answer_url(invitation: SurveyInvitation) -> str:
    base = delivery.delivery_settings().public_url.rstrip("/")
    return f"{base}{ANSWER_PATH}{answer_token(invitation)}"


def open_invitation(
    session: Session,
    token: str,
    now: datetime | None = None,
    fallback_language: str = "en",
) -> OpenInvitation:
    """The state of the token's invitation; never raises for a bad token."""
    invitation = _invitation_of(session, token)
    if invitation is None:
        return OpenInvitation("invalid", fallback_language)
    definitions = load_surveys()
    definition = definitions.surveys.get(invitation.survey)
    lang = invitation.language
    if definition is None:
        return OpenInvitation("invalid", lang)
    if invitation.answered_at is not None:
        state = "answered"
    elif _aware(invitation.expires_at) <= (now or utcnow()):
        state = "expired"
    else:
        state = "open"
    account = session.get(Account, invitation.account_id)
    return OpenInvitation(
        state, lang, invitation.id, definition, account.name if account else "",
        _product(definitions, lang),
    )  # fmt: skip


def answer(
    session: Session,
    token: str,
    *,
    score: int | None,
    comment: str | None,
    answers: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> OpenInvitation:
    """Save the answer given through the token's link, once. Returns the invitation's state
    *before* this answer: ``open`` means this call saved it; any other state saved nothing.
    Raises :class:`AnswerRejected` for an invalid answer (nothing saved)."""
    now = now or utcnow()
    opened = open_invitation(session, token, now)
    if opened.state != "open" or opened.definition is None or opened.invitation_id is None:
        return opened
    definition = opened.definition
    low, high = definition.scale
    if score is None or not low <= score <= high:
        raise AnswerRejected("score", _("choose a score from {low} to {high}", low=low, high=high))
    extra = _custom_answers(definition, answers or {})
    text = (comment or "").strip()[:COMMENT_MAX] or None
    claimed = session.execute(
        update(SurveyInvitation)
        .where(SurveyInvitation.id == opened.invitation_id, SurveyInvitation.answered_at.is_(None))
        .values(answered_at=now)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return OpenInvitation(
            "answered", opened.language, opened.invitation_id, definition, opened.account_name,
            opened.product,
        )  # fmt: skip
    invitation = session.get(SurveyInvitation, opened.invitation_id)
    assert invitation is not None
    response = SurveyResponse(
        account_id=invitation.account_id,
        contact_id=invitation.contact_id,
        source=SOURCE,
        external_id=f"invitation-{invitation.id}",
        survey_type=invitation.survey_type,
        survey=invitation.survey,
        score=score,
        comment=text,
        answers=json.dumps(extra, ensure_ascii=False, sort_keys=True) if extra else None,
        answered_at=now,
    )
    session.add(response)
    session.flush()
    invitation.response_id = response.id
    return opened


# ---------------------------------------------------------------- helpers


def _skip_reason(session: Session, contact: Contact, day: date, quiet_days: int) -> str | None:
    if not contact.email or "@" not in contact.email:
        return "no_email"
    if contact.left_at is not None and contact.left_at.date() <= day:
        return "left"
    if _suppressed(session, contact.email):
        return "suppressed"
    if quiet_days and _surveyed_since(session, contact.id, day - timedelta(days=quiet_days - 1)):
        return "quiet"
    return None


def _surveyed_since(session: Session, contact_id: int, first: date) -> bool:
    """Whether the contact was invited on or after ``first``, or answered any survey (imported
    ones too) since the start of that company-local day."""
    invited = session.scalar(
        select(func.count())
        .select_from(SurveyInvitation)
        .where(SurveyInvitation.contact_id == contact_id, SurveyInvitation.invited_on >= first)
    )
    if invited:
        return True
    since = datetime(first.year, first.month, first.day, tzinfo=get_settings().tz)
    answered = session.scalar(
        select(func.count())
        .select_from(SurveyResponse)
        .where(SurveyResponse.contact_id == contact_id, SurveyResponse.answered_at >= since)
    )
    return bool(answered)


def _suppressed(session: Session, email: str) -> bool:
    address = email.strip().lower()
    return session.scalar(select(Suppression.id).where(Suppression.email == address)) is not None


def _enqueue(
    session: Session,
    invitation: SurveyInvitation,
    definitions: SurveysFile,
    definition: SurveyDefinition,
    contact: Contact,
    *,
    reminder: bool,
) -> None:
    lang = invitation.language
    account = session.get(Account, invitation.account_id)
    values = {
        "account": account.name if account else "",
        "product": _product(definitions, lang),
        "name": contact.name or "",
    }
    subject = definition.subject.text(lang).format(**values)
    if reminder:
        subject = translate_to(lang, "Reminder: {subject}", subject=subject)
    settings = delivery.delivery_settings()
    link = answer_url(invitation)
    greeting = (
        translate_to(lang, "Hello {name},", name=contact.name)
        if contact.name
        else translate_to(lang, "Hello,")
    )
    expires = _aware(invitation.expires_at).date().isoformat()
    body = "\n\n".join(
        [
            greeting,
            definition.question.text(lang).format(**values),
            translate_to(lang, "Answer here (one click, no sign-in): {link}", link=link),
            translate_to(lang, "This link works once, until {day}.", day=expires),
        ]
    )
    unsubscribe = delivery.unsubscribe_url(settings, invitation.email, contact.id)
    body += "\n\n" + translate_to(lang, "Unsubscribe: {link}", link=unsubscribe)
    kind = "reminder" if reminder else "invite"
    outbox.enqueue(
        session,
        f"survey/{invitation.id}/{kind}",
        playbook=f"survey:{invitation.survey}",
        account_id=invitation.account_id,
        trigger_day=invitation.invited_on,
        channel="email",
        recipient=invitation.email,
        payload={"subject": subject, "body": body, "unsubscribe_url": unsubscribe},
    )


def _product(definitions: SurveysFile, lang: str) -> str:
    return definitions.product or translate_to(lang, "our service")


def _custom_answers(definition: SurveyDefinition, given: Mapping[str, str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for question in definition.questions:
        raw = (given.get(question.key) or "").strip()
        if not raw:
            if question.required:
                raise AnswerRejected(question.key, _("an answer is required"))
            continue
        if question.kind == "scale":
            if raw not in {"1", "2", "3", "4", "5"}:
                reason = _("choose a score from {low} to {high}", low=1, high=5)
                raise AnswerRejected(question.key, reason)
            out[question.key] = int(raw)
        else:
            out[question.key] = raw[:COMMENT_MAX]
    return out


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(delivery.signing_key(), salt="banso-survey-answer")


def _invitation_of(session: Session, token: str) -> SurveyInvitation | None:
    if len(token) > 400:
        return None
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    ident, nonce = data.get("i"), data.get("n")
    if not isinstance(ident, int) or not isinstance(nonce, str) or not 0 < ident < 2**31:
        return None
    invitation = session.get(SurveyInvitation, ident)
    if invitation is None or not secrets.compare_digest(invitation.nonce, nonce):
        return None
    return invitation


def _aware(value: datetime) -> datetime:
    """SQLite gives naive datetimes back; they were stored in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=utcnow().tzinfo)
