"""Identity resolution: which Banso account a record from CRM, billing or support belongs to.

Steps, in order, each stopping at the first that decides:

1. exact identity ``(source, external_id)`` already known;
2. web domain (a website column or the domain of a company e-mail; free-mail domains such as
   gmail.com never identify a company), compared as the *registered* domain under the public
   suffix list (``sales.example.co.jp`` and ``example.co.jp`` are one company; ``a.github.io`` and
   ``b.github.io`` are two, github.io being a public suffix);
3. normalised company name (``normalize_company_name``).

A step that finds more than one candidate is ambiguous: nothing is merged silently, a new
account is created and the candidates show up in ``banso accounts duplicates``. A candidate that
already has a *different* id in the same source is not a match either: that source itself says
the two are different records (two branches of one company in a CRM, for instance).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache

from publicsuffixlist import PublicSuffixList

FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "yahoo.co.jp", "yahoo.com", "ymail.com", "outlook.com",
        "outlook.jp", "hotmail.com", "hotmail.co.jp", "live.com", "live.jp", "msn.com",
        "icloud.com", "me.com", "mac.com", "aol.com", "proton.me", "protonmail.com",
        "docomo.ne.jp", "ezweb.ne.jp", "au.com", "softbank.ne.jp", "i.softbank.jp",
        "nifty.com", "biglobe.ne.jp", "ocn.ne.jp", "so-net.ne.jp", "gmx.com", "mail.com",
    }
)  # fmt: skip
"""Personal mailbox providers: an address there says nothing about the employer."""

# Legal-form words, written after NFKC and case folding (㈱ -> (株), ｶﾌﾞｼｷｶﾞｲｼｬ -> カブシキガイシャ).
_LEGAL_FORMS_JA = (
    "株式会社", "有限会社", "合同会社", "合資会社", "合名会社", "一般社団法人", "一般財団法人",
    "公益社団法人", "公益財団法人", "特定非営利活動法人", "npo法人", "医療法人", "学校法人",
    "社会福祉法人", "(株)", "(有)", "(同)", "(資)", "(名)", "(社)", "(財)", "カブシキガイシャ",
    "カブシキカイシャ", "ユウゲンガイシャ",
)  # fmt: skip
_LEGAL_FORMS_EN = (
    r"co\.?,?\s*ltd\.?", r"company\s+limited", r"k\.?\s?k\.?", r"inc\.?", r"incorporated",
    r"corp\.?", r"corporation", r"ltd\.?", r"limited", r"llc\.?", r"l\.l\.c\.", r"gmbh",
    r"plc\.?", r"pte\.?\s*ltd\.?", r"co\.?", r"g\.?k\.?",
)  # fmt: skip
_JA_FORMS = "|".join(re.escape(f) for f in sorted(_LEGAL_FORMS_JA, key=len, reverse=True))
_LEGAL_PREFIX = re.compile(rf"^(?:\s*(?:{_JA_FORMS}))+\s*")
_LEGAL_SUFFIX = re.compile(rf"(?:\s*(?:{_JA_FORMS})|[\s,]+(?:{'|'.join(_LEGAL_FORMS_EN)}))+[\s,]*$")
_PUNCTUATION = re.compile(r"[\s\u3000・,.、。'\"`’‘“”()\[\]{}\-‐―_/&!?]+")


def normalize_company_name(name: str) -> str:
    """The comparable core of a company name.

    NFKC (full-width letters and digits to ASCII, half-width kana to full-width, ㈱ to (株)),
    case folded, legal forms removed in front or behind (株式会社, (株), ㈱, 有限会社, 合同会社,
    Inc., Co., Ltd., K.K., ...), then spaces and punctuation removed. ``株式会社サンプル``,
    ``サンプル(株)`` and ``ｻﾝﾌﾟﾙ株式会社`` all give ``サンプル``; ``サンプル商事株式会社`` gives
    ``サンプル商事`` and so stays a different company.
    """
    original = unicodedata.normalize("NFKC", name).casefold().strip()
    text = _LEGAL_SUFFIX.sub("", _LEGAL_PREFIX.sub("", original))
    core = _PUNCTUATION.sub("", text)
    return core or _PUNCTUATION.sub("", original) or original


def email_domain(email: str | None) -> str | None:
    """The company domain of an e-mail address, or ``None`` for free mail and non-addresses."""
    if not email or "@" not in email:
        return None
    domain = email.rsplit("@", 1)[1].strip().lower().removeprefix("www.")
    return company_domain(domain)


def company_domain(domain: str | None) -> str | None:
    """``domain`` unless it is a free-mail provider (or empty)."""
    if not domain:
        return None
    domain = domain.strip().lower().removeprefix("www.")
    if not domain or domain in FREE_MAIL_DOMAINS or registered_domain(domain) in FREE_MAIL_DOMAINS:
        return None
    return domain


@cache
def _suffix_list() -> PublicSuffixList:
    return PublicSuffixList()  # the list shipped in the package: nothing is downloaded


def registered_domain(domain: str | None) -> str | None:
    """The domain a company registered: one label under its public suffix (``example.co.jp`` for
    ``sales.example.co.jp``); the domain itself when it has no such label (a bare suffix)."""
    if not domain:
        return None
    domain = domain.strip().lower().rstrip(".")
    return _suffix_list().privatesuffix(domain) or domain


@dataclass(frozen=True)
class Resolution:
    """Where a record goes: an existing account (``account_id``) or a new one (``None``).

    ``reason`` says which step decided (``identity``, ``domain``, ``name``, or ``new``);
    ``ambiguous`` lists the candidates when a step found more than one.
    """

    account_id: int | None
    reason: str
    ambiguous: tuple[int, ...] = ()


@dataclass
class AccountIndex:
    """In-memory indexes of the accounts, built once per import so a million rows resolve fast."""

    by_identity: dict[tuple[str, str], int] = field(default_factory=dict)
    by_domain: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    by_name: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    sources: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))

    def add_account(self, account_id: int, normalized_name: str | None, domain: str | None) -> None:
        if normalized_name:
            self.by_name[normalized_name].add(account_id)
        if domain:
            self.by_domain[registered_domain(domain) or domain].add(account_id)

    def add_identity(self, account_id: int, source: str, external_id: str) -> None:
        self.by_identity[(source, external_id)] = account_id
        self.sources[account_id].add(source)

    def resolve(
        self, source: str, external_id: str, *, name: str | None, domain: str | None
    ) -> Resolution:
        """Decide where the record ``(source, external_id)`` named ``name`` at ``domain`` goes."""
        known = self.by_identity.get((source, external_id))
        if known is not None:
            return Resolution(known, "identity")
        for reason, candidates in (
            ("domain", self.by_domain.get(registered_domain(domain) or "", set())),
            ("name", self.by_name.get(normalize_company_name(name), set()) if name else set()),
        ):
            eligible = sorted(c for c in candidates if source not in self.sources.get(c, ()))
            if len(eligible) == 1 and len(candidates) == 1:
                return Resolution(eligible[0], reason)
            if candidates:
                return Resolution(None, reason, tuple(sorted(candidates)))
        return Resolution(None, "new")
