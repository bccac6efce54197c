"""The sales handoff: what sales knew when the deal closed (deal notes, stakeholders, the
promised outcome), one record per account, set by hand (``banso handoff set``, the 360), by a
CRM connector or the demo. The handoff playbook's CTA carries it (:func:`cta_note`) and the
success plan's first objective starts from its promised outcome."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.audit.service import record
from banso.errors import BansoError, NotFound
from banso.i18n import _
from banso.success.models import Handoff

HANDOFF_SOURCES = ("manual", "crm", "demo")
MAX_TEXT = 10_000


def get(session: Session, account_id: int) -> Handoff | None:
    return session.scalar(select(Handoff).where(Handoff.account_id == account_id))


def set_handoff(
    session: Session,
    account_id: int,
    *,
    deal_notes: str | None = None,
    stakeholders: str | None = None,
    promised_outcome: str | None = None,
    sales_owner: str | None = None,
    source: str = "manual",
) -> Handoff:
    """Create or change the account's handoff; only the given fields change (an empty text
    clears one). Audited as ``handoff.set`` with each change."""
    if session.get(Account, account_id) is None:
        raise NotFound(_("No account with id {id}.", id=account_id))
    if source not in HANDOFF_SOURCES:
        raise BansoError(
            _("Unknown source {source}; choose one of {choices}.", source=source,
              choices=", ".join(HANDOFF_SOURCES))
        )  # fmt: skip
    given = {
        "deal_notes": deal_notes,
        "stakeholders": stakeholders,
        "promised_outcome": promised_outcome,
        "sales_owner": sales_owner,
    }
    if all(v is None for v in given.values()):
        raise BansoError(
            _("Give at least one of the deal notes, stakeholders, promised outcome or sales "
              "owner.")
        )  # fmt: skip
    handoff = get(session, account_id)
    if handoff is None:
        handoff = Handoff(account_id=account_id, source=source)
        session.add(handoff)
    changes: dict[str, Any] = {}
    for name, value in given.items():
        if value is None:
            continue
        cleaned = value.strip() or None
        if cleaned is not None and len(cleaned) > MAX_TEXT:
            raise BansoError(_("The text is longer than {n} characters.", n=MAX_TEXT))
        if getattr(handoff, name) != cleaned:
            changes[name] = {"from": getattr(handoff, name), "to": cleaned}
            setattr(handoff, name, cleaned)
    handoff.source = source
    session.flush()
    if changes:
        record(session, "handoff.set", f"account:{account_id}", source=source, changes=changes)
    return handoff


def promised_outcome(session: Session, account_id: int) -> str | None:
    handoff = get(session, account_id)
    return handoff.promised_outcome if handoff is not None else None


def as_dict(handoff: Handoff | None) -> dict[str, Any] | None:
    if handoff is None:
        return None
    return {
        "account_id": handoff.account_id,
        "deal_notes": handoff.deal_notes,
        "stakeholders": handoff.stakeholders,
        "promised_outcome": handoff.promised_outcome,
        "sales_owner": handoff.sales_owner,
        "source": handoff.source,
        "updated_at": handoff.updated_at.isoformat() if handoff.updated_at else None,
    }


def cta_note(session: Session, account_id: int) -> str:
    """The handoff as the CTA's note, in the current language: promised outcome, stakeholders,
    deal notes and the sales owner, one labelled paragraph each; a sentence saying there is
    none yet when sales recorded nothing."""
    handoff = get(session, account_id)
    if handoff is None:
        return _("Sales recorded no handoff for this account yet; ask the account executive.")
    parts = [
        (_("Promised outcome"), handoff.promised_outcome),
        (_("Stakeholders"), handoff.stakeholders),
        (_("Deal notes"), handoff.deal_notes),
        (_("Sales owner"), handoff.sales_owner),
    ]
    return "\n".join(f"{name}: {text}" for name, text in parts if text)
