"""Merging two accounts: everything kept per account moves to the kept one.

Above the domains because a merge moves rows every domain keeps: the accounts' own identities and
contacts, the subscriptions, tickets, survey responses and activities read by several domains, and,
through the steps registered with ``accounts.merging``, what health and playbooks keep. Plain
functions over a ``Session``; the caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from banso.accounts import ownership
from banso.accounts.lifecycle import record_stages
from banso.accounts.merging import registered_steps
from banso.accounts.models import (
    Account,
    AccountIdentity,
    AccountMerge,
    Contact,
    LifecycleInterval,
)
from banso.accounts.service import ACCOUNT_FIELDS
from banso.activities.models import Activity
from banso.audit import service as audit
from banso.dates import today
from banso.db import utcnow
from banso.deals.models import Deal
from banso.errors import BansoError
from banso.i18n import _
from banso.invoices.models import Invoice
from banso.revenue.models import Subscription
from banso.support.models import Ticket
from banso.surveys.models import SurveyResponse


@dataclass(frozen=True)
class MergeResult:
    """What moved from the merged account to the kept one."""

    kept_id: int
    merged_id: int
    identities: int
    contacts: int
    subscriptions: int
    tickets: int
    surveys: int
    activities: int
    deals: int = 0
    invoices: int = 0


def merge_accounts(session: Session, keep_id: int, other_id: int) -> MergeResult:
    """Merge account ``other_id`` into ``keep_id``, keeping all history, and delete ``other_id``.

    Identities, contacts, subscriptions, tickets, survey responses, activities, CRM deals and
    invoices move to the kept account, and so does what other domains keep per account (CSM
    pulses, overrides, CTAs,
    playbook firings, outbox messages), through the steps they register with
    ``accounts.merging``; its blank fields are filled from the other. Usage events stay in the
    append-only event store under the old id: the merge is recorded in ``account_merges`` and
    readers map the old id to the kept one (``merged_account_map``).
    """
    if keep_id == other_id:
        raise BansoError(_("Cannot merge an account into itself ({id}).", id=keep_id))
    keep = session.get(Account, keep_id)
    other = session.get(Account, other_id)
    for account_id, account in ((keep_id, keep), (other_id, other)):
        if account is None:
            raise BansoError(_("No account with id {id}.", id=account_id))
    assert keep is not None and other is not None
    moved: dict[str, int] = {}
    for key, model in (
        ("identities", AccountIdentity),
        ("contacts", Contact),
        ("subscriptions", Subscription),
        ("tickets", Ticket),
        ("surveys", SurveyResponse),
        ("activities", Activity),
        ("deals", Deal),
        ("invoices", Invoice),
    ):
        result = session.execute(
            update(model).where(model.account_id == other_id).values(account_id=keep_id)
        )
        moved[key] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    for step in registered_steps().values():
        step(session, keep_id, other_id)
    ownership.move_on_merge(session, keep_id, other_id)
    for name in ACCOUNT_FIELDS:
        if name == "lifecycle_stage":
            continue  # below, with its history
        if getattr(keep, name) is None and getattr(other, name) is not None:
            setattr(keep, name, getattr(other, name))
    # the kept account's stage history stands; a kept account without a stage takes the other's
    if keep.lifecycle_stage is None and other.lifecycle_stage is not None:
        record_stages(session, {keep_id: other.lifecycle_stage}, today(), f"merge:{other_id}")
    session.execute(delete(LifecycleInterval).where(LifecycleInterval.account_id == other_id))
    # Earlier merges into OTHER now point at KEEP, so the map stays one hop deep.
    session.execute(
        update(AccountMerge)
        .where(AccountMerge.kept_account_id == other_id)
        .values(kept_account_id=keep_id)
    )
    session.add(
        AccountMerge(merged_account_id=other_id, kept_account_id=keep_id, merged_at=utcnow())
    )
    session.flush()
    session.execute(delete(Account).where(Account.id == other_id))
    audit.record(session, "accounts.merge", f"{keep_id}<-{other_id}", **moved)
    return MergeResult(keep_id, other_id, **moved)
