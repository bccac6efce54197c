"""Campaigns: create, preview the audience, queue a run through the outbox, count what happened.

A run queues one email per recipient with the outbox key ``campaign/<id>/<run day>/<contact>``
and records a ``CampaignRun`` (unique per campaign and day), so queuing a day again adds
nothing. The audience is the current contacts of the accounts in the campaign's segment on the
run day (``segments.service.members``), narrowed by the campaign's filters; left out and counted:
contacts without an email address, suppressed addresses (unsubscribed or bounced:
``messaging.models.Suppression``), and contacts who got a campaign email less than
``BANSO_CAMPAIGN_QUIET_DAYS`` days before. The outbox's per-domain rate limit paces delivery.
Services do not commit.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.models import Account, Contact
from banso.audit import service as audit
from banso.campaigns import tracking
from banso.campaigns.models import SCHEDULES, Campaign, CampaignMessage, CampaignRun
from banso.campaigns.settings import CampaignSettings, campaign_settings
from banso.campaigns.templates import check_template, render_email
from banso.db import utcnow
from banso.errors import BansoError, InvalidValue, NotFound
from banso.i18n import LANGUAGES, _
from banso.messaging import delivery, outbox
from banso.messaging.delivery import DeliverySettings
from banso.messaging.models import OutboxMessage, Suppression
from banso.segments import service as segments
from banso.voc import service as voc
from banso.voc.config import load_surveys
from banso.voc.service import survey_definition


class CampaignRejected(InvalidValue):
    """A campaign's field is invalid (``field``, ``reason``); nothing was stored."""


@dataclass(frozen=True)
class CampaignInput:
    name: str
    segment: str
    subject_en: str
    body_en: str
    subject_ja: str
    body_ja: str
    schedule: str = "once"
    first_send_on: date | None = None
    touch_model: str | None = None
    tier: str | None = None
    lifecycle_stage: str | None = None
    language: str | None = None
    tracking: bool = True
    survey: str | None = None
    """Send this survey's invitation (``banso.voc``) instead of the template email."""


def create(
    session: Session, spec: CampaignInput, today: date, actor: str | None = None
) -> Campaign:
    """A new campaign (audited as ``campaign.create``); its first run is ``first_send_on``
    (default ``today``)."""
    name = spec.name.strip()
    if not name:
        raise CampaignRejected("name", _("a campaign needs a name"))
    if session.scalar(select(Campaign.id).where(Campaign.name == name)) is not None:
        raise CampaignRejected("name", _("a campaign named {name} exists", name=name))
    known = segments.rule_set().segments
    if spec.segment not in known:
        raise CampaignRejected(
            "segment",
            _(
                "unknown segment {segment}; known: {known}",
                segment=spec.segment,
                known=", ".join(sorted(known)),
            ),
        )
    if spec.schedule not in SCHEDULES:
        raise CampaignRejected(
            "schedule", _("choose one of {choices}", choices=", ".join(SCHEDULES))
        )
    if spec.language is not None and spec.language not in LANGUAGES:
        raise CampaignRejected(
            "language", _("choose one of {choices}", choices=", ".join(LANGUAGES))
        )
    start = spec.first_send_on or today
    if start < today:
        raise CampaignRejected("first_send_on", _("the first send cannot be in the past"))
    if spec.survey:
        try:
            survey_definition(load_surveys(), spec.survey)
        except BansoError as exc:
            raise CampaignRejected("survey", str(exc)) from None
    else:
        for field_name in ("subject_en", "body_en", "subject_ja", "body_ja"):
            problem = check_template(getattr(spec, field_name))
            if problem:
                raise CampaignRejected(field_name, problem)
    campaign = Campaign(
        name=name,
        segment=spec.segment,
        touch_model=spec.touch_model or None,
        tier=spec.tier or None,
        lifecycle_stage=spec.lifecycle_stage or None,
        language=spec.language or None,
        schedule=spec.schedule,
        next_send_on=start,
        subject_en=spec.subject_en.strip(),
        body_en=spec.body_en,
        subject_ja=spec.subject_ja.strip(),
        body_ja=spec.body_ja,
        tracking=spec.tracking,
        survey=spec.survey or None,
        created_by=actor,
    )
    session.add(campaign)
    session.flush()
    audit.record(
        session,
        "campaign.create",
        f"campaign:{campaign.id}",
        name=name,
        segment=spec.segment,
        schedule=spec.schedule,
        first_send_on=start.isoformat(),
    )
    return campaign


