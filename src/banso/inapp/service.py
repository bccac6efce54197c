"""Sites, their messages, what one user of the product is shown, and NPS answers from the snippet.

A site's public key is checked together with the page's origin (``site_for``): the key alone
names the site, the origin must be one the site allows. A user is shown the site's messages in
force today (company time) whose target segments hold the user's account on the newest
evaluated day (``segments.service``); the account is found through the identities of the
site's source, so the snippet never sees Banso's ids. An NPS answer is a ``survey_responses``
row with source ``inapp``, one per user per prompt (the row's ``external_id``).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlsplit

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from banso.accounts.models import AccountIdentity, Contact
from banso.audit import service as audit
from banso.dates import today
from banso.db import utcnow
from banso.errors import BansoError, InvalidValue
from banso.i18n import _
from banso.inapp.models import MESSAGE_KINDS, InappMessage, InappSite
from banso.segments import service as segments
from banso.surveys.models import SurveyResponse

SITE_KEY_PREFIX = "bsk_"
NPS_SOURCE = "inapp"
"""``survey_responses.source`` of the answers given in the product."""


class SiteRefused(BansoError):
    """The key is unknown or disabled, or the page's origin is not one the site allows."""


@dataclass(frozen=True)
class ShownMessage:
    id: int
    kind: str
    title: str
    body: str


# ---------------------------------------------------------------- sites


def add_site(session: Session, name: str, source: str, origins: list[str]) -> InappSite:
    """A new site with a fresh public key; ``origins`` as ``https://host[:port]``."""
    name, source = name.strip(), source.strip()
    if not name:
        raise InvalidValue("name", _("Give the site a name."))
    if not source:
        raise InvalidValue("source", _("Give the identity source of the product's account ids."))
    if session.scalar(select(InappSite.id).where(InappSite.name == name)) is not None:
        raise InvalidValue("name", _("A site named {name} exists already.", name=name))
    allowed = [normalise_origin(o) for o in origins if o.strip()]
    if not allowed:
        raise InvalidValue("origin", _("Give at least one origin allowed to use the key."))
    site = InappSite(
        name=name[:200],
        source=source[:100],
        site_key=SITE_KEY_PREFIX + secrets.token_urlsafe(24),
        allowed_origins=" ".join(dict.fromkeys(allowed)),
        created_at=utcnow(),
    )
    session.add(site)
    session.flush()
    audit.record(
        session, "inapp.site_add", name, site_id=site.id, source=site.source,
        origins=site.allowed_origins,
    )  # fmt: skip
    return site


def disable_site(session: Session, name: str) -> InappSite:
    site = _site_named(session, name)
    if site.disabled_at is None:
        site.disabled_at = utcnow()
        audit.record(session, "inapp.site_disable", site.name, site_id=site.id)
    return site


def list_sites(session: Session) -> list[InappSite]:
    return list(session.scalars(select(InappSite).order_by(InappSite.name)))


def normalise_origin(text: str) -> str:
    """``scheme://host[:port]`` in lower case, as a browser sends it in ``Origin``."""
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise InvalidValue(
            "origin",
            _("{origin} is not an origin such as https://app.example.jp.", origin=text.strip()),
        )
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"


def site_for(session: Session, site_key: str, origin: str | None) -> InappSite:
    """The live site of ``site_key`` when ``origin`` is one it allows; else ``SiteRefused``."""
    site = session.scalar(select(InappSite).where(InappSite.site_key == site_key))
    if site is None or site.disabled_at is not None:
        raise SiteRefused(_("The site key is unknown or disabled."))
    if origin is None or origin not in site.allowed_origins.split():
        raise SiteRefused(_("This page's origin may not use the site key."))
    return site


# ---------------------------------------------------------------- messages


def add_message(
    session: Session,
    site_name: str,
    kind: str,
    titles: tuple[str, str],
    bodies: tuple[str, str],
    segment_names: list[str],
    starts_on: date,
    ends_on: date | None,
    created_by: str | None,
) -> InappMessage:
    """An announcement or NPS prompt of the site; ``titles``/``bodies`` as (ja, en)."""
    site = _site_named(session, site_name)
    if kind not in MESSAGE_KINDS:
        raise InvalidValue(
            "kind", _("Kind must be one of: {choices}.", choices=", ".join(MESSAGE_KINDS))
        )
    title_ja, title_en = (t.strip() for t in titles)
    if not title_ja or not title_en:
        raise InvalidValue("title", _("Give the title in Japanese and in English."))
    if ends_on is not None and ends_on < starts_on:
        raise InvalidValue("ends_on", _("The end date is before the start date."))
    known = set(segments.rule_set().segments)
    chosen = [s.strip() for s in segment_names if s.strip()]
    unknown = [s for s in chosen if s not in known]
    if unknown:
        raise InvalidValue(
            "segments",
            _("Unknown segments: {names}; known: {known}.", names=", ".join(unknown),
              known=", ".join(sorted(known))),
        )  # fmt: skip
    message = InappMessage(
        site_id=site.id, kind=kind, title_ja=title_ja[:200], title_en=title_en[:200],
        body_ja=bodies[0].strip(), body_en=bodies[1].strip(),
        segments=" ".join(dict.fromkeys(chosen)), starts_on=starts_on, ends_on=ends_on,
        created_by=created_by, created_at=utcnow(),
    )  # fmt: skip
    session.add(message)
    session.flush()
    audit.record(
        session, "inapp.message_add", site.name, message_id=message.id, kind=kind,
        title=title_en, segments=message.segments, starts_on=starts_on.isoformat(),
        ends_on=ends_on.isoformat() if ends_on else None,
    )  # fmt: skip
    return message


