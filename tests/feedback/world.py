"""A hand-made world for feedback and advocacy whose figures are worked out by hand.

Accounts (JPY, monthly lines from 2025-01-01, reporting currency JPY), current health band:
- Alpha (1)   MRR 100,000, green;  contact 11 Aiko (ja)
- Beta (2)    MRR  30,000, red;    contact 21 Beth (en)
- Gamma (3)   MRR  20,000, yellow; contact 31 Goro (ja)
- Delta (4)   MRR   5,000, green;  contact 41 Dan (no language: ja)
- Epsilon (5) left on 2025-06-01: MRR 0, not scored
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from banso import schema
from banso.accounts.models import Account, Contact
from banso.db import session_scope
from banso.health.models import HealthCurrent
from banso.revenue.models import Subscription
from banso.support.models import Ticket
from banso.surveys.models import SurveyResponse
from banso.team.models import TeamMember

SCORED = date(2026, 1, 5)


def build_world() -> None:
    schema.upgrade()
    with session_scope() as s:
        s.add(TeamMember(id=1, name="佐藤 花子", email="sato@vendor.example", team="east"))
        s.flush()
        names = {1: "Alpha株式会社", 2: "Beta合同会社", 3: "Gamma株式会社", 4: "Delta Inc.",
                 5: "Epsilon KK"}  # fmt: skip
        s.add_all(
            [Account(id=i, name=n, normalized_name=n.lower(), owner_id=1) for i, n in names.items()]
        )
        s.flush()
        for account_id, amount, end in [
            (1, 100_000, None), (2, 30_000, None), (3, 20_000, None), (4, 5_000, None),
            (5, 8_000, date(2025, 6, 1)),
        ]:  # fmt: skip
            s.add(
                Subscription(account_id=account_id, source="t", external_id=f"s{account_id}",
                             plan="pro", start_date=date(2025, 1, 1), end_date=end, amount=amount,
                             currency="JPY", billing_period_months=1)
            )  # fmt: skip
        for cid, account_id, name, email, lang in [
            (11, 1, "Aiko", "aiko@alpha.example", "ja"),
            (21, 2, "Beth", "beth@beta.example", "en"),
            (31, 3, "Goro", "goro@gamma.example", "ja"),
            (41, 4, "Dan", "dan@delta.example", None),
        ]:
            s.add(Contact(id=cid, account_id=account_id, source="t", external_id=str(cid),
                          name=name, email=email, language=lang))  # fmt: skip
        for account_id, band, score in [(1, "green", 82.0), (2, "red", 31.0),
                                        (3, "yellow", 55.0), (4, "green", 90.0)]:  # fmt: skip
            s.add(HealthCurrent(account_id=account_id, day=SCORED, scorecard="default",
                                score=score, band=band))  # fmt: skip
        s.flush()
        s.add_all(
            [
                SurveyResponse(id=7, account_id=1, contact_id=11, source="t", external_id="r7",
                               survey_type="nps", score=9, comment="SAML SSOがほしい",
                               answered_at=datetime(2025, 11, 3, 1, 0, tzinfo=UTC)),
                SurveyResponse(id=8, account_id=4, contact_id=41, source="t", external_id="r8",
                               survey_type="nps", score=10, comment=None,
                               answered_at=datetime(2025, 11, 4, 1, 0, tzinfo=UTC)),
                Ticket(id=5, account_id=2, contact_id=21, source="zendesk", external_id="T-5",
                       subject="Single sign-on (SAML)", category="feature_request",
                       opened_at=datetime(2025, 10, 1, 2, 0, tzinfo=UTC)),
                Ticket(id=6, account_id=4, contact_id=41, source="zendesk", external_id="T-6",
                       subject="  slack   INTEGRATION ", category="feature_request",
                       opened_at=datetime(2025, 10, 2, 2, 0, tzinfo=UTC)),
                Ticket(id=9, account_id=5, contact_id=None, source="zendesk", external_id="T-9",
                       subject="Slack integration", category="feature_request",
                       opened_at=datetime(2025, 10, 3, 2, 0, tzinfo=UTC)),
                Ticket(id=10, account_id=3, contact_id=31, source="zendesk", external_id="T-10",
                       subject="Login fails", category="bug",
                       opened_at=datetime(2025, 10, 3, 2, 0, tzinfo=UTC)),
                Ticket(id=11, account_id=3, contact_id=31, source="zendesk", external_id="T-11",
                       subject="  ", category="feature_request",
                       opened_at=datetime(2025, 10, 4, 2, 0, tzinfo=UTC)),
            ]
        )  # fmt: skip
