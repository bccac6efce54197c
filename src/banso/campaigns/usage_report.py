"""The monthly usage report: an email per customer account telling its people how they used the
product, from the same features as health (``usage.service.compute_features``, the 28-day
windows ending on the month's last day, against the 28 days before) and the features used most
(``usage.service.compute_feature_use``).

The wording is neutral: figures and their change, never a judgement of the account's health.
Recipients: the account's current contacts with an address that is not suppressed whose role
is champion, decision maker or admin; an account without any gets all its current contacts.
The outbox key ``usage-report/<YYYY-MM>/<account>/<contact>`` makes a month's report go once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.models import Account, Contact
from banso.i18n import LANGUAGES, ngettext, number, translate_to, using_language
from banso.messaging import delivery, outbox
from banso.messaging.delivery import DeliverySettings
from banso.messaging.models import OutboxMessage, Suppression
from banso.revenue.contracts import active_sql
from banso.revenue.models import Subscription
from banso.usage import service as usage

REPORT_ROLES = ("champion", "decision_maker", "admin")
"""Contacts who get the report; an account with none of them: all its contacts."""
TOP_FEATURES = 3
SAME_WITHIN = 0.05
"""A change smaller than 5 % either way is worded "about the same"."""
KEY_PREFIX = "usage-report"


@dataclass(frozen=True)
class Measure:
    now: int
    before: int
    """The 28 days before the report's 28 days."""

    @property
    def change(self) -> float | None:
        """(now − before) / before; None when there was nothing before."""
        return None if self.before == 0 else (self.now - self.before) / self.before


@dataclass(frozen=True)
class FeatureUse:
    event: str
    events: int
    users: int


@dataclass(frozen=True)
class UsageReport:
    account_id: int
    account_name: str
    month: date
    """First day of the reported month."""
    as_of: date
    """The month's last day: the report covers the 28 days ending on it."""
    active_users: Measure
    active_days: Measure
    logins: Measure
    top_features: list[FeatureUse] = field(default_factory=list)


def month_end(month: date) -> date:
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def reports(session: Session, month: date, account_id: int | None = None) -> list[UsageReport]:
    """The report of every customer account on the month's last day (or of ``account_id``)."""
    as_of = month_end(month)
    customers = select(Subscription.account_id).where(active_sql(as_of), Subscription.amount > 0)
    query = select(Account.id, Account.name).where(Account.id.in_(customers)).order_by(Account.id)
    if account_id is not None:
        query = query.where(Account.id == account_id)
    accounts = session.execute(query).all()
    if not accounts:
        return []
    features = {row["account_id"]: row for row in usage.compute_features(as_of).to_pylist()}
    used: dict[int, list[FeatureUse]] = {}
    for row in usage.compute_feature_use(as_of).to_pylist():
        used.setdefault(row["account_id"], []).append(
            FeatureUse(row["event"], row["events"], row["users"])
        )
    result = []
    for account, name in accounts:
        f = features.get(account, {})

        def measure(column: str, f: dict[str, Any] = f) -> Measure:
            return Measure(int(f.get(column) or 0), int(f.get(f"{column}_prior28d") or 0))

        top = sorted(used.get(account, []), key=lambda u: (-u.events, -u.users, u.event))
        result.append(
            UsageReport(
                account,
                name,
                month.replace(day=1),
                as_of,
                measure("active_users_28d"),
                measure("active_days_28d"),
                measure("logins_28d"),
                top[:TOP_FEATURES],
            )
        )
    return result


def recipients(session: Session, account_id: int, day: date) -> list[Contact]:
    """The report's recipients on ``day`` (see the module's rule)."""
    suppressed = set(session.scalars(select(Suppression.email)))
    current = [
        c
        for c in session.scalars(
            select(Contact).where(Contact.account_id == account_id).order_by(Contact.id)
        )
        if (c.left_at is None or c.left_at.date() > day)
        and c.email
        and "@" in c.email
        and c.email.strip().lower() not in suppressed
    ]
    chosen = [c for c in current if c.role in REPORT_ROLES]
    return chosen or current


