"""Rows of the app database for one simulated account: what CRM, billing, support, surveys
and the CSM's activity log would hold about it.

Observable records follow the hidden health with noise: unhealthy accounts open more and more
urgent tickets, rate support and NPS lower, and take fewer meetings. Every draw comes from a
``random.Random`` seeded by (world seed, account index), independent of chunking.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from banso.demo.names import CompanyName, person_name
from banso.demo.story import AccountStory, add_months, monthly_recurring

Row = dict[str, Any]

HIGH_TOUCH_ARR = 1_000_000
"""ARR (yen) from which an account is ``enterprise`` and high touch."""
LOW_TOUCH_ARR = 300_000
"""ARR (yen) from which an account is ``mid`` and low touch; below it ``smb``, tech touch."""

TICKET_CATEGORIES = ("使い方", "不具合", "請求", "連携", "機能要望", "アカウント管理")
TICKET_SUBJECTS = {
    "使い方": (
        "レポートの作り方を教えてください",
        "ダッシュボードの共有方法について",
        "権限設定の方法",
    ),
    "不具合": ("CSVエクスポートが途中で止まる", "画面が表示されない", "通知メールが届かない"),
    "請求": ("請求書の宛名変更について", "支払い方法の変更", "請求金額の確認"),
    "連携": ("Salesforce連携の同期エラー", "APIの認証エラー", "Slack通知の設定"),
    "機能要望": ("ガントチャート表示の要望", "一括編集機能の追加希望", "英語UIの改善要望"),
    "アカウント管理": ("ユーザー追加の方法", "退職者アカウントの削除", "SSO設定について"),
}
RESOLUTION_HOURS = {"urgent": 6.0, "high": 20.0, "normal": 40.0, "low": 90.0}
"""Median hours from opening to solving, per priority, for an account of health 0."""

NPS_COMMENTS = {
    "promoter": ("チーム全体で使いこなせています", "サポートの対応が早くて助かります"),
    "passive": ("便利ですが設定が少し難しいです", "価格に見合う価値はあると思います"),
    "detractor": ("動作が重く現場で使われていません", "期待していた機能が足りません"),
}
ACTIVITY_SUMMARIES = {
    "meeting": (
        "定例ミーティング: 活用状況の確認",
        "EBR: 導入効果と次期目標の合意",
        "活用促進の打ち合わせ",
    ),
    "call": ("利用状況についての電話フォロー", "更新に向けたヒアリング", "課題確認の電話"),
    "email": ("活用レポートを送付", "新機能のご案内", "ウェビナーのご案内"),
    "note": ("担当者の異動予定あり", "追加部署への展開を検討中", "予算策定は1月"),
    "onboarding_session": (
        "キックオフ",
        "初期設定トレーニング",
        "管理者向けトレーニング",
        "活用定着の確認",
    ),
}
ACTIVITY_RATES = {
    "high": {"meeting": 1.1, "call": 0.8, "email": 2.5, "note": 0.8},
    "low": {"meeting": 0.25, "call": 0.4, "email": 1.2, "note": 0.3},
    "tech": {"email": 0.2},
}
"""Mean CSM activities per account and month by touch model, for an account of health 0."""
ONBOARDING_SESSIONS = {"high": (3, 10, 24, 45, 70), "low": (5, 21, 50), "tech": (7,)}
"""Days after a start on which onboarding sessions take place, by touch model."""


@dataclass(frozen=True)
class Profile:
    """The account's attributes at the end of the history."""

    account_id: int
    company: CompanyName
    segment: str
    touch_model: str
    tier: str
    plan: str
    lifecycle_stage: str
    owner_id: int | None
    customer_at_end: bool
    previous_owner_id: int | None = None
    """Who owned the account until ``handover_on`` (a CSM handed it over), if anyone."""
    handover_on: date | None = None


