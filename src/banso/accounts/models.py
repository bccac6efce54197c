"""Accounts (customers), the identities they are known by in other systems, and contacts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.engine import Connection
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, Mapper, mapped_column, relationship

from banso.accounts.search import search_key
from banso.db import Base, utcnow
from banso.labels import register

CONTACT_ROLES = ("champion", "decision_maker", "admin", "user")
LIFECYCLE_STAGES = ("onboarding", "adoption", "renewal", "expansion", "churned")
TOUCH_MODELS = ("high", "low", "tech")
register("contact_role", {
    "champion": "Champion", "decision_maker": "Decision maker", "admin": "Administrator",
    "user": "End user",
})  # fmt: skip
register("lifecycle_stage", {
    "onboarding": "Onboarding", "adoption": "Adoption", "renewal": "Renewal",
    "expansion": "Expansion", "churned": "Churned",
})  # fmt: skip
register("touch_model", {"high": "High touch", "low": "Low touch", "tech": "Tech touch"})
# Segments and tiers are free text from the CRM: the values the demo and the packaged scorecards
# use have labels; any other value is shown as it is stored.
register("segment", {"enterprise": "Enterprise", "mid": "Mid-market", "smb": "SMB"})
register("tier", {"tier1": "Tier 1", "tier2": "Tier 2", "tier3": "Tier 3"})
register("touch_source", {"segment": "From the segment", "override": "Set by hand"})
TRIAGE_RATINGS = range(1, 6)
"""IT literacy and motivation are rated 1 (lowest) to 5."""


def _search_key_default(context: DefaultExecutionContext) -> str:
    """``search_key`` of a row inserted without one (ORM inserts; Core inserts: the demo)."""
    row = context.get_current_parameters()
    return search_key(
        row.get("name"), row.get("normalized_name"), row.get("kana"), row.get("domain")
    )


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (
        # Orders the list by name, and its search scans this index instead of the account rows:
        # a page of matches ends the scan early, and no match costs one pass over the index, not
        # 100,000 row lookups. It also serves the count. (It replaces the index on the name.)
        Index("ix_accounts_name_search", "normalized_name", "search_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    normalized_name: Mapped[str] = mapped_column(String(300))
    kana: Mapped[str | None] = mapped_column(String(300))
    domain: Mapped[str | None] = mapped_column(String(255), index=True)
    industry: Mapped[str | None] = mapped_column(String(100))
    employee_count: Mapped[int | None] = mapped_column(Integer)
    # indexed for the list's filters and its menus of the values present (SELECT DISTINCT)
    plan: Mapped[str | None] = mapped_column(String(100), index=True)
    segment: Mapped[str | None] = mapped_column(String(100), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("team_members.id"), index=True)
    lifecycle_stage: Mapped[str | None] = mapped_column(String(32), index=True)
    tier: Mapped[str | None] = mapped_column(String(32))
    touch_model: Mapped[str | None] = mapped_column(String(16))
    touch_source: Mapped[str | None] = mapped_column(String(16))
    """Where ``touch_model`` and ``tier`` came from: ``segment`` (``segments.yaml``'s
    mapping), ``override`` (set by hand until a date), or blank (imported, or set by a
    playbook)."""
    touch_reason: Mapped[str | None] = mapped_column(String(300))
    """The segment they follow from, or the override's reason as typed."""
    touch_since: Mapped[date | None] = mapped_column(Date)
    """The company-local day the current touch model and tier took effect."""
    it_literacy: Mapped[int | None] = mapped_column(SmallInteger)
    """Triage rating 1-5 of the customer's IT literacy (set by the CSM or imported)."""
    motivation: Mapped[int | None] = mapped_column(SmallInteger)
    """Triage rating 1-5 of the customer's motivation to succeed with the product."""
    search_key: Mapped[str | None] = mapped_column(Text, default=_search_key_default)
    """Name, normalised name, kana and domain folded for the list's search (``accounts.search``);
    kept current on every write of those fields."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    identities: Mapped[list[AccountIdentity]] = relationship(
        back_populates="account", cascade="all, delete-orphan"
    )


@event.listens_for(Account, "before_update")
def _refresh_search_key(_mapper: Mapper[Any], _connection: Connection, account: Account) -> None:
    account.search_key = search_key(
        account.name, account.normalized_name, account.kana, account.domain
    )


class AccountIdentity(Base):
    """``(source, external_id)`` -> account: how CRM, billing and support name the customer."""

    __tablename__ = "account_identities"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    source: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    account: Mapped[Account] = relationship(back_populates="identities")


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    source: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(300))
    name: Mapped[str | None] = mapped_column(String(200))
    kana: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    phone: Mapped[str | None] = mapped_column(String(50))
    role: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str | None] = mapped_column(String(8))
    left_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AccountMerge(Base):
    """An account merged into another by ``banso accounts merge``.

    Data keyed by account id outside the app database (the append-only usage event store) is
    not rewritten by a merge; readers map ``merged_account_id`` to ``kept_account_id`` with it.
    """

    __tablename__ = "account_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    merged_account_id: Mapped[int] = mapped_column(Integer, unique=True)
    kept_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    merged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LifecycleInterval(Base):
    """One stretch of an account in one lifecycle stage: ``[started_on, ended_on)`` in company
    days, ``ended_on`` NULL while it lasts. ``accounts.lifecycle_stage`` is the open interval's
    stage; every writer of that column goes through :func:`banso.accounts.lifecycle.record_stages`.
    """

    __tablename__ = "lifecycle_intervals"
    __table_args__ = (Index("ix_lifecycle_intervals_account_started", "account_id", "started_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    stage: Mapped[str] = mapped_column(String(32))
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date, index=True)
    source: Mapped[str] = mapped_column(String(100))
    """Who set the stage: ``rules`` (the daily evaluation), ``playbook:<name>``,
    ``import:<source>``."""


OWNERSHIP_SOURCES = ("backfill", "import", "merge", "assignment", "demo", "manual")


class AccountOwnership(Base):
    """One period in which a team member owned an account (``banso.accounts.ownership``).

    The period covers the days ``started_on <= D < ended_on``; ``started_on`` NULL means "since
    before Banso knew" (the first owner an account was recorded with), ``ended_on`` NULL means
    "still the owner". ``accounts.owner_id`` is the owner of the open period.
    """

    __tablename__ = "account_ownerships"
    __table_args__ = (Index("ix_account_ownerships_account", "account_id", "ended_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("team_members.id"), index=True)
    started_on: Mapped[date | None] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(32))
    """What changed the owner: one of ``OWNERSHIP_SOURCES``."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