def get(session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(_("No campaign {id}.", id=campaign_id))
    return campaign


def campaigns(session: Session) -> list[Campaign]:
    return list(session.scalars(select(Campaign).order_by(Campaign.id)))


# ---------------------------------------------------------------- audience


@dataclass(frozen=True)
class Recipient:
    contact_id: int
    account_id: int
    account_name: str
    name: str | None
    email: str
    language: str


@dataclass
class Audience:
    day: date
    recipients: list[Recipient] = field(default_factory=list)
    excluded_no_email: int = 0
    excluded_suppressed: int = 0
    excluded_quiet: int = 0

    @property
    def contacts(self) -> int:
        return len(self.recipients)

    @property
    def accounts(self) -> int:
        return len({r.account_id for r in self.recipients})


def audience(
    session: Session, campaign: Campaign, day: date, settings: CampaignSettings | None = None
) -> Audience:
    """Who a run of ``campaign`` on ``day`` writes to, and how many were left out and why."""
    settings = settings or campaign_settings()
    _total, members = segments.members(session, campaign.segment, day, limit=10**9)
    accounts = {
        m.account_id: m
        for m in members
        if (campaign.touch_model is None or m.touch_model == campaign.touch_model)
        and (campaign.tier is None or m.tier == campaign.tier)
    }
    if campaign.lifecycle_stage is not None and accounts:
        staged = set(
            session.scalars(
                select(Account.id).where(
                    Account.id.in_(list(accounts)),
                    Account.lifecycle_stage == campaign.lifecycle_stage,
                )
            )
        )
        accounts = {k: v for k, v in accounts.items() if k in staged}
    result = Audience(day)
    if not accounts:
        return result
    contacts = [
        c
        for c in session.scalars(
            select(Contact)
            .where(Contact.account_id.in_(list(accounts)))
            .order_by(Contact.account_id, Contact.id)
        )
        if c.left_at is None or c.left_at.date() > day
    ]
    suppressed = set(session.scalars(select(Suppression.email)))
    quiet_since = day - timedelta(days=settings.campaign_quiet_days)
    recent = set(
        session.scalars(
            select(CampaignMessage.contact_id).where(
                CampaignMessage.sent_on > quiet_since, CampaignMessage.sent_on <= day
            )
        )
    )
    seen: set[str] = set()
    for contact in contacts:
        language = contact.language if contact.language in LANGUAGES else "ja"
        if campaign.language is not None and language != campaign.language:
            continue
        email = (contact.email or "").strip().lower()
        if not email or "@" not in email:
            result.excluded_no_email += 1
        elif email in suppressed:
            result.excluded_suppressed += 1
        elif contact.id in recent:
            result.excluded_quiet += 1
        elif email not in seen:
            seen.add(email)
            result.recipients.append(
                Recipient(
                    contact.id,
                    contact.account_id,
                    accounts[contact.account_id].name,
                    contact.name,
                    email,
                    language,
                )
            )
    return result


# ---------------------------------------------------------------- sending


@dataclass
class RunResult:
    campaign_id: int
    name: str
    run_on: date
    queued: int
    excluded_no_email: int
    excluded_suppressed: int
    excluded_quiet: int


def due(session: Session, day: date) -> list[Campaign]:
    return list(
        session.scalars(
            select(Campaign)
            .where(Campaign.next_send_on.is_not(None), Campaign.next_send_on <= day)
            .order_by(Campaign.id)
        )
    )


def send_due(
    session: Session,
    day: date,
    settings: CampaignSettings | None = None,
    delivery_settings: DeliverySettings | None = None,
) -> list[RunResult]:
    """Queue a run of every campaign due on ``day`` and move its next send date on (one-off
    campaigns: none). A campaign already run on ``day`` is not queued again."""
    return [
        result
        for campaign in due(session, day)
        if (result := run(session, campaign, day, settings, delivery_settings)) is not None
    ]


def run(
    session: Session,
    campaign: Campaign,
    day: date,
    settings: CampaignSettings | None = None,
    delivery_settings: DeliverySettings | None = None,
) -> RunResult | None:
    """Queue ``campaign``'s emails for ``day``; None when it has run on that day already."""
    settings = settings or campaign_settings()
    mail = delivery_settings or delivery.delivery_settings()
    campaign.next_send_on = _next_send(campaign.schedule, campaign.next_send_on or day, day)
    exists = session.scalar(
        select(CampaignRun.id).where(
            CampaignRun.campaign_id == campaign.id, CampaignRun.run_on == day
        )
    )
    if exists is not None:
        return None
    people = audience(session, campaign, day, settings)
    record = CampaignRun(
        campaign_id=campaign.id,
        run_on=day,
        queued=0,
        excluded_no_email=people.excluded_no_email,
        excluded_suppressed=people.excluded_suppressed,
        excluded_quiet=people.excluded_quiet,
    )
    session.add(record)
    session.flush()
    tracked = campaign.tracking and settings.campaign_tracking
    if campaign.survey:
        _invite_to_survey(session, campaign, record, people, day)
        return RunResult(campaign.id, campaign.name, day, record.queued,
                         record.excluded_no_email, record.excluded_suppressed,
                         record.excluded_quiet)  # fmt: skip
    for person in people.recipients:
        key = f"campaign/{campaign.id}/{day.isoformat()}/{person.contact_id}"
        message = CampaignMessage(
            run_id=record.id,
            contact_id=person.contact_id,
            account_id=person.account_id,
            email=person.email,
            outbox_key=key,
            sent_on=day,
            opens=0,
            clicks=0,
        )
        session.add(message)
        session.flush()
        link = delivery.unsubscribe_url(mail, person.email, person.contact_id)
        subject, text = render_email(campaign, person.language, _variables(campaign, person, link))
        html = tracking.html_body(text, mail.public_url, message.id if tracked else None, link)
        added = outbox.enqueue(
            session,
            key,
            playbook=f"campaign:{campaign.id}",
            account_id=person.account_id,
            trigger_day=day,
            channel="email",
            recipient=person.email,
            payload={
                "subject": subject,
                "body": text,
                "html": html,
                "unsubscribe_url": link,
                "language": person.language,
            },
        )
        record.queued += added is not None
    return RunResult(
        campaign.id,
        campaign.name,
        day,
        record.queued,
        record.excluded_no_email,
        record.excluded_suppressed,
        record.excluded_quiet,
    )


def _invite_to_survey(
    session: Session, campaign: Campaign, record: CampaignRun, people: Audience, day: date
) -> None:
    """A survey campaign: each recipient is invited through ``voc.service.invite`` (its own
    email, signed single-use link and reminder); one the survey's quiet period holds back counts
    with the campaign's quiet period."""
    definitions = load_surveys()
    for person in people.recipients:
        invited = voc.invite(session, survey=campaign.survey or "", contact_id=person.contact_id,
                             origin=f"campaign:{campaign.id}", day=day,
                             definitions=definitions)  # fmt: skip
        if invited.invitation_id is None:
            if invited.skipped == "suppressed":
                record.excluded_suppressed += 1
            elif invited.skipped in ("no_email", "left"):
                record.excluded_no_email += 1
            else:
                record.excluded_quiet += 1
            continue
        record.queued += 1


def _variables(campaign: Campaign, person: Recipient, link: str) -> dict[str, Any]:
    return {
        "contact": {"name": person.name, "email": person.email},
        "account": {"id": person.account_id, "name": person.account_name},
        "campaign": {"name": campaign.name},
        "unsubscribe_url": link,
    }


def preview_email(campaign: Campaign, language: str, sample: Recipient | None) -> tuple[str, str]:
    """``(subject, body)`` as ``sample`` (or a placeholder contact) would read it."""
    person = sample or Recipient(
        0, 0, _("(account)"), _("(contact)"), "contact@example.com", language
    )
    return render_email(campaign, language, _variables(campaign, person, "https://…/unsubscribe/…"))


def _next_send(schedule: str, planned: date, day: date) -> date | None:
    """The first date of the schedule after ``day`` (counted from ``planned``)."""
    if schedule == "once":
        return None
    step = planned
    while step <= day:
        step = step + timedelta(days=7) if schedule == "weekly" else _add_month(step, planned.day)
    return step


def _add_month(day: date, wanted_day: int) -> date:
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(wanted_day, calendar.monthrange(year, month)[1]))