class IdCounter:
    """Sequential primary keys per table, so a world's ids depend only on its seed and sizes."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}

    def take(self, table: str) -> int:
        value = self._next.get(table, 1)
        self._next[table] = value + 1
        return value


def _rating(value: float) -> int:
    return min(5, max(1, round(value)))


def profile_of(story: AccountStory, company: CompanyName, end: date) -> Profile:
    """Segment, touch model, tier, plan and lifecycle stage at ``end`` (owner assigned later)."""
    active = [
        line for line in story.lines if line.start <= end and (line.end is None or line.end > end)
    ]
    mains = [line for line in story.lines if line.plan.rank >= 0]
    current_main = next((line for line in reversed(mains) if line in active), None)
    basis = active if current_main is not None else _last_lines(story)
    arr = 12 * sum(monthly_recurring(line) for line in basis)
    if arr >= HIGH_TOUCH_ARR:
        segment, touch, tier = "enterprise", "high", "tier1"
    elif arr >= LOW_TOUCH_ARR:
        segment, touch, tier = "mid", "low", "tier2"
    else:
        segment, touch, tier = "smb", "tech", "tier3"
    stage = _lifecycle_stage(story, current_main, active, end)
    return Profile(
        account_id=story.index + 1,
        company=company,
        segment=segment,
        touch_model=touch,
        tier=tier,
        plan=(current_main or mains[-1]).plan.name,
        lifecycle_stage=stage,
        owner_id=None,
        customer_at_end=current_main is not None,
    )


def account_rows(
    seed: int,
    story: AccountStory,
    profile: Profile,
    months: list[date],
    end: date,
    tz: ZoneInfo,
    ids: IdCounter,
) -> dict[str, list[Row]]:
    """All rows for one account, keyed by table name."""
    return _AccountWriter(seed, story, profile, months, end, tz, ids).rows()


def crm_account_id(index: int) -> str:
    """A Salesforce-like 18-character account id, unique per account index."""
    return "001" + _base62(index, 15)


def _last_lines(story: AccountStory) -> list[Any]:
    last_end = max(line.end for line in story.lines if line.end is not None)
    return [line for line in story.lines if line.end == last_end]


def _lifecycle_stage(story: AccountStory, main: Any, active: list[Any], end: date) -> str:
    if main is None:
        return "churned"
    if (end - main.start).days < 90 and main.start == last_start(story):
        return "onboarding"
    period = main.plan.period_months
    if period >= 3:
        months_since = (end.year - main.start.year) * 12 + end.month - main.start.month
        renewal = add_months(main.start, (months_since // period + 1) * period)
        if (renewal - end).days <= 90:
            return "renewal"
    if any((end - line.start).days < 180 and line is not main for line in active) or (
        (end - main.start).days < 180
    ):
        return "expansion"
    return "adoption"


def last_start(story: AccountStory) -> date:
    """Start of the account's latest customer period (first start or last reactivation)."""
    mains = [line for line in story.lines if line.plan.rank >= 0]
    start = mains[0].start
    for before, after in zip(mains, mains[1:], strict=False):
        if before.end != after.start:
            start = after.start
    return start