def end_message(session: Session, message_id: int) -> InappMessage:
    message = session.get(InappMessage, message_id)
    if message is None:
        raise InvalidValue("message", _("No in-app message has the id {id}.", id=message_id))
    if message.ended_at is None:
        message.ended_at = utcnow()
        audit.record(session, "inapp.message_end", str(message_id), message_id=message_id)
    return message


def list_messages(session: Session) -> list[tuple[InappMessage, str]]:
    """Every message with its site's name, newest first."""
    rows = session.execute(
        select(InappMessage, InappSite.name)
        .join(InappSite, InappSite.id == InappMessage.site_id)
        .order_by(InappMessage.created_at.desc(), InappMessage.id.desc())
    )
    return [(m, name) for m, name in rows]


def messages_for(
    session: Session, site: InappSite, account_ref: str, user_ref: str, language: str,
    day: date | None = None,
) -> list[ShownMessage]:  # fmt: skip
    """The messages the product's user ``user_ref`` of account ``account_ref`` is shown today:
    in force, targeted at the account's segment (or at everyone), NPS prompts not yet answered."""
    account_id = account_of(session, site, account_ref)
    if account_id is None:
        return []
    day = day or today()
    m = InappMessage
    candidates = session.scalars(
        select(m)
        .where(m.site_id == site.id, m.ended_at.is_(None), m.starts_on <= day)
        .where(or_(m.ends_on.is_(None), m.ends_on >= day))
        .order_by(m.starts_on, m.id)
    ).all()
    evaluated = segments.latest_day(session)
    segment = segments.membership_on(session, account_id, evaluated) if evaluated else None
    answered = _answered(
        session, [c.id for c in candidates if c.kind == "nps"], site, account_ref, user_ref
    )
    shown: list[ShownMessage] = []
    for message in candidates:
        targets = message.segments.split()
        if targets and segment not in targets:
            continue
        if message.kind == "nps" and message.id in answered:
            continue
        ja = language == "ja"
        shown.append(ShownMessage(
            message.id, message.kind, message.title_ja if ja else message.title_en,
            message.body_ja if ja else message.body_en,
        ))  # fmt: skip
    return shown


def account_of(session: Session, site: InappSite, account_ref: str) -> int | None:
    """Banso's account for the product's account id, through the site's identity source."""
    return session.scalar(
        select(AccountIdentity.account_id).where(
            AccountIdentity.source == site.source, AccountIdentity.external_id == account_ref
        )
    )


# ---------------------------------------------------------------- NPS answers


def answer_nps(
    session: Session, site: InappSite, message_id: int, account_ref: str, user_ref: str,
    score: int, comment: str | None, answered_at: datetime | None = None,
) -> bool:  # fmt: skip
    """Store the user's answer to the prompt; False when the user had answered it already.

    ``InvalidValue`` for a prompt not of this site or not in force, or an unknown account."""
    message = session.get(InappMessage, message_id)
    day = today()
    if (
        message is None or message.site_id != site.id or message.kind != "nps"
        or message.ended_at is not None or message.starts_on > day
        or (message.ends_on is not None and message.ends_on < day)
    ):  # fmt: skip
        raise InvalidValue("prompt", _("There is no NPS prompt {id} in force.", id=message_id))
    if not 0 <= score <= 10:
        raise InvalidValue("score", _("The score is a whole number from 0 to 10."))
    account_id = account_of(session, site, account_ref)
    if account_id is None:
        raise InvalidValue("account", _("No account has the id {ref} in source {source}.",
                                        ref=account_ref, source=site.source))  # fmt: skip
    contact = session.scalar(
        select(Contact.id).where(Contact.source == site.source, Contact.external_id == user_ref)
    )
    try:
        with session.begin_nested():
            session.add(SurveyResponse(
                account_id=account_id, contact_id=contact, source=NPS_SOURCE,
                external_id=_answer_id(message_id, site, account_ref, user_ref),
                survey_type="nps", score=score, comment=(comment or "").strip() or None,
                answered_at=answered_at or utcnow(), created_at=utcnow(),
            ))  # fmt: skip
    except IntegrityError:
        return False
    return True


def _answered(
    session: Session, prompts: list[int], site: InappSite, account_ref: str, user_ref: str
) -> set[int]:
    if not prompts:
        return set()
    ids = {_answer_id(p, site, account_ref, user_ref): p for p in prompts}
    found = session.scalars(
        select(SurveyResponse.external_id).where(
            SurveyResponse.source == NPS_SOURCE, SurveyResponse.external_id.in_(list(ids))
        )
    )
    return {ids[f] for f in found}


def _answer_id(message_id: int, site: InappSite, account_ref: str, user_ref: str) -> str:
    """One answer per user per prompt: the prompt and a digest of the product's ids (which may
    be long or personal)."""
    digest = hashlib.sha256(f"{site.source}\x1f{account_ref}\x1f{user_ref}".encode()).hexdigest()
    return f"{message_id}:{digest[:40]}"


def _site_named(session: Session, name: str) -> InappSite:
    site = session.scalar(select(InappSite).where(InappSite.name == name.strip()))
    if site is None:
        raise InvalidValue("site", _("There is no in-app site named {name}.", name=name))
    return site
