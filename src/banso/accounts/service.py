"""Accounts: resolving records to accounts, listing them, finding duplicates (merging them is
``banso.flows.merge``).

Plain functions over a ``Session``; the caller owns the transaction.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from itertools import combinations
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.accounts import ownership
from banso.accounts.identity import (
    AccountIndex,
    Resolution,
    normalize_company_name,
    registered_domain,
)
from banso.accounts.lifecycle import record_stages
from banso.accounts.models import Account, AccountIdentity, AccountMerge
from banso.accounts.search import search_key
from banso.bulk import bulk_insert
from banso.dates import today
from banso.db import utcnow
from banso.errors import NotFound
from banso.i18n import _

ACCOUNT_FIELDS = (
    "name", "kana", "domain", "industry", "employee_count", "plan", "segment", "owner_id",
    "lifecycle_stage", "tier", "touch_model", "it_literacy", "motivation",
)  # fmt: skip
"""Account columns an import may set."""


@dataclass
class AccountFacts:
    """What one source says about one of its accounts; ``None`` means "not said"."""

    name: str | None = None
    kana: str | None = None
    domain: str | None = None
    industry: str | None = None
    employee_count: int | None = None
    plan: str | None = None
    segment: str | None = None
    owner_id: int | None = None
    lifecycle_stage: str | None = None
    tier: str | None = None
    touch_model: str | None = None
    it_literacy: int | None = None
    motivation: int | None = None


@dataclass
class ResolvedAccounts:
    """Outcome of resolving a batch of ``(source, external_id)`` records to accounts.

    ``ids`` maps each external id to its Banso account id (``None`` only in a dry run, for
    accounts that would be created).
    """

    ids: dict[str, int | None] = field(default_factory=dict)
    created: int = 0
    matched: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    updated: int = 0
    ambiguous: int = 0


def resolve_accounts(
    session: Session,
    source: str,
    facts: dict[str, AccountFacts],
    *,
    update_existing: bool,
    dry_run: bool = False,
) -> ResolvedAccounts:
    """Find or create the account of each external id of ``source``.

    Known identities map directly. Unknown ones go through identity resolution (domain, then
    normalised name) when the record carries a name or domain; otherwise a new account is
    created named after its id. With ``update_existing`` (an accounts file) the record's facts
    overwrite the account it is the identity of, and fill only blank fields of an account it was
    matched to by domain or name (that account's own source keeps its spelling).
    """
    result = ResolvedAccounts()
    known = _identities(session, source)
    unknown = [ext for ext in facts if ext not in known]
    needs_index = any(facts[ext].name or facts[ext].domain for ext in unknown)
    index = load_index(session) if needs_index else AccountIndex()
    for ext, account_id in known.items():
        index.add_identity(account_id, source, ext)

    new_accounts: list[tuple[str, dict[str, Any]]] = []
    new_identities: list[tuple[str, int]] = []
    fills: dict[int, dict[str, Any]] = {}
    for ext, fact in facts.items():
        if ext in known:
            result.ids[ext] = known[ext]
            result.matched["identity"] += 1
            if update_existing:
                fills[known[ext]] = {"_overwrite": True, **_said(fact)}
            continue
        resolution = (
            index.resolve(source, ext, name=fact.name, domain=fact.domain)
            if fact.name or fact.domain
            else Resolution(None, "new")
        )
        if resolution.account_id is not None:
            result.ids[ext] = resolution.account_id
            result.matched[resolution.reason] += 1
            new_identities.append((ext, resolution.account_id))
            index.add_identity(resolution.account_id, source, ext)
            if update_existing:
                fills.setdefault(resolution.account_id, {"_overwrite": False, **_said(fact)})
            continue
        if resolution.ambiguous:
            result.ambiguous += 1
        name = fact.name or ext
        row = {**_said(fact), "name": name, "normalized_name": normalize_company_name(name)}
        new_accounts.append((ext, row))
        # A later record of this file may match the account being created (same domain/name).
        placeholder = -len(new_accounts)
        index.add_account(placeholder, row["normalized_name"], fact.domain)
        index.add_identity(placeholder, source, ext)
        result.ids[ext] = placeholder

    result.created = len(new_accounts)
    if dry_run:
        result.ids = {k: (v if v is not None and v > 0 else None) for k, v in result.ids.items()}
        result.updated = sum(1 for f in fills.values() if len(f) > 1)
        return result

    rows = [row for _ext, row in new_accounts]
    created_ids = _insert_accounts(session, [{**r, "lifecycle_stage": None} for r in rows])
    staged = {
        a: r["lifecycle_stage"] for a, r in zip(created_ids, rows, strict=True)
        if r.get("lifecycle_stage")
    }  # fmt: skip
    record_stages(session, staged, today(), f"import:{source}")
    ownership.start_histories(
        session,
        {a: row.get("owner_id") for row, a in zip(rows, created_ids, strict=True)},
        source="import",
    )
    real = {-(i + 1): account_id for i, account_id in enumerate(created_ids)}
    result.ids = {ext: real.get(v, v) for ext, v in result.ids.items() if v is not None}
    identity_rows = [
        {"account_id": real.get(a, a), "source": source, "external_id": ext, "created_at": utcnow()}
        for ext, a in new_identities
    ] + [
        {"account_id": account_id, "source": source, "external_id": ext, "created_at": utcnow()}
        for (ext, _row), account_id in zip(new_accounts, created_ids, strict=True)
    ]
    bulk_insert(session, AccountIdentity.__table__, identity_rows)
    result.updated = _apply_fills(session, fills, source)
    return result


def load_index(session: Session) -> AccountIndex:
    """Indexes of every account's identities, domain and normalised name."""
    index = AccountIndex()
    for account_id, normalized, domain in session.execute(
        select(Account.id, Account.normalized_name, Account.domain)
    ):
        index.add_account(account_id, normalized, domain)
    for account_id, source, external_id in session.execute(
        select(AccountIdentity.account_id, AccountIdentity.source, AccountIdentity.external_id)
    ):
        index.add_identity(account_id, source, external_id)
    return index


@dataclass(frozen=True)
class AccountRow:
    """One account as ``banso accounts list`` shows it."""

    id: int
    name: str
    domain: str | None
    owner_id: int | None
    identities: list[dict[str, str]]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def list_accounts(session: Session, *, limit: int | None = None) -> list[AccountRow]:
    """Accounts in id order with every ``(source, external_id)`` they are known by."""
    query = select(Account.id, Account.name, Account.domain, Account.owner_id).order_by(Account.id)
    if limit is not None:
        query = query.limit(limit)
    accounts = session.execute(query).all()
    if not accounts:
        return []
    identities: dict[int, list[dict[str, str]]] = defaultdict(list)
    id_query = select(
        AccountIdentity.account_id, AccountIdentity.source, AccountIdentity.external_id
    ).order_by(AccountIdentity.account_id, AccountIdentity.source, AccountIdentity.external_id)
    if limit is not None:
        id_query = id_query.where(AccountIdentity.account_id <= accounts[-1].id)
    for account_id, source, external_id in session.execute(id_query):
        identities[account_id].append({"source": source, "external_id": external_id})
    return [
        AccountRow(a.id, a.name, a.domain, a.owner_id, identities.get(a.id, [])) for a in accounts
    ]


@dataclass(frozen=True)
class DuplicateCandidate:
    """Two accounts that may be the same customer, and why Banso thinks so."""

    first_id: int
    first_name: str
    second_id: int
    second_name: str
    reason: str
    """``same_domain`` or ``same_name`` (equal normalised company names)."""
    value: str
    """The shared domain or normalised name."""


def find_duplicates(session: Session) -> list[DuplicateCandidate]:
    """Pairs of accounts sharing a registered web domain or a normalised company name, never
    merged silently.

    A pair that shares both is listed once, with the domain as its reason.
    """
    rows = session.execute(
        select(Account.id, Account.name, Account.normalized_name, Account.domain)
    ).all()
    names = {r.id: r.name for r in rows}
    groups: list[tuple[str, str, list[int]]] = []
    for reason, column in (("same_domain", "domain"), ("same_name", "normalized_name")):
        by_value: dict[str, list[int]] = defaultdict(list)
        for r in rows:
            value = getattr(r, column)
            if value and column == "domain":
                value = registered_domain(value)
            if value:
                by_value[value].append(r.id)
        groups += [(reason, value, ids) for value, ids in by_value.items() if len(ids) > 1]
    seen: set[tuple[int, int]] = set()
    out: list[DuplicateCandidate] = []
    for reason, value, ids in groups:
        for first, second in combinations(sorted(ids), 2):
            if (first, second) in seen:
                continue
            seen.add((first, second))
            out.append(
                DuplicateCandidate(first, names[first], second, names[second], reason, value)
            )
    return sorted(out, key=lambda d: (d.first_id, d.second_id))


def merged_account_map(session: Session) -> dict[int, int]:
    """``{merged account id: kept account id}`` for readers of data keyed by old account ids
    (the usage event store, which is append-only and is not rewritten by a merge)."""
    return dict(
        session.execute(select(AccountMerge.merged_account_id, AccountMerge.kept_account_id)).all()
    )


def existing_account(session: Session, account_id: int) -> Account:
    """The account with ``account_id``; NotFound when there is none."""
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(_("There is no account with id {id}.", id=account_id))
    return account


def count_accounts(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Account)) or 0)