class _AccountWriter:
    def __init__(
        self,
        seed: int,
        story: AccountStory,
        profile: Profile,
        months: list[date],
        end: date,
        tz: ZoneInfo,
        ids: IdCounter,
    ) -> None:
        self.rng = random.Random(f"banso-demo:{seed}:records:{story.index}")
        # a stream of its own, so adding the ratings left every other record as it was
        self.triage_rng = random.Random(f"banso-demo:{seed}:triage:{story.index}")
        self.story, self.profile, self.months, self.end, self.tz, self.ids = (
            story,
            profile,
            months,
            end,
            tz,
            ids,
        )
        self.account_id = profile.account_id
        self.end_at = datetime.combine(end + timedelta(days=1), time(0), tz).astimezone(UTC)
        self.out: dict[str, list[Row]] = {
            name: []
            for name in (
                "accounts",
                "account_ownerships",
                "account_identities",
                "subscriptions",
                "contacts",
                "tickets",
                "survey_responses",
                "activities",
            )
        }
        self.contacts: list[tuple[int, str, date, date | None]] = []
        """(contact id, role, joined, left) in creation order."""

    def rows(self) -> dict[str, list[Row]]:
        self._account()
        self._subscriptions()
        self._contacts()
        for m, month in enumerate(self.months):
            health = self.story.health[m]
            if math.isnan(health):
                continue
            self._tickets(m, month, health)
            self._surveys(m, month, health)
            self._activities(month, health)
        self._onboarding()
        return self.out

    # --- CRM and billing ---------------------------------------------------------------------

    def _triage(self) -> Row:
        """The hand-off's triage ratings (1-5): IT literacy grows with the company's size,
        motivation with its hidden health; one account in five was never rated."""
        rng, story = self.triage_rng, self.story
        if rng.random() < 0.2:
            return {"it_literacy": None, "motivation": None}
        known = [h for h in story.health if not math.isnan(h)]
        health = sum(known[-6:]) / len(known[-6:]) if known else 0.0
        size = (math.log(story.employee_count) - 4.2) / 1.3
        return {
            "it_literacy": _rating(3 + size + rng.gauss(0, 1)),
            "motivation": _rating(3 + 1.5 * health + rng.gauss(0, 0.8)),
        }

    def _account(self) -> None:
        p, story = self.profile, self.story
        since = self._at(story.customer_since or self.end, 10)
        self.out["accounts"].append(
            {
                "id": self.account_id,
                "name": p.company.name,
                "normalized_name": p.company.normalized,
                "kana": p.company.kana,
                "domain": p.company.domain,
                "industry": p.company.industry,
                "employee_count": story.employee_count,
                "plan": p.plan,
                "segment": p.segment,
                "owner_id": p.owner_id,
                "lifecycle_stage": p.lifecycle_stage,
                "tier": p.tier,
                "touch_model": p.touch_model,
                **self._triage(),
                "created_at": since,
                "updated_at": self.end_at,
            }
        )
        periods: list[tuple[int, date | None, date | None]] = []
        if p.owner_id is not None and p.previous_owner_id is not None:  # a handover
            periods = [
                (p.previous_owner_id, None, p.handover_on),
                (p.owner_id, p.handover_on, None),
            ]
        elif p.owner_id is not None:  # the owner since before the CRM's history
            periods = [(p.owner_id, None, None)]
        for member, started, ended in periods:
            self.out["account_ownerships"].append(
                {
                    "id": self.ids.take("account_ownerships"),
                    "account_id": self.account_id,
                    "member_id": member,
                    "started_on": started,
                    "ended_on": ended,
                    "source": "demo",
                    "created_at": since,
                }
            )
        index = story.index
        for source, external_id in (
            ("crm", crm_account_id(index)),
            ("billing", f"CUS-{index + 1:06d}"),
            ("support", str(360_000_000 + 7 * index)),
        ):
            self.out["account_identities"].append(
                {
                    "id": self.ids.take("account_identities"),
                    "account_id": self.account_id,
                    "source": source,
                    "external_id": external_id,
                    "created_at": since,
                }
            )

    def _subscriptions(self) -> None:
        for n, line in enumerate(self.story.lines, start=1):
            created = self._at(line.start, 9)
            self.out["subscriptions"].append(
                {
                    "id": self.ids.take("subscriptions"),
                    "account_id": self.account_id,
                    "source": "billing",
                    "external_id": f"SUB-{self.story.index + 1:06d}-{n:02d}",
                    "plan": line.plan.name,
                    "start_date": line.start,
                    "end_date": line.end,
                    "amount": line.plan.amount,
                    "currency": "JPY",
                    "billing_period_months": line.plan.period_months,
                    "created_at": created,
                    "updated_at": self._at(line.end, 9) if line.end else created,
                }
            )

    def _contacts(self) -> None:
        story = self.story
        since = story.customer_since or self.end
        users = 1 + min(3, story.employee_count // 60)
        roles = ["champion", "decision_maker", "admin"] + ["user"] * users
        lefts = list(story.champion_left)
        joins = list(story.champion_joined)
        champion_left = lefts.pop(0) if lefts else None
        self._add_contact("champion", since, champion_left)
        for role in roles[1:]:
            self._add_contact(role, since, None)
        while joins:
            joined = joins.pop(0)
            left = lefts.pop(0) if lefts else None
            self._add_contact("champion", joined, left)

    def _add_contact(self, role: str, joined: date, left: date | None) -> None:
        rng = self.rng
        person = person_name(rng)
        contact_id = self.ids.take("contacts")
        used = {row["email"] for row in self.out["contacts"]}
        email = f"{person.email_local}@{self.profile.company.domain}"
        n = 2
        while email in used:
            email = f"{person.email_local}{n}@{self.profile.company.domain}"
            n += 1
        self.out["contacts"].append(
            {
                "id": contact_id,
                "account_id": self.account_id,
                "source": "crm",
                "external_id": "003" + _base62(contact_id, 15),
                "name": person.name,
                "kana": person.kana,
                "email": email,
                "phone": f"0{rng.choice((3, 6, 45, 52, 92))}-{rng.randint(1000, 9999)}-"
                f"{rng.randint(1000, 9999)}",
                "role": role,
                "language": "en" if rng.random() < 0.03 else "ja",
                "left_at": self._at(left, 18) if left else None,
                "created_at": self._at(joined, 11),
            }
        )
        self.contacts.append((contact_id, role, joined, left))

    # --- support, surveys, CSM activity ------------------------------------------------------

    def _tickets(self, m: int, month: date, health: float) -> None:
        rng, story = self.rng, self.story
        seats = max(1, story.seats[m])
        early = story.customer_since is not None and (month - story.customer_since).days < 62
        rate = 0.3 * math.sqrt(seats / 8) * math.exp(-0.55 * health) * (1.8 if early else 1.0)
        for _ in range(_poisson(rng, rate)):
            opened = self._business_time(month)
            if opened is None:
                continue
            urgent_bias = max(0.0, -health)
            priority = rng.choices(
                ("low", "normal", "high", "urgent"),
                weights=(0.25, 0.5, 0.17 + 0.1 * urgent_bias, 0.05 + 0.06 * urgent_bias),
            )[0]
            category = rng.choices(
                TICKET_CATEGORIES,
                weights=(0.3, 0.2 + 0.15 * urgent_bias, 0.1, 0.15, 0.15, 0.1),
            )[0]
            hours = (
                RESOLUTION_HOURS[priority]
                * math.exp(-0.35 * health)
                * math.exp(rng.gauss(0.0, 0.7))
            )
            closed: datetime | None = opened + timedelta(hours=hours)
            assert closed is not None
            if closed >= self.end_at:
                closed, status, csat = None, rng.choice(("open", "pending")), None
            else:
                status = "closed" if self.end_at - closed > timedelta(days=7) else "solved"
                csat = None
                if rng.random() < 0.45:
                    csat = _clip(round(3.9 + 0.7 * health + rng.gauss(0.0, 0.9)), 1, 5)
            number = len(self.out["tickets"]) + 1
            self.out["tickets"].append(
                {
                    "id": self.ids.take("tickets"),
                    "account_id": self.account_id,
                    "contact_id": self._contact_at(opened.date(), ("admin", "user", "champion")),
                    "source": "support",
                    "external_id": str((self.story.index + 1) * 10_000 + number),
                    "subject": rng.choice(TICKET_SUBJECTS[category]),
                    "opened_at": opened,
                    "closed_at": closed,
                    "priority": priority,
                    "status": status,
                    "category": category,
                    "csat": csat,
                    "created_at": opened,
                }
            )

    def _surveys(self, m: int, month: date, health: float) -> None:
        rng, story = self.rng, self.story
        since = story.customer_since or month
        age = (month.year - since.year) * 12 + month.month - since.month
        if age % 3 == 2 and rng.random() < 0.35 + 0.3 / (1 + math.exp(-health)):
            score = _clip(round(7.0 + 1.7 * health + rng.gauss(0.0, 1.4)), 0, 10)
            kind = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
            comment = rng.choice(NPS_COMMENTS[kind]) if rng.random() < 0.3 else None
            self._survey("nps", score, comment, month)
        if age % 6 == 4 and rng.random() < 0.4:
            score = _clip(round(3.7 + 0.6 * health + rng.gauss(0.0, 0.8)), 1, 5)
            self._survey("csat", score, None, month)

    def _survey(self, kind: str, score: int, comment: str | None, month: date) -> None:
        answered = self._business_time(month)
        if answered is None:
            return
        number = len(self.out["survey_responses"]) + 1
        self.out["survey_responses"].append(
            {
                "id": self.ids.take("survey_responses"),
                "account_id": self.account_id,
                "contact_id": self._contact_at(answered.date(), ("champion", "decision_maker")),
                "source": "survey",
                "external_id": f"S{self.story.index + 1:06d}-{number:03d}",
                "survey_type": kind,
                "score": score,
                "comment": comment,
                "answered_at": answered,
                "created_at": answered,
            }
        )

    def _activities(self, month: date, health: float) -> None:
        rng = self.rng
        engagement = math.exp(0.45 * health)
        for kind, rate in ACTIVITY_RATES[self.profile.touch_model].items():
            factor = engagement if kind in ("meeting", "call") else 1.0
            for _ in range(_poisson(rng, rate * factor)):
                at = self._business_time(month)
                if at is not None:
                    self._activity(kind, at)

    def _onboarding(self) -> None:
        starts = [_last_start_before(self.story, line.start) for line in self.story.lines]
        for start in sorted(set(starts)):
            for n, offset in enumerate(ONBOARDING_SESSIONS[self.profile.touch_model]):
                day = start + timedelta(days=offset + self.rng.randint(0, 3))
                if day > self.end:
                    break
                summaries = ACTIVITY_SUMMARIES["onboarding_session"]
                self._activity(
                    "onboarding_session",
                    self._at(day, 10 + self.rng.randint(0, 6)),
                    summaries[min(n, len(summaries) - 1)],
                )

    def _activity(self, kind: str, at: datetime, summary: str | None = None) -> None:
        activity_id = self.ids.take("activities")
        self.out["activities"].append(
            {
                "id": activity_id,
                "account_id": self.account_id,
                "member_id": self.profile.owner_id,
                "source": "crm",
                "external_id": "00T" + _base62(activity_id, 15),
                "kind": kind,
                "occurred_at": at,
                "summary": summary or self.rng.choice(ACTIVITY_SUMMARIES[kind]),
                "created_at": at,
            }
        )

    # --- helpers -----------------------------------------------------------------------------

    def _contact_at(self, day: date, roles: tuple[str, ...]) -> int | None:
        present = [
            cid
            for cid, role, joined, left in self.contacts
            if role in roles and joined <= day and (left is None or left > day)
        ]
        return self.rng.choice(present) if present else None

    def _business_time(self, month: date) -> datetime | None:
        """A random weekday business-hours instant in ``month`` (UTC), or None if after the end."""
        rng = self.rng
        day = add_months(month, 0, rng.randint(1, 31))
        if day.weekday() >= 5:
            day -= timedelta(days=day.weekday() - 4)
        if day > self.end:
            return None
        local = datetime.combine(day, time(9), self.tz) + timedelta(
            minutes=rng.randint(0, 9 * 60 - 1)
        )
        return local.astimezone(UTC)

    def _at(self, day: date, hour: int) -> datetime:
        return datetime.combine(day, time(hour), self.tz).astimezone(UTC)


def _last_start_before(story: AccountStory, day: date) -> date:
    """Start of the customer period that contains ``day``."""
    mains = [line for line in story.lines if line.plan.rank >= 0 and line.start <= day]
    start = mains[0].start if mains else day
    for before, after in zip(mains, mains[1:], strict=False):
        if before.end != after.start:
            start = after.start
    return start


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's Poisson draw; the means here are small (< 10)."""
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _clip(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _base62(number: int, width: int) -> str:
    digits = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(_ALPHABET[rest])
    return "".join(reversed(digits)).rjust(width, "0")