def render(report: UsageReport, language: str, name: str | None, link: str) -> tuple[str, str]:
    """``(subject, body)`` of ``report`` in ``language``."""
    lang = language if language in LANGUAGES else "ja"

    def t(msgid: str, **kwargs: object) -> str:
        return translate_to(lang, msgid, **kwargs)

    with using_language(lang):
        month = f"{report.month:%Y-%m}"
        subject = t(
            "{account}: your usage report for {month}", account=report.account_name, month=month
        )
        lines = [
            t("Hello {name},", name=name) if name else t("Hello,"),
            "",
            t(
                "Here is how {account} used the product in the 4 weeks to {day}, next to the 4 "
                "weeks before.",
                account=report.account_name,
                day=report.as_of.isoformat(),
            ),
            "",
            f"- {t('Active users')}: {number(report.active_users.now)} "
            f"({_trend(report.active_users, t)})",
            f"- {t('Days with activity')}: {number(report.active_days.now)} "
            f"({_trend(report.active_days, t)})",
            f"- {t('Sign-ins')}: {number(report.logins.now)} ({_trend(report.logins, t)})",
            "",
        ]
        if report.top_features:
            lines.append(t("Features used most:"))
            lines += [
                "- "
                + t(
                    "{feature}: {uses} by {people}",
                    feature=u.event,
                    uses=ngettext("{n} use", "{n} uses", u.events, n=number(u.events)),
                    people=ngettext("{n} person", "{n} people", u.users, n=number(u.users)),
                )
                for u in report.top_features
            ]
        else:
            lines.append(t("No feature use was recorded in these 4 weeks."))
        lines += [
            "",
            t("Questions or ideas? Reply to this email."),
            "",
            t("Stop these emails: {url}", url=link),
        ]
    return subject, "\n".join(lines) + "\n"


def _trend(m: Measure, t: Any) -> str:
    change = m.change
    if change is None:
        return t("none in the 4 weeks before") if m.now else t("none in either period")
    if abs(change) < SAME_WITHIN:
        return t("about the same as the 4 weeks before")
    percent = f"{round(abs(change) * 100)}%"
    if change > 0:
        return t("up {percent} on the 4 weeks before", percent=percent)
    return t("down {percent} on the 4 weeks before", percent=percent)


@dataclass
class QueuedReports:
    month: date
    accounts: int = 0
    emails: int = 0
    """New outbox messages (a month queued before adds none)."""
    without_recipients: int = 0


def queue(
    session: Session,
    month: date,
    account_id: int | None = None,
    day: date | None = None,
    mail: DeliverySettings | None = None,
) -> QueuedReports:
    """Queue the month's report of every customer account (or one) through the outbox."""
    mail = mail or delivery.delivery_settings()
    as_of = month_end(month)
    day = day or as_of
    done = QueuedReports(month.replace(day=1))
    for report in reports(session, month, account_id):
        done.accounts += 1
        people = recipients(session, report.account_id, day)
        done.without_recipients += not people
        for contact in people:
            email = (contact.email or "").strip().lower()
            link = delivery.unsubscribe_url(mail, email, contact.id)
            lang = contact.language if contact.language in LANGUAGES else "ja"
            subject, body = render(report, lang, contact.name, link)
            key = f"{KEY_PREFIX}/{report.month:%Y-%m}/{report.account_id}/{contact.id}"
            added = outbox.enqueue(
                session,
                key,
                playbook=KEY_PREFIX,
                account_id=report.account_id,
                trigger_day=as_of,
                channel="email",
                recipient=email,
                payload={
                    "subject": subject,
                    "body": body,
                    "unsubscribe_url": link,
                    "language": lang,
                },
            )
            done.emails += added is not None
    return done


def queued_before(session: Session, month: date) -> bool:
    """Whether any report of ``month`` is in the outbox already (the daily run's check)."""
    prefix = f"{KEY_PREFIX}/{month:%Y-%m}/"
    found = session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.idempotency_key.startswith(prefix)).limit(1)
    )
    return found is not None
