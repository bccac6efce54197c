"""Queries behind the accounts pages and API: the filtered list and one account's 360 view.

Plain functions over a ``Session``; the caller owns the transaction. The list is one query for the
page plus one count, whatever the page size, so it stays fast at 100,000 accounts.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import Row, Select, false, func, or_, select
from sqlalchemy.orm import Session

from banso import data_versions
from banso.accounts.models import Account, Contact
from banso.accounts.search import SEPARATOR, fold_for_search
from banso.activities.models import Activity
from banso.config import get_settings
from banso.errors import BansoError, NotFound
from banso.health import service as health_service
from banso.health.models import HealthCurrent
from banso.health.service import AccountHealth, Explanation
from banso.i18n import _
from banso.revenue import contracts
from banso.revenue.models import Subscription
from banso.support.models import Ticket
from banso.surveys.models import SurveyResponse
from banso.team.models import TeamMember

PAGE_SIZE = 50
SORTS = ("name", "kana", "plan", "segment", "owner", "lifecycle", "score", "mrr", "renewal")
BANDS = ("green", "yellow", "red")
NOT_SCORED = "none"
"""Band filter value for accounts without a band on the newest scored day (not customers then,
or no measure had data)."""
WEB_SOURCE = "banso"
"""``source`` of activities logged in Banso itself."""
LOGGABLE_KINDS = ("note", "call", "meeting", "email")
PULSE_DAYS = 30
"""How long a CSM pulse set on the account page counts."""


@dataclass(frozen=True)
class AccountFilter:
    """What the accounts list shows: search text, filters, order and page (1-based)."""

    q: str = ""
    owner_id: int | None = None
    plan: str = ""
    segment: str = ""
    lifecycle: str = ""
    renewal_days: int | None = None
    """Only accounts whose next renewal (``revenue.contracts``) is within this many days."""
    band: str = ""
    """Health band on the newest scored day: green, yellow, red or ``NOT_SCORED``."""
    sort: str = "name"
    descending: bool = False
    page: int = 1


@dataclass(frozen=True)
class AccountRow:
    id: int
    name: str
    kana: str | None
    domain: str | None
    plan: str | None
    segment: str | None
    owner: str | None
    lifecycle_stage: str | None
    health_score: float | None
    """0-100 on the newest scored day (``health_current``)."""
    health_band: str | None
    mrr: int | None
    """MRR today in minor units of the reporting currency, every line converted at this month's
    FX rate (``revenue.contracts``); None without active lines or when a rate is missing."""
    next_renewal: date | None


@dataclass(frozen=True)
class AccountPage:
    rows: list[AccountRow]
    total: int
    page: int
    pages: int


@dataclass(frozen=True)
class FilterChoices:
    owners: list[tuple[int, str]]
    plans: list[str]
    segments: list[str]
    lifecycles: list[str]


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    """When it happened (aware UTC)."""
    kind: str
    """activity, ticket, survey or subscription."""
    title: str
    detail: str | None = None


@dataclass
class Account360:
    account: Account
    owner: TeamMember | None
    mrr: int | None
    """MRR today in minor units of the reporting currency (``revenue.contracts.account_mrr``);
    None when a line's currency has no FX rate this month (``mrr_problem`` says which)."""
    mrr_problem: str | None
    mrr_by_currency: dict[str, int]
    """MRR today per currency of the lines, minor units of each, rounded from the exact value."""
    plans: list[str]
    next_renewal: date | None
    contacts: list[Contact]
    health: HealthCurrent | None
    """Score and band on the newest scored day; None before scoring or when not scored."""
    timeline: list[TimelineItem] = field(default_factory=list)


def company_today() -> date:
    return datetime.now(get_settings().tz).date()