def _identities(session: Session, source: str) -> dict[str, int]:
    return dict(
        session.execute(
            select(AccountIdentity.external_id, AccountIdentity.account_id).where(
                AccountIdentity.source == source
            )
        ).all()
    )


def _said(fact: AccountFacts) -> dict[str, Any]:
    return {k: v for k, v in vars(fact).items() if v is not None}


def _insert_accounts(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert accounts in bulk, returning their new ids in input order."""
    now = utcnow()
    base: dict[str, Any] = {**dict.fromkeys(ACCOUNT_FIELDS), "created_at": now, "updated_at": now}
    full = [base | row for row in rows]
    for row in full:  # the raw bulk insert skips the model's default
        row["search_key"] = search_key(
            row["name"], row["normalized_name"], row["kana"], row["domain"]
        )
    return bulk_insert(session, Account.__table__, full, returning_ids=True)


def _apply_fills(session: Session, fills: dict[int, dict[str, Any]], source: str) -> int:
    """Write facts to existing accounts: all of them for its own identity, blanks otherwise."""
    if not fills:
        return 0
    accounts = {
        a.id: a
        for chunk in _chunks(list(fills), 10_000)
        for a in session.scalars(select(Account).where(Account.id.in_(chunk)))
    }
    changed = 0
    stages: dict[int, str | None] = {}
    owners: dict[int, int | None] = {}
    for account_id, facts in fills.items():
        account = accounts[account_id]
        overwrite = facts.pop("_overwrite")
        dirty = False
        for name, value in facts.items():
            current = getattr(account, name)
            if current == value or (not overwrite and current is not None):
                continue
            if name == "lifecycle_stage":  # with its history: record_stages below
                stages[account_id] = value
                dirty = True
                continue
            if name == "owner_id":  # with its history: ownership.set_owners below
                owners[account_id] = value
                dirty = True
                continue
            setattr(account, name, value)
            if name == "name":
                account.normalized_name = normalize_company_name(value)
            dirty = True
        changed += dirty
    session.flush()
    record_stages(session, stages, today(), f"import:{source}")
    ownership.set_owners(session, owners, source="import")
    return changed


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
