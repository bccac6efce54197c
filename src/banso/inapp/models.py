"""In-app sites (a product that embeds the snippet, with its public key and allowed origins) and
the messages shown through it (announcements and NPS prompts, ja/en, to target segments)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from banso.db import Base, utcnow
from banso.labels import register

MESSAGE_KINDS = ("announcement", "nps")
register("inapp_kind", {"announcement": "Announcement", "nps": "NPS prompt"})


class InappSite(Base):
    """A customer-facing product that embeds ``/inapp/banso.js`` with its public ``site_key``."""

    __tablename__ = "inapp_sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    site_key: Mapped[str] = mapped_column(String(64), unique=True)
    """Public (it sits in the product's pages): it can only post this site's events, read the
    messages meant for one user and answer an NPS prompt; nothing else."""
    source: Mapped[str] = mapped_column(String(100))
    """The identity source (``account_identities.source``) of the product's account ids."""
    allowed_origins: Mapped[str] = mapped_column(Text)
    """Space-separated origins (``https://app.example.jp``) whose pages may call with the key."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class InappMessage(Base):
    """An announcement or NPS prompt of a site, shown from ``starts_on`` to ``ends_on``
    (company days, inclusive) to users of accounts in ``segments`` (blank: everyone)."""

    __tablename__ = "inapp_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("inapp_sites.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    title_ja: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    body_ja: Mapped[str] = mapped_column(Text, default="")
    body_en: Mapped[str] = mapped_column(Text, default="")
    segments: Mapped[str] = mapped_column(Text, default="")
    """Space-separated segment names (``segments.yaml``); blank: every account."""
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
