"""Advocacy: references, case studies, reviews and referrals per account, from proposed
(by hand or by the ``advocacy-promoter`` playbook) through asked and agreed to done or declined.

Plain functions over a ``Session``; they do not commit. Every write is audited (``advocacy.*``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.models import Account, Contact
from banso.audit.service import record
from banso.errors import BansoError, InvalidValue, NotFound
from banso.feedback.models import (
    ADVOCACY_KINDS,
    ADVOCACY_OPEN,
    ADVOCACY_STATUSES,
    AdvocacyItem,
)
from banso.feedback.service import account_with_contact
from banso.i18n import _
from banso.labels import label

MANUAL = "manual"
_STEP_DAY = {
    "asked": "asked_on",
    "agreed": "agreed_on",
    "done": "closed_on",
    "declined": "closed_on",
}


def get(session: Session, item_id: int) -> AdvocacyItem:
    item = session.get(AdvocacyItem, item_id)
    if item is None:
        raise NotFound(_("No advocacy item with id {id}.", id=item_id))
    return item


def _kind(kind: str) -> str:
    if kind not in ADVOCACY_KINDS:
        raise InvalidValue(
            "kind",
            _("Unknown kind {kind}; choose one of {choices}.", kind=kind,
              choices=", ".join(ADVOCACY_KINDS)),
        )  # fmt: skip
    return kind


def _status(status: str) -> str:
    if status not in ADVOCACY_STATUSES:
        raise InvalidValue(
            "status",
            _("Unknown status {status}; choose one of {choices}.", status=status,
              choices=", ".join(ADVOCACY_STATUSES)),
        )  # fmt: skip
    return status


def add(
    session: Session,
    account_id: int,
    kind: str,
    day: date,
    *,
    contact_id: int | None = None,
    status: str = "proposed",
    note: str | None = None,
) -> AdvocacyItem:
    """Record an advocacy item by hand (proposed unless told otherwise)."""
    account = account_with_contact(session, account_id, contact_id)
    item = AdvocacyItem(
        account_id=account.id, contact_id=contact_id, kind=_kind(kind), status="proposed",
        note=note or None, source=MANUAL, proposed_on=day,
    )  # fmt: skip
    session.add(item)
    session.flush()
    record(session, "advocacy.create", f"advocacy:{item.id}", **as_dict(item))
    if _status(status) != "proposed":
        change_status(session, item.id, status, day)
    return item


def propose_from_playbook(
    session: Session, account: Account, kind: str, day: date, playbook: str,
    contact_id: int | None = None,
) -> tuple[AdvocacyItem, bool]:  # fmt: skip
    """The account's open item of this kind, or a new proposed one (``created`` tells which):
    a promoter who is already being asked is not proposed twice."""
    found = session.scalar(
        select(AdvocacyItem).where(
            AdvocacyItem.account_id == account.id,
            AdvocacyItem.kind == kind,
            AdvocacyItem.status.in_(ADVOCACY_OPEN),
        )
    )
    if found is not None:
        return found, False
    item = AdvocacyItem(
        account_id=account.id, contact_id=contact_id, kind=_kind(kind), status="proposed",
        source=playbook, proposed_on=day,
    )  # fmt: skip
    session.add(item)
    session.flush()
    record(
        session, "advocacy.create", f"advocacy:{item.id}", actor=f"playbook:{playbook}",
        **as_dict(item),
    )  # fmt: skip
    return item, True


def change_status(
    session: Session, item_id: int, status: str, day: date, note: str | None = None
) -> AdvocacyItem:
    """Move an open item to ``status`` on ``day`` (its step's day is set); done and declined
    are final."""
    item = get(session, item_id)
    new = _status(status)
    if item.status not in ADVOCACY_OPEN:
        raise BansoError(
            _("Advocacy item {id} is already {status}; it can no longer change.", id=item.id,
              status=label(item.status, "advocacy_status"))
        )  # fmt: skip
    before = item.status
    item.status = new
    if new in _STEP_DAY:
        setattr(item, _STEP_DAY[new], day)
    if note:
        item.note = note
    session.flush()
    record(session, "advocacy.status", f"advocacy:{item.id}", before=before, after=new, day=day)
    return item


def as_dict(
    item: AdvocacyItem, account: str | None = None, contact: str | None = None
) -> dict[str, Any]:
    return {
        "id": item.id,
        "account_id": item.account_id,
        "account_name": account,
        "contact_id": item.contact_id,
        "contact_name": contact,
        "kind": item.kind,
        "status": item.status,
        "note": item.note,
        "source": item.source,
        "proposed_on": item.proposed_on.isoformat(),
        "asked_on": item.asked_on.isoformat() if item.asked_on else None,
        "agreed_on": item.agreed_on.isoformat() if item.agreed_on else None,
        "closed_on": item.closed_on.isoformat() if item.closed_on else None,
    }


def list_items(
    session: Session,
    *,
    status: str | None = None,
    kind: str | None = None,
    account_id: int | None = None,
    open_only: bool = False,
) -> list[dict[str, Any]]:
    """Advocacy items, open ones first, then newest proposed."""
    query = (
        select(AdvocacyItem, Account.name, Contact.name)
        .join(Account, Account.id == AdvocacyItem.account_id)
        .outerjoin(Contact, Contact.id == AdvocacyItem.contact_id)
    )
    if status:
        query = query.where(AdvocacyItem.status == _status(status))
    if kind:
        query = query.where(AdvocacyItem.kind == _kind(kind))
    if account_id is not None:
        query = query.where(AdvocacyItem.account_id == account_id)
    if open_only:
        query = query.where(AdvocacyItem.status.in_(ADVOCACY_OPEN))
    query = query.order_by(
        AdvocacyItem.status.not_in(ADVOCACY_OPEN), AdvocacyItem.proposed_on.desc(),
        AdvocacyItem.id.desc(),
    )  # fmt: skip
    return [as_dict(i, a, c) for i, a, c in session.execute(query).all()]