# ---------------------------------------------------------------- tracking and figures


def record_open(session: Session, token: str) -> bool:
    """Count an open of the message the pixel's token names; False for a token Banso did not
    sign (or a message that is gone)."""
    message_id = tracking.read_open_token(token)
    message = session.get(CampaignMessage, message_id) if message_id is not None else None
    if message is None:
        return False
    message.opens += 1
    message.first_opened_at = message.first_opened_at or utcnow()
    return True


def record_click(session: Session, token: str) -> str | None:
    """The URL a redirect link's token names, after counting the click (also as an open: the
    reader saw the email even when images were blocked); None for a token Banso did not sign."""
    parsed = tracking.read_click_token(token)
    if parsed is None:
        return None
    message_id, url = parsed
    message = session.get(CampaignMessage, message_id)
    if message is None:
        return None
    message.clicks += 1
    message.first_clicked_at = message.first_clicked_at or utcnow()
    if message.first_opened_at is None:
        message.first_opened_at = message.first_clicked_at
    return url


@dataclass(frozen=True)
class RunStats:
    run_id: int
    run_on: date
    queued: int
    sent: int
    bounced: int
    suppressed: int
    waiting: int
    opened: int
    clicked: int
    excluded_no_email: int
    excluded_suppressed: int
    excluded_quiet: int


