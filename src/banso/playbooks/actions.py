"""What a playbook does for each account it fired for: open or update a CTA, queue an email,
a Slack post or a webhook call in the outbox, set a field. All in the caller's transaction, and
idempotent: a (playbook, account, day) already recorded in ``playbook_firings`` is skipped and
every outbox message has its key ``playbook/account/day/action``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import jinja2
import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.lifecycle import record_stages
from banso.accounts.models import Account, Contact
from banso.expansion import service as expansion
from banso.feedback import advocacy
from banso.i18n import LANGUAGES, current_language, using_language
from banso.messaging import delivery, outbox
from banso.messaging.models import Suppression
from banso.playbooks import ctas
from banso.playbooks.config import Action, Playbook, template_path
from banso.playbooks.models import PlaybookFiring
from banso.success import handoff
from banso.team.models import TeamMember
from banso.voc import service as surveys


@dataclass
class ActionCounts:
    """What a playbook did (or, in a replay, would have done)."""

    firings: int = 0
    ctas_created: int = 0
    ctas_updated: int = 0
    emails: int = 0
    emails_skipped: int = 0
    """Emails not queued: no contact with the role, no address, or the address is suppressed."""
    slack: int = 0
    webhooks: int = 0
    field_updates: int = 0
    opportunities: int = 0
    """Expansion opportunities opened (a repeat firing with one open opens none)."""
    advocacy: int = 0
    """Advocacy items proposed (a repeat firing while one of the kind is open proposes none)."""

    def add(self, other: ActionCounts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def messages(self) -> int:
        return self.emails + self.slack + self.webhooks

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__} | {
            "messages": self.messages
        }


@dataclass
class ActionContext:
    """Rows the actions of one day need, loaded once for all firings."""

    accounts: dict[int, Account]
    members: dict[int, TeamMember]
    contacts: dict[int, list[Contact]]
    suppressed: set[str]
    templates: list[Path]
    settings: delivery.DeliverySettings
    company_language: str = field(default_factory=current_language)


def load_context(session: Session, account_ids: list[int], templates: list[Path]) -> ActionContext:
    accounts: dict[int, Account] = {}
    contacts: dict[int, list[Contact]] = {}
    for chunk in _chunks(account_ids):
        accounts.update(
            {a.id: a for a in session.scalars(select(Account).where(Account.id.in_(chunk)))}
        )
        for c in session.scalars(select(Contact).where(Contact.account_id.in_(chunk))):
            contacts.setdefault(c.account_id, []).append(c)
    members = {m.id: m for m in session.scalars(select(TeamMember))}
    suppressed = set(session.scalars(select(Suppression.email)))
    return ActionContext(
        accounts, members, contacts, suppressed, templates, delivery.delivery_settings()
    )


def apply(
    session: Session, playbook: Playbook, fired: pa.Table, context: ActionContext
) -> ActionCounts:
    """Act on every row of ``fired`` (``triggers.FIRING_SCHEMA``) not acted on before."""
    counts = ActionCounts()
    if fired.num_rows == 0:
        return counts
    days = sorted(set(fired["day"].to_pylist()))
    done = set(
        session.execute(
            select(PlaybookFiring.account_id, PlaybookFiring.day).where(
                PlaybookFiring.playbook == playbook.name, PlaybookFiring.day.in_(days)
            )
        ).all()
    )
    actor = f"playbook:{playbook.name}"
    resting = _cooling_down(session, playbook, fired, days)
    for row in fired.to_pylist():
        if (row["account_id"], row["day"]) in done or row["account_id"] in resting:
            continue
        account = context.accounts.get(row["account_id"])
        if account is None:
            continue
        trigger = json.loads(row["detail"]) if row["detail"] else {}
        taken: list[dict[str, Any]] = []
        cta_row = None
        for index, action in enumerate(playbook.actions):
            key = f"{playbook.name}/{account.id}/{row['day'].isoformat()}/{index}"
            if action.cta is not None:
                cta_row, created = _cta(
                    session, playbook, action, account, row["day"], context, actor, trigger
                )
                counts.ctas_created += created
                counts.ctas_updated += not created
                taken.append({"cta": cta_row.id, "created": created})
            elif action.set_field is not None:
                before = getattr(account, action.set_field.field)
                if before != action.set_field.value:
                    if action.set_field.field == "lifecycle_stage":
                        record_stages(
                            session, {account.id: action.set_field.value}, row["day"], actor
                        )
                    else:
                        setattr(account, action.set_field.field, action.set_field.value)
                    counts.field_updates += 1
                    taken.append(
                        {
                            "set_field": action.set_field.field,
                            "from": before,
                            "to": action.set_field.value,
                        }
                    )
            elif action.open_opportunity is not None:
                opportunity, created = expansion.open_from_playbook(
                    session,
                    account,
                    action.open_opportunity.kind,
                    action.open_opportunity.expected_mrr,
                    row["day"],
                    playbook.name,
                )
                counts.opportunities += created
                taken.append({"opportunity": opportunity.id, "created": created})
            elif action.send_survey is not None:
                taken += _invite(session, playbook, action, account, row["day"], context, counts)
            elif action.propose_advocacy is not None:
                contact_id = trigger.get("contact_id")
                item, created = advocacy.propose_from_playbook(
                    session,
                    account,
                    action.propose_advocacy.kind,
                    row["day"],
                    playbook.name,
                    contact_id if isinstance(contact_id, int) else None,
                )
                counts.advocacy += created
                taken.append({"advocacy": item.id, "created": created})
            else:
                message_context = _message_context(
                    playbook, account, row["day"], trigger, context, cta_row
                )
                taken += _queue(
                    session,
                    playbook,
                    action,
                    account,
                    row["day"],
                    key,
                    message_context,
                    context,
                    counts,
                )
        session.add(
            PlaybookFiring(
                playbook=playbook.name,
                account_id=account.id,
                day=row["day"],
                reason=_reason(playbook),
                band=row["band"],
                segment=row["segment"],
                detail=json.dumps({"trigger": trigger, "actions": taken}, ensure_ascii=False),
            )
        )
        counts.firings += 1
    session.flush()
    return counts


def _cooling_down(
    session: Session, playbook: Playbook, fired: pa.Table, days: list[date]
) -> set[int]:
    """Accounts a trigger with a cool-down must leave alone now: the playbook's CTA for them is
    open or closed less than ``cooldown_days`` ago (without a CTA action: it fired for them
    less than ``cooldown_days`` ago). One day at a time (the daily run)."""
    cooldown = playbook.cooldown_days
    if cooldown is None:
        return set()
    ids = sorted(set(fired["account_id"].to_pylist()))
    day = days[-1]
    if any(a.cta is not None for a in playbook.actions):
        return ctas.cooling_down(session, playbook.name, ids, day, cooldown)
    since = day - timedelta(days=cooldown)
    return set(
        session.scalars(
            select(PlaybookFiring.account_id).where(
                PlaybookFiring.playbook == playbook.name,
                PlaybookFiring.account_id.in_(ids),
                PlaybookFiring.day > since,
                PlaybookFiring.day < day,
            )
        )
    )


def _reason(playbook: Playbook) -> str:
    for action in playbook.actions:
        if action.cta is not None and action.cta.reason:
            return action.cta.reason
    return playbook.trigger.type


def cta_spec(playbook: Playbook, action: Action, lang: str) -> ctas.CtaSpec:
    assert action.cta is not None
    a = action.cta
    return ctas.CtaSpec(
        playbook=playbook.name,
        reason=a.reason or playbook.trigger.type,
        type=a.type,
        priority=a.priority,
        title=_text(a.title, lang),
        due_in_business_days=a.due_in_business_days,
        tasks=tuple((_text(t.title, lang), t.due_in_business_days) for t in a.tasks),
        title_texts=dict(a.title),
        task_texts=tuple(dict(t.title) for t in a.tasks),
    )


def _cta(
    session: Session,
    playbook: Playbook,
    action: Action,
    account: Account,
    day: date,
    context: ActionContext,
    actor: str,
    trigger: dict[str, Any],
):  # type: ignore[no-untyped-def]
    assert action.cta is not None
    assign = action.cta.assign
    if assign == "owner":
        owner_id = account.owner_id
    elif hasattr(assign, "member"):
        owner_id = ctas.member_by_email(session, assign.member).id
    else:
        owner_id = ctas.next_in_rotation(session, assign.round_robin)
    spec = cta_spec(playbook, action, context.company_language)
    note = None
    if action.cta.carry == "handoff":
        with using_language(context.company_language):
            note = handoff.cta_note(session, account.id)
    return ctas.open_or_update(session, account.id, day, spec, owner_id, actor, trigger, note)


def _invite(
    session: Session,
    playbook: Playbook,
    action: Action,
    account: Account,
    day: date,
    context: ActionContext,
    counts: ActionCounts,
) -> list[dict[str, Any]]:
    """The ``send_survey`` action: each current contact of the role is invited unless the
    survey service skips them (quiet period, suppressed); skips count as skipped emails."""
    assert action.send_survey is not None
    taken: list[dict[str, Any]] = []
    for contact in context.contacts.get(account.id, []):
        if contact.role != action.send_survey.to:
            continue
        invited = surveys.invite(
            session, survey=action.send_survey.survey, contact_id=contact.id,
            origin=f"playbook:{playbook.name}", day=day,
        )  # fmt: skip
        if invited.skipped is None:
            counts.emails += 1
            taken.append({"survey": action.send_survey.survey, "invitation": invited.invitation_id})
        else:
            counts.emails_skipped += 1
            taken.append({"survey": action.send_survey.survey, "skipped": invited.skipped})
    return taken


def recipients(
    action: Action, account: Account, day: date, context: ActionContext
) -> list[Contact]:
    """Current contacts of the account with the action's role and an email address."""
    assert action.email is not None
    return [
        c
        for c in context.contacts.get(account.id, [])
        if c.role == action.email.to and c.email and (c.left_at is None or c.left_at.date() > day)
    ]


