"""A small, exact customer world for the web tests (pages, API, browser).

Today is taken in the company time zone, so every date is relative to it; the MRR figures are
exact: 株式会社山田製作所 pays 1,200,000 yen a year plus 30,000 yen a month (MRR 130,000).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from banso import schema
from banso.accounts.models import Account, Contact
from banso.activities.models import Activity
from banso.dates import today as company_today
from banso.db import session_scope
from banso.revenue.models import Subscription
from banso.support.models import Ticket
from banso.surveys.models import SurveyResponse
from banso.team.models import TeamMember
from banso.users.models import User

PASSWORD = "correct-horse-1"
EMAILS = {
    "admin": "admin@example.jp",
    "ops": "ops@example.jp",
    "csm": "sato@example.jp",
    "viewer": "viewer@example.jp",
}
"""role -> sign-in e-mail; the CSM is 佐藤 花子, who owns 山田製作所 and Acme."""
FILLERS = 57
"""Extra accounts so the list has two pages of 50 (3 named + 57 = 60)."""


@lru_cache(maxsize=1)
def _hash() -> str:
    # One argon2 hash per test process: hashing is deliberately slow, signing in still verifies.
    return PasswordHasher().hash(PASSWORD)


@dataclass(frozen=True)
class World:
    yamada: int
    midori: int
    acme: int
    sato_member: int
    tanaka_member: int


def build_world() -> World:
    schema.upgrade()
    with session_scope() as session:
        return _seed(session)


def _seed(session: Session) -> World:
    today = company_today()
    sato = TeamMember(name="佐藤 花子", email="sato@example.jp", job_title="manager")
    tanaka = TeamMember(name="田中 一郎", email="tanaka@example.jp", job_title="associate")
    session.add_all([sato, tanaka])
    session.flush()
    yamada = Account(
        name="株式会社山田製作所",
        normalized_name="山田製作所",
        kana="ヤマダセイサクショ",
        domain="yamada-ss.co.jp",
        plan="Pro",
        segment="Enterprise",
        owner_id=sato.id,
        lifecycle_stage="adoption",
        industry="製造",
    )
    midori = Account(
        name="みどり商事株式会社",
        normalized_name="みどり商事",
        kana="みどりしょうじ",
        domain="midori-shoji.jp",
        plan="Basic",
        segment="SMB",
        owner_id=tanaka.id,
        lifecycle_stage="onboarding",
    )
    acme = Account(
        name="Acme Japan K.K.",
        normalized_name="acme japan",
        kana="アクメジャパン",
        domain="acme.example.com",
        plan="Pro",
        segment="Mid-market",
        owner_id=sato.id,
        lifecycle_stage="churned",
    )
    fillers = [
        Account(
            name=f"Filler {i:03d}",
            normalized_name=f"filler {i:03d}",
            plan="Basic",
            segment="SMB",
            owner_id=tanaka.id,
            lifecycle_stage="adoption",
        )
        for i in range(1, FILLERS + 1)
    ]
    session.add_all([yamada, midori, acme, *fillers])
    session.flush()
    year_start = today - timedelta(days=200)
    session.add_all(
        [
            Subscription(
                account_id=yamada.id,
                source="billing",
                external_id="S-1",
                plan="Pro",
                start_date=year_start,
                end_date=year_start + timedelta(days=365),
                amount=1_200_000,
                currency="JPY",
                billing_period_months=12,
            ),
            Subscription(
                account_id=yamada.id,
                source="billing",
                external_id="S-2",
                plan="Add-on",
                start_date=today - timedelta(days=30),
                end_date=None,
                amount=30_000,
                currency="JPY",
                billing_period_months=1,
            ),
            Subscription(
                account_id=midori.id,
                source="billing",
                external_id="S-3",
                plan="Basic",
                start_date=today - timedelta(days=20),
                end_date=None,
                amount=50_000,
                currency="JPY",
                billing_period_months=1,
            ),
            Subscription(
                account_id=acme.id,
                source="billing",
                external_id="S-4",
                plan="Pro",
                start_date=today - timedelta(days=500),
                end_date=today - timedelta(days=135),
                amount=600_000,
                currency="JPY",
                billing_period_months=12,
            ),
        ]
    )
    session.add_all(
        [
            Contact(
                account_id=yamada.id,
                source="crm",
                external_id="C-1",
                name="山田 太郎",
                kana="ヤマダ タロウ",
                email="taro@yamada-ss.co.jp",
                role="champion",
            ),
            Contact(
                account_id=yamada.id,
                source="crm",
                external_id="C-2",
                name="鈴木 次郎",
                email="jiro@yamada-ss.co.jp",
                role="decision_maker",
            ),
        ]
    )
    now = datetime.now(UTC)
    session.add_all(
        [
            Activity(
                account_id=yamada.id,
                member_id=sato.id,
                source="crm",
                external_id="A-1",
                kind="meeting",
                occurred_at=now - timedelta(days=10),
                summary="四半期ビジネスレビューを実施",
            ),
            Ticket(
                account_id=yamada.id,
                source="zendesk",
                external_id="T-1",
                subject="CSV export is slow",
                opened_at=now - timedelta(days=5),
                priority="high",
                status="open",
            ),
            SurveyResponse(
                account_id=yamada.id,
                source="survey",
                external_id="N-1",
                survey_type="nps",
                score=9,
                comment="とても使いやすい",
                answered_at=now - timedelta(days=3),
            ),
        ]
    )
    for role, email in EMAILS.items():
        session.add(
            User(
                email=email,
                name=role.title(),
                role=role,
                password_hash=_hash(),
                team_member_id=sato.id if role == "csm" else None,
                failed_attempts=0,
            )
        )
    return World(yamada.id, midori.id, acme.id, sato.id, tanaka.id)