def stats(session: Session, campaign_id: int) -> list[RunStats]:
    """Per run: queued, sent, bounced (the outbox gave up and the address is suppressed as
    bounced), suppressed at delivery, still waiting, and the messages opened and clicked."""
    get(session, campaign_id)
    runs = list(
        session.scalars(
            select(CampaignRun)
            .where(CampaignRun.campaign_id == campaign_id)
            .order_by(CampaignRun.run_on)
        )
    )
    bounced_addresses = set(
        session.scalars(select(Suppression.email).where(Suppression.reason == "bounced"))
    )
    result = []
    for record in runs:
        rows = session.execute(
            select(
                CampaignMessage.email,
                CampaignMessage.opens,
                CampaignMessage.clicks,
                OutboxMessage.status,
            )
            .join(OutboxMessage, OutboxMessage.idempotency_key == CampaignMessage.outbox_key)
            .where(CampaignMessage.run_id == record.id)
        ).all()
        statuses = [status for _e, _o, _c, status in rows]
        result.append(
            RunStats(
                record.id,
                record.run_on,
                record.queued,
                sent=statuses.count("sent"),
                bounced=sum(1 for e, _o, _c, s in rows if s == "failed" and e in bounced_addresses),
                suppressed=statuses.count("suppressed"),
                waiting=sum(1 for s in statuses if s in ("pending", "claimed")),
                opened=sum(1 for _e, opens, _c, _s in rows if opens),
                clicked=sum(1 for _e, _o, clicks, _s in rows if clicks),
                excluded_no_email=record.excluded_no_email,
                excluded_suppressed=record.excluded_suppressed,
                excluded_quiet=record.excluded_quiet,
            )
        )
    return result


def as_dict(campaign: Campaign) -> dict[str, Any]:
    return {
        "id": campaign.id,
        "name": campaign.name,
        "segment": campaign.segment,
        "touch_model": campaign.touch_model,
        "tier": campaign.tier,
        "lifecycle_stage": campaign.lifecycle_stage,
        "language": campaign.language,
        "schedule": campaign.schedule,
        "next_send_on": campaign.next_send_on.isoformat() if campaign.next_send_on else None,
        "tracking": campaign.tracking,
        "survey": campaign.survey,
    }