def _queue(
    session: Session,
    playbook: Playbook,
    action: Action,
    account: Account,
    day: date,
    key: str,
    message_context: dict[str, Any],
    context: ActionContext,
    counts: ActionCounts,
) -> list[dict[str, Any]]:
    taken: list[dict[str, Any]] = []
    common = {"playbook": playbook.name, "account_id": account.id, "trigger_day": day}
    if action.email is not None:
        found = recipients(action, account, day, context)
        if not found:
            counts.emails_skipped += 1
        for contact in found:
            email = (contact.email or "").lower()
            if email in context.suppressed:
                counts.emails_skipped += 1
                continue
            lang = contact.language if contact.language in LANGUAGES else "ja"
            link = delivery.unsubscribe_url(context.settings, email, contact.id)
            subject, body = render_email(
                action.email.template,
                lang,
                context.templates,
                {**message_context, "contact": _contact_vars(contact), "unsubscribe_url": link},
            )
            added = outbox.enqueue(
                session, f"{key}/email/{contact.id}", channel="email", recipient=email,
                payload={"subject": subject, "body": body, "unsubscribe_url": link,
                         "language": lang},
                **common,
            )  # fmt: skip
            counts.emails += added is not None
            taken.append({"email": email})
    elif action.slack is not None:
        text = _render_string(_text(action.slack.text, context.company_language), message_context)
        recipient = action.slack.url or f"env:{action.slack.url_env}"
        added = outbox.enqueue(
            session, f"{key}/slack", channel="slack", recipient=recipient,
            payload={"body": {"text": text}}, **common,
        )  # fmt: skip
        counts.slack += added is not None
        taken.append({"slack": True})
    elif action.webhook is not None:
        recipient = action.webhook.url or f"env:{action.webhook.url_env}"
        body = {
            "playbook": playbook.name,
            "day": day.isoformat(),
            "account": message_context["account"],
            "trigger": message_context["trigger"],
            "cta": message_context["cta"],
        }
        added = outbox.enqueue(
            session, f"{key}/webhook", channel="webhook", recipient=recipient,
            payload={"body": body, "secret_env": action.webhook.secret_env}, **common,
        )  # fmt: skip
        counts.webhooks += added is not None
        taken.append({"webhook": True})
    return taken