def list_accounts(
    session: Session, flt: AccountFilter, *, page_size: int = PAGE_SIZE
) -> AccountPage:
    """One page of accounts matching ``flt``, with the total count.

    Ordered by an account column, the page's ids come from the accounts table alone and MRR is
    summed for those ids only; ordering or filtering by MRR or renewal needs every account's sum.
    The page is read first: when it is the last one (fewer rows than a page), the total follows
    from it and the count, a pass over every matching account, is skipped.
    """
    page = max(1, flt.page)
    money = _money(session)
    found = _page(session, flt, money, page, page_size)
    if (found and len(found) < page_size) or (not found and page == 1):
        total = (page - 1) * page_size + len(found)
        return AccountPage([_row(r, money) for r in found], total, page, page)
    total = session.scalar(_filtered(flt, money, count_only=True)) or 0
    pages = max(1, -(-total // page_size))
    # a page past the last is empty (``found`` is): its number says where the caller asked
    return AccountPage([_row(r, money) for r in found], total, page, pages)


def _page(
    session: Session, flt: AccountFilter, money: _Money, page: int, page_size: int
) -> list[Row[Any]]:
    offset = (page - 1) * page_size
    if flt.sort in ("mrr", "renewal") or flt.renewal_days is not None:
        return list(session.execute(_filtered(flt, money).limit(page_size).offset(offset)).all())
    ids_stmt = _filtered(flt, money, ids_only=True).limit(page_size).offset(offset)
    ids = list(session.scalars(ids_stmt))
    return list(session.execute(_filtered(flt, money, only_ids=ids)).all()) if ids else []


def iter_accounts(session: Session, flt: AccountFilter) -> Iterator[AccountRow]:
    """Every account matching ``flt`` in the list's order (for the CSV export)."""
    money = _money(session)
    for r in session.execute(_filtered(flt, money).execution_options(yield_per=2000)):
        yield _row(r, money)


@dataclass(frozen=True)
class _Money:
    """Today and this month's FX factors: what the list's MRR and next renewal are taken on."""

    today: date
    factors: dict[str, Fraction]
    divisor: int
    """``mrr_scaled`` / divisor = MRR in minor units of the reporting currency."""


def _money(session: Session) -> _Money:
    today = company_today()
    factors = contracts.fx_table(session, today).of_month(today)
    return _Money(today, factors, contracts.mrr_divisor(factors))


def renewals_due(session: Session, days: int, *, limit: int) -> AccountPage:
    """The first ``limit`` accounts whose next renewal is within ``days`` days, soonest first,
    and how many there are (the dashboard's renewals due).

    Finding them computes every account's next renewal, so the page is kept per database and
    day until the revenue data version changes (any write to subscriptions, FX rates, accounts
    or team members); health is shown beside it from the snapshots, not from these rows."""
    key = (
        session.get_bind().url.render_as_string(hide_password=True),
        data_versions.current(session, data_versions.REVENUE),
        company_today(),
        days,
        limit,
    )
    found = _RENEWALS.get(key)
    if found is None:
        flt = AccountFilter(renewal_days=days, sort="renewal")
        found = list_accounts(session, flt, page_size=limit)
        _RENEWALS.clear()  # only the newest state of one database is worth keeping
        _RENEWALS[key] = found
    return found


_RENEWALS: dict[tuple[str, int, date, int, int], AccountPage] = {}


def filter_choices(session: Session) -> FilterChoices:
    """The owners, plans, segments and lifecycle stages present, for the filter menus.

    Reading them scans an index of 100,000 accounts per menu, so they are kept per database
    until the data version of the accounts and team members changes (any write to them)."""
    key = (
        session.get_bind().url.render_as_string(hide_password=True),
        data_versions.current(session, data_versions.REVENUE),
    )
    found = _CHOICES.get(key)
    if found is None:
        found = _read_filter_choices(session)
        _CHOICES.clear()  # only the newest version of one database is worth keeping
        _CHOICES[key] = found
    return found


_CHOICES: dict[tuple[str, int], FilterChoices] = {}


def _read_filter_choices(session: Session) -> FilterChoices:
    def distinct(column) -> list[str]:  # type: ignore[no-untyped-def]
        return [v for v in session.scalars(select(column).distinct().order_by(column)) if v]

    owners = session.execute(select(TeamMember.id, TeamMember.name).order_by(TeamMember.name)).all()
    return FilterChoices(
        owners=[(i, n) for i, n in owners],
        plans=distinct(Account.plan),
        segments=distinct(Account.segment),
        lifecycles=distinct(Account.lifecycle_stage),
    )


def existing_account(session: Session, account_id: int) -> Account:
    """The account with ``account_id``; NotFound when there is none."""
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(_("There is no account with id {id}.", id=account_id))
    return account


def account_360(session: Session, account_id: int, *, timeline_limit: int = 200) -> Account360:
    """Everything a CSM needs on one page about one account."""
    account = existing_account(session, account_id)
    today = company_today()
    subs = list(
        session.scalars(
            select(Subscription)
            .where(Subscription.account_id == account_id)
            .order_by(Subscription.start_date)
        )
    )
    lines = [contracts.Line.of(s) for s in subs]
    active = [s for s, x in zip(subs, lines, strict=True) if contracts.is_active(x, today)]
    by_currency: dict[str, Fraction] = {}
    for s in active:
        by_currency[s.currency] = by_currency.get(s.currency, Fraction(0)) + Fraction(
            s.amount, s.billing_period_months
        )
    mrr: int | None = None
    problem: str | None = None
    if active:
        try:
            mrr = contracts.account_mrr(lines, today, contracts.fx_table(session, today))
        except contracts.MissingFxRate as exc:
            problem = str(exc)
    contacts = list(
        session.scalars(
            select(Contact)
            .where(Contact.account_id == account_id)
            .order_by(Contact.left_at.is_not(None), Contact.role, Contact.name)
        )
    )
    return Account360(
        account=account,
        owner=session.get(TeamMember, account.owner_id) if account.owner_id else None,
        mrr=mrr,
        mrr_problem=problem,
        mrr_by_currency={c: round(v) for c, v in sorted(by_currency.items())},
        plans=sorted({s.plan for s in active if s.plan}),
        next_renewal=contracts.account_next_renewal(lines, today),
        contacts=contacts,
        health=session.get(HealthCurrent, account_id),
        timeline=_timeline(session, account_id, subs, timeline_limit),
    )


def subscriptions_of(session: Session, account_id: int) -> list[Subscription]:
    """The account's contract lines, oldest first; BansoError for an unknown account."""
    existing_account(session, account_id)
    return list(
        session.scalars(
            select(Subscription)
            .where(Subscription.account_id == account_id)
            .order_by(Subscription.start_date, Subscription.id)
        )
    )


def activities_of(session: Session, account_id: int, *, limit: int) -> list[Activity]:
    """The account's activities, newest first; BansoError for an unknown account."""
    existing_account(session, account_id)
    return list(
        session.scalars(
            select(Activity)
            .where(Activity.account_id == account_id)
            .order_by(Activity.occurred_at.desc(), Activity.id.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class HealthView:
    """The account's health on its latest scored day and what moved it over 28 days."""

    current: AccountHealth
    why: Explanation | None


def account_health_view(account_id: int) -> HealthView | None:
    """Health for the 360 header, or None before ``banso health score`` has run for it."""
    current = health_service.account_health(account_id)
    if current is None:
        return None
    try:
        why = health_service.explain(
            account_id, start=current.day - timedelta(days=28), end=current.day
        )
    except BansoError:
        why = None
    return HealthView(current, why)


def set_pulse(
    session: Session, account_id: int, *, rating: int, comment: str, member_id: int | None
) -> None:
    """The CSM's own 1-5 reading of the account, counted by the health score for 30 days."""
    today = company_today()
    health_service.set_pulse(
        session,
        account_id,
        rating,
        comment.strip() or None,
        today,
        today + timedelta(days=PULSE_DAYS),
        member_id=member_id,
    )


def log_activity(
    session: Session,
    account_id: int,
    *,
    kind: str,
    summary: str,
    member_id: int | None,
    occurred_at: datetime | None = None,
) -> Activity:
    """Record a note, call, meeting or e-mail on the account's timeline."""
    if kind not in LOGGABLE_KINDS:
        raise BansoError(
            _("Activity kind must be one of: {choices}.", choices=", ".join(LOGGABLE_KINDS))
        )
    summary = summary.strip()
    if not summary:
        raise BansoError(_("Write what happened before saving."))
    existing_account(session, account_id)
    activity = Activity(
        account_id=account_id,
        member_id=member_id,
        source=WEB_SOURCE,
        external_id=f"web-{uuid.uuid4().hex}",
        kind=kind,
        occurred_at=occurred_at or datetime.now(UTC),
        summary=summary,
    )
    session.add(activity)
    session.flush()
    return activity


def search_terms(text: str) -> list[str]:
    """The search text's variants folded as ``Account.search_key`` is (``accounts.search``): the
    text itself and, when it is romaji, its kana reading. An account matches when its key holds
    one of them."""
    terms = (fold_for_search(v) for v in search_variants(text))
    return [t for t in dict.fromkeys(terms) if t and SEPARATOR not in t]


def search_variants(text: str) -> list[str]:
    """The search text as typed (NFKC, so half-width kana match), in katakana and in hiragana;
    romaji (``yamada``) is also read as kana, so it finds ヤマダ in the kana column."""
    text = unicodedata.normalize("NFKC", text).strip()
    kana = romaji_to_hiragana(text)
    if kana is not None:
        return list(dict.fromkeys([text, kana, _katakana(kana)]))
    hiragana = "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in text)
    return list(dict.fromkeys([text, _katakana(text), hiragana]))


def romaji_to_hiragana(text: str) -> str | None:
    """Hepburn or kunrei romaji as hiragana (``Yamada`` -> やまだ, ``shinjuku`` -> しんじゅく);
    None when ``text`` is not romaji (digits, dots, letters that spell no kana)."""
    word = text.lower().replace(" ", "").replace("-", "ー")
    if not word or not all("a" <= c <= "z" or c == "ー" for c in word):
        return None
    out: list[str] = []
    i = 0
    while i < len(word):
        c = word[i]
        if c == "ー":
            out.append(c)
            i += 1
            continue
        if c == "n" and (i + 1 == len(word) or word[i + 1] not in "aiueoy"):
            out.append("ん")
            # "nn" is ん alone unless a vowel follows: konnichiha = ko-n-ni-chi-ha.
            doubled = word[i + 1 : i + 2] == "n" and word[i + 2 : i + 3] not in tuple("aiueoy")
            i += 2 if doubled else 1
            continue
        if i + 1 < len(word) and c == word[i + 1] and c not in "aiueon":
            out.append("っ")
            i += 1
            continue
        for size in (3, 2, 1):
            kana = _ROMAJI.get(word[i : i + size])
            if kana is not None:
                out.append(kana)
                i += size
                break
        else:
            return None
    return "".join(out)


def _katakana(text: str) -> str:
    return "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in text)


def _romaji_table() -> dict[str, str]:
    rows = {
        "": "あいうえお", "k": "かきくけこ", "s": "さしすせそ", "t": "たちつてと",
        "n": "なにぬねの", "h": "はひふへほ", "m": "まみむめも", "r": "らりるれろ",
        "g": "がぎぐげご", "z": "ざじずぜぞ", "d": "だぢづでど", "b": "ばびぶべぼ",
        "p": "ぱぴぷぺぽ",
    }  # fmt: skip
    table = {c + v: kana for c, line in rows.items() for v, kana in zip("aiueo", line, strict=True)}
    table.update({"ya": "や", "yu": "ゆ", "yo": "よ", "wa": "わ", "wo": "を", "shi": "し",
                  "chi": "ち", "tsu": "つ", "fu": "ふ", "ji": "じ", "f": "ふ"})  # fmt: skip
    for consonant, base in (("k", "き"), ("g", "ぎ"), ("n", "に"), ("h", "ひ"), ("m", "み"),
                            ("r", "り"), ("b", "び"), ("p", "ぴ"), ("s", "し"), ("z", "じ"),
                            ("t", "ち")):  # fmt: skip
        for v, small in zip("auo", "ゃゅょ", strict=True):
            table[f"{consonant}y{v}"] = base + small
    for prefix, base in (("sh", "し"), ("ch", "ち"), ("j", "じ")):
        for v, small in zip("auo", "ゃゅょ", strict=True):
            table[f"{prefix}{v}"] = base + small
        table[f"{prefix}e"] = base + "ぇ"
    return table


_ROMAJI = _romaji_table()


def _filtered(
    flt: AccountFilter,
    money_on: _Money,
    *,
    count_only: bool = False,
    ids_only: bool = False,
    only_ids: list[int] | None = None,
) -> Select:  # type: ignore[type-arg]
    """The list's query: rows (default), ``count(*)``, ordered ids, or the rows of ``only_ids``.

    Each account's MRR and next renewal are those of ``revenue.contracts`` on ``money_on.today``,
    so the list, the 360, the dashboard and the KPIs agree."""
    today = money_on.today
    last = None if flt.renewal_days is None else today + timedelta(days=flt.renewal_days)
    money = contracts.account_facts_sql(
        today, money_on.factors, account_ids=only_ids, renewing_by=last
    )
    per_account = money.subquery("per_account")
    needs_money = flt.sort in ("mrr", "renewal") or flt.renewal_days is not None
    if count_only or ids_only:
        stmt = select(func.count() if count_only else Account.id).select_from(Account)
        if ids_only and flt.sort == "owner":
            stmt = stmt.outerjoin(TeamMember, TeamMember.id == Account.owner_id)
        if flt.band or (ids_only and flt.sort == "score"):
            stmt = stmt.outerjoin(HealthCurrent, HealthCurrent.account_id == Account.id)
        if flt.renewal_days is not None or (ids_only and needs_money):
            stmt = stmt.outerjoin(per_account, per_account.c.account_id == Account.id)
    else:
        stmt = (
            select(
                Account.id,
                Account.name,
                Account.kana,
                Account.domain,
                Account.plan,
                Account.segment,
                TeamMember.name.label("owner"),
                Account.lifecycle_stage,
                HealthCurrent.score.label("health_score"),
                HealthCurrent.band.label("health_band"),
                per_account.c.mrr_scaled,
                per_account.c.next_renewal,
            )
            .outerjoin(TeamMember, TeamMember.id == Account.owner_id)
            .outerjoin(HealthCurrent, HealthCurrent.account_id == Account.id)
            .outerjoin(per_account, per_account.c.account_id == Account.id)
        )
    if only_ids is not None:
        stmt = stmt.where(Account.id.in_(only_ids))
    if flt.q.strip():
        stmt = stmt.where(
            or_(
                false(),  # a term that cannot occur in any key matches nothing
                *(
                    Account.search_key.like(f"%{_escape_like(term)}%", escape="\\")
                    for term in search_terms(flt.q)
                ),
            )
        )
    if flt.owner_id is not None:
        stmt = stmt.where(Account.owner_id == flt.owner_id)
    if flt.plan:
        stmt = stmt.where(Account.plan == flt.plan)
    if flt.segment:
        stmt = stmt.where(Account.segment == flt.segment)
    if flt.lifecycle:
        stmt = stmt.where(Account.lifecycle_stage == flt.lifecycle)
    if flt.band == NOT_SCORED:
        stmt = stmt.where(HealthCurrent.band.is_(None))
    elif flt.band:
        stmt = stmt.where(HealthCurrent.band == flt.band)
    if flt.renewal_days is not None:
        last = today + timedelta(days=flt.renewal_days)
        stmt = stmt.where(
            per_account.c.next_renewal.between(
                contracts.day_number(today), contracts.day_number(last)
            )
        )
    order = {
        "name": Account.normalized_name,
        "kana": Account.kana,
        "plan": Account.plan,
        "segment": Account.segment,
        "owner": TeamMember.name,
        "lifecycle": Account.lifecycle_stage,
        "score": HealthCurrent.score,
        "mrr": per_account.c.mrr_scaled,
        "renewal": per_account.c.next_renewal,
    }.get(flt.sort, Account.normalized_name)
    if count_only:
        return stmt
    key = order.desc() if flt.descending else order.asc()
    return stmt.order_by(key.nulls_last(), Account.id)


def _row(r, money: _Money) -> AccountRow:  # type: ignore[no-untyped-def]
    scaled = r.mrr_scaled
    return AccountRow(
        id=r.id,
        name=r.name,
        kana=r.kana,
        domain=r.domain,
        plan=r.plan,
        segment=r.segment,
        owner=r.owner,
        lifecycle_stage=r.lifecycle_stage,
        health_score=r.health_score,
        health_band=r.health_band,
        mrr=None if scaled is None else round(Fraction(int(scaled), money.divisor)),
        next_renewal=contracts.day_of_number(r.next_renewal),
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _timeline(
    session: Session, account_id: int, subs: list[Subscription], limit: int
) -> list[TimelineItem]:
    items: list[TimelineItem] = []
    for a in session.scalars(
        select(Activity)
        .where(Activity.account_id == account_id)
        .order_by(Activity.occurred_at.desc())
        .limit(limit)
    ):
        # kinds are single words except this one, which reads badly as an identifier
        kind = _("Onboarding session") if a.kind == "onboarding_session" else _(a.kind)
        items.append(TimelineItem(_utc(a.occurred_at), "activity", kind, a.summary))
    for t in session.scalars(
        select(Ticket)
        .where(Ticket.account_id == account_id)
        .order_by(Ticket.opened_at.desc())
        .limit(limit)
    ):
        title = _("Ticket opened ({priority})", priority=_(t.priority or "normal"))
        items.append(TimelineItem(_utc(t.opened_at), "ticket", title, t.subject))
    for s in session.scalars(
        select(SurveyResponse)
        .where(SurveyResponse.account_id == account_id)
        .order_by(SurveyResponse.answered_at.desc())
        .limit(limit)
    ):
        title = _("{survey} answer: {score}", survey=s.survey_type.upper(), score=s.score)
        items.append(TimelineItem(_utc(s.answered_at), "survey", title, s.comment))
    for sub in subs:
        plan = sub.plan or sub.external_id
        items.append(
            TimelineItem(
                _day_start(sub.start_date),
                "subscription",
                _("Subscription started: {plan}", plan=plan),
            )
        )
        if sub.end_date is not None and sub.end_date <= company_today():
            items.append(
                TimelineItem(
                    _day_start(sub.end_date),
                    "subscription",
                    _("Subscription ended: {plan}", plan=plan),
                )
            )
    items.sort(key=lambda i: i.at, reverse=True)
    return items[:limit]


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=get_settings().tz).astimezone(UTC)
