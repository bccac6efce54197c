"""My book: a team member's accounts at risk, renewals, tasks due and the book's revenue KPIs
for the last complete month, on SQLite and PostgreSQL; the home page a CSM lands on."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso import dates
from banso.accounts.models import Account
from banso.activities.models import Activity
from banso.dashboard import book as my_book
from banso.db import session_scope
from banso.health.models import HealthCurrent
from banso.playbooks import ctas
from banso.revenue import contracts
from banso.revenue import service as revenue_service
from banso.revenue.models import Subscription
from banso.team.models import TeamMember
from banso.users.models import User
from web.world import World, build_world


def _months_before(day: date, months: int) -> date:
    return contracts.add_months(day, -months)


def _book_world(world: World) -> dict[str, int]:
    """鈴木's book, dated from the last complete month M:

    - 北星 pays 1,200,000 a year from the first of M-14, open-ended: MRR 100,000 at the end of
      M-12, M-1 and M; red band; its next renewal is 12 months after the first of M-2, i.e. the
      first of M+10 (no renewal within 90 days);
    - 南風 pays 50,000 a month from the first of M-13 until the 11th of M: it churns in M;
    - 東雲 pays 600,000 a year from 300 days before today (after the end of M-12, before M):
      MRR 50,000 at the start and end of M; it renews within 90 days; yellow.
    """
    month = dates.last_complete_month()
    today = dates.today()
    with session_scope() as s:
        suzuki = TeamMember(name="鈴木 一郎", email="Suzuki@Example.jp")
        s.add(suzuki)
        s.flush()
        hokusei = Account(name="北星株式会社", normalized_name="北星", owner_id=suzuki.id)
        nanpu = Account(name="南風株式会社", normalized_name="南風", owner_id=suzuki.id)
        shinonome = Account(name="東雲株式会社", normalized_name="東雲", owner_id=suzuki.id)
        s.add_all([hokusei, nanpu, shinonome])
        s.flush()
        lines = [
            (hokusei.id, _months_before(month, 14), None, 1_200_000, 12),
            (nanpu.id, _months_before(month, 13), month + timedelta(days=10), 50_000, 1),
            (shinonome.id, today - timedelta(days=300), None, 600_000, 12),
        ]
        for i, (account_id, start, end, amount, period) in enumerate(lines):
            s.add(
                Subscription(
                    account_id=account_id,
                    source="billing",
                    external_id=f"B-{i}",
                    start_date=start,
                    end_date=end,
                    amount=amount,
                    currency="JPY",
                    billing_period_months=period,
                )
            )
        yesterday = today - timedelta(days=1)
        for account_id, score, band in ((hokusei.id, 31.0, "red"), (shinonome.id, 55.0, "yellow")):
            s.add(
                HealthCurrent(
                    account_id=account_id,
                    day=yesterday,
                    scorecard="default",
                    score=score,
                    band=band,
                )
            )
        s.add(
            Activity(
                account_id=hokusei.id,
                member_id=suzuki.id,
                source="crm",
                external_id="A-book",
                kind="call",
                occurred_at=datetime(2026, 1, 5, 1, 30, tzinfo=UTC),
                summary="解約の意向を確認",
            )
        )
        spec = ctas.CtaSpec(
            playbook="health-red",
            reason="band",
            type="risk",
            priority="high",
            title="北星のリスク対応",
            due_in_business_days=3,
            tasks=(("経営層に連絡", 0), ("改善計画を送る", 10)),
        )
        ctas.open_or_update(s, hokusei.id, today - timedelta(days=7), spec, suzuki.id, "test")
        return {"member": suzuki.id, "hokusei": hokusei.id, "nanpu": nanpu.id}


def test_book_figures_on_every_database(any_db: str) -> None:
    world = build_world()
    ids = _book_world(world)
    today = dates.today()
    with session_scope() as s:
        member = s.get(TeamMember, ids["member"])
        assert member is not None
        view = my_book.book(s, member)
        assert view.accounts == 3
        # 南風 churned in M: not at risk, not listed; 北星 (100,000) before 東雲 (50,000)
        assert [(r.name, r.health_band, r.mrr) for r in view.at_risk.rows] == [
            ("北星株式会社", "red", 100_000),
            ("東雲株式会社", "yellow", 50_000),
        ]
        hokusei = view.at_risk.rows[0]
        assert hokusei.last_touch == datetime(2026, 1, 5, 1, 30, tzinfo=UTC)
        assert hokusei.open_cta is not None
        assert (hokusei.open_cta.title, hokusei.open_cta.open_count) == ("北星のリスク対応", 1)
        assert view.at_risk.rows[1].open_cta is None and view.at_risk.rows[1].last_touch is None
        renewal = contracts.add_months(today - timedelta(days=300), 12)
        assert [(r.name, r.next_renewal) for r in view.renewals.rows] == [("東雲株式会社", renewal)]
        # the first step was due a week ago (not done), the second is not due yet
        assert [t.title for t in view.tasks] == ["経営層に連絡"]
        assert view.tasks[0].due_date < today
        # M: MRR 200,000 at its start, of which 南風's 50,000 churned: 150,000 at its end;
        # NRR over 12 months: the base (北星 and 南風, 150,000 at the end of M-12) kept 100,000
        kpis = view.kpis
        assert kpis is not None and view.kpi_problem is None
        assert kpis.month == dates.last_complete_month().strftime("%Y-%m")
        assert (kpis.mrr, kpis.currency) == (150_000, "JPY")
        assert kpis.mrr_churn_rate == Fraction(1, 4)
        assert kpis.nrr_12m == Fraction(2, 3)
        # the same report row as the revenue service gives for the book, and not the company's
        row = revenue_service.revenue_report(
            s, start=kpis.month, end=kpis.month, owner_id=ids["member"]
        ).rows[0]
        assert (row["mrr_end"], row["churned_mrr"]) == (150_000, 50_000)
        company = revenue_service.revenue_report(s, start=kpis.month, end=kpis.month).rows[0]
        assert company["mrr_end"] > row["mrr_end"]
        if s.get_bind().dialect.name == "postgresql":  # the engine that reads the rows in place
            in_place = revenue_service.revenue_report(
                s, start=kpis.month, end=kpis.month, owner_id=ids["member"], engine="postgres"
            )
            assert in_place.rows == [row]


def test_book_of_a_member_without_accounts_has_zero_figures(any_db: str) -> None:
    world = build_world()
    with session_scope() as s:
        empty = TeamMember(name="新人", email="new@example.jp")
        s.add(empty)
        s.flush()
        view = my_book.book(s, empty)
        assert (view.accounts, view.at_risk.rows, view.renewals.rows, view.tasks) == (0, [], [], [])
        assert view.kpis is not None and (view.kpis.mrr, view.kpis.nrr_12m) == (0, None)
        # 佐藤's Acme churned long ago: it is not among her renewals
        sato = s.get(TeamMember, world.sato_member)
        assert sato is not None
        assert [r.name for r in my_book.book(s, sato).renewals.rows] == []


def test_member_of_a_user_by_link_then_by_email(any_db: str) -> None:
    world = build_world()
    ids = _book_world(world)
    with session_scope() as s:

        def user(email: str, member_id: int | None = None) -> User:
            return User(
                email=email, name="x", role="csm", password_hash="", team_member_id=member_id
            )

        linked = my_book.member_of(s, user("someone@example.jp", world.sato_member))
        assert linked is not None and linked.id == world.sato_member
        by_email = my_book.member_of(s, user("suzuki@example.jp"))
        assert by_email is not None and by_email.id == ids["member"]
        assert my_book.member_of(s, user("nobody@example.jp")) is None


def test_churned_is_customer_before_and_not_today() -> None:
    day = date(2026, 5, 10)

    def line(start: date, end: date | None, amount: int = 1000) -> contracts.Line:
        return contracts.Line(1, start, end, amount, "JPY", 1)

    ended = line(date(2025, 1, 1), date(2026, 5, 10))
    running = line(date(2025, 1, 1), None)
    later = line(date(2026, 6, 1), None)
    free = line(date(2025, 1, 1), date(2026, 1, 1), amount=0)
    assert contracts.is_churned([ended], day)
    assert not contracts.is_churned([ended, running], day)
    assert not contracts.is_churned([later], day)  # not a customer yet: not churned
    assert not contracts.is_churned([free], day)  # never paid
    assert not contracts.is_churned([], day)
    assert contracts.is_churned([ended, later], day)  # between two contracts


def _sign_in_user(client: TestClient, email: str) -> None:
    from web.conftest import sign_in_as

    sign_in_as(client, email)


def _add_csm(s: Session, email: str, member_id: int | None) -> None:
    from web.world import _hash

    s.add(
        User(
            email=email,
            name="Csm2",
            role="csm",
            password_hash=_hash(),
            team_member_id=member_id,
            failed_attempts=0,
        )
    )


def test_csm_lands_on_the_book_and_a_leader_on_the_dashboard(
    client: TestClient,
    sign_in,  # type: ignore[no-untyped-def]
    world: World,
) -> None:
    ids = _book_world(world)
    with session_scope() as s:
        _add_csm(s, "suzuki@example.jp", None)  # linked by e-mail only
    _sign_in_user(client, "suzuki@example.jp")
    home = client.get("/", headers={"Accept-Language": "en"}).text
    assert '<h1 data-testid="book-title">My book</h1>' in home
    assert "北星株式会社" in home and "¥150,000" in home and "北星のリスク対応" in home
    assert "経営層に連絡" in home and "overdue" in home
    month = dates.last_complete_month().strftime("%Y-%m")
    assert f"Revenue figures of {month}, the last complete month." in home
    assert "66.7%" in home and "25.0%" in home  # NRR, MRR churn
    assert "南風株式会社" not in home  # churned: neither at risk nor renewing
    ja = client.get("/", headers={"Accept-Language": "ja"}).text
    assert "担当顧客" in ja and "リスクのある顧客" in ja and "期限切れ" in ja
    assert f"売上の数値は、締まった直近の月 {month} のものです。" in ja

    sign_in("admin")
    leader = client
    dashboard = leader.get("/", headers={"Accept-Language": "en"}).text
    assert "<h1>Dashboard</h1>" in dashboard and 'href="/book"' in dashboard
    chosen = leader.get(f"/book?owner={ids['member']}", headers={"Accept-Language": "en"}).text
    assert "Book of 鈴木 一郎" in chosen and "北星株式会社" in chosen
    assert f'<option value="{ids["member"]}" selected>鈴木 一郎</option>' in chosen
    unlinked = leader.get("/book", headers={"Accept-Language": "en"}).text
    assert "Choose a team member to see their book." in unlinked
    bad = leader.get("/book?owner=999999", headers={"Accept-Language": "en"})
    assert bad.status_code == 422 and "There is no team member with id 999999." in bad.text
    assert "Traceback" not in bad.text


def test_csm_without_a_team_member_is_told_why(
    client: TestClient,
    world: World,
) -> None:
    with session_scope() as s:
        _add_csm(s, "stranger@example.jp", None)
    _sign_in_user(client, "stranger@example.jp")
    en = client.get("/", headers={"Accept-Language": "en"})
    assert en.status_code == 200
    assert "Your sign-in stranger@example.jp is not linked to a team member" in en.text
    ja = client.get("/book", headers={"Accept-Language": "ja"}).text
    assert "stranger@example.jp はチームメンバーに紐づいておらず" in ja


def test_books_warmed_from_one_report_by_owner_equal_each_book_alone(any_db: str) -> None:
    from banso.revenue import cache as revenue_cache

    world = build_world()
    ids = _book_world(world)
    month = dates.last_complete_month().strftime("%Y-%m")
    with session_scope() as s:
        assert revenue_cache.warm_books(s) is True
        assert revenue_cache.warm_books(s) is False  # kept until the data changes
    with session_scope() as s:
        stored = set(s.scalars(select(revenue_cache.ReportCache.key)))
        for member in (ids["member"], world.sato_member, world.tanaka_member):
            assert any(k.startswith(f"revenue-month-owner-{member}|{month}|") for k in stored)
            alone = revenue_service.revenue_report(s, start=month, end=month, owner_id=member)
            kept = revenue_cache.revenue_report(s, start=month, end=month, owner_id=member)
            assert kept.rows == alone.rows, member
        assert alone.rows[0]["nrr_12m"] is None  # 田中 had no customer 12 months before