def _message_context(
    playbook: Playbook,
    account: Account,
    day: date,
    trigger: dict[str, Any],
    context: ActionContext,
    cta: Any,
) -> dict[str, Any]:
    owner = context.members.get(account.owner_id) if account.owner_id else None
    return {
        "account": {
            "id": account.id,
            "name": account.name,
            "plan": account.plan,
            "segment": account.segment,
            "tier": account.tier,
            "lifecycle_stage": account.lifecycle_stage,
            "domain": account.domain,
        },
        "owner": {"name": owner.name, "email": owner.email}
        if owner
        else {"name": None, "email": None},
        "playbook": {"name": playbook.name, "label": playbook.title(context.company_language)},
        "trigger": trigger,
        "day": day.isoformat(),
        "cta": (
            {"id": cta.id, "title": cta.title, "due_date": cta.due_date.isoformat()}
            if cta is not None
            else None
        ),
        "contact": {"name": None, "email": None},
        "unsubscribe_url": None,
    }


def _contact_vars(contact: Contact) -> dict[str, Any]:
    return {"name": contact.name, "email": contact.email, "role": contact.role}


_ENV = jinja2.Environment(
    autoescape=False, undefined=jinja2.StrictUndefined, keep_trailing_newline=True
)


def render_email(
    template: str, lang: str, templates: list[Path], variables: dict[str, Any]
) -> tuple[str, str]:
    """``(subject, body)`` of an email template in ``lang`` (the other language if missing)."""
    path = template_path(template, lang, templates)
    if path is None:
        other = [x for x in LANGUAGES if x != lang]
        path = next(p for p in (template_path(template, x, templates) for x in other) if p)
    text = _ENV.from_string(path.read_text(encoding="utf-8")).render(**variables)
    first, _sep, rest = text.partition("\n")
    return first.removeprefix("Subject:").strip(), rest.lstrip("\n")


def _render_string(source: str, variables: dict[str, Any]) -> str:
    return _ENV.from_string(source).render(**variables)


def _text(texts: dict[str, str], lang: str) -> str:
    return texts.get(lang) or texts.get("en") or next(iter(texts.values()))  # type: ignore[call-overload]


def _chunks(ids: list[int], size: int = 5000) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]
