"""Account ownership history: who owned an account on a day, and the KPIs of a past month by
the owner of that month."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest
from sqlalchemy import select

from banso import schema
from banso.accounts import ownership
from banso.accounts.models import Account, AccountOwnership
from banso.db import session_scope
from banso.flows.merge import merge_accounts
from banso.revenue.models import Subscription
from banso.revenue.service import revenue_report
from banso.team.models import TeamMember


def _world() -> None:
    """Two CSMs; account 1 (¥100,000 a month since 2025-01) owned by Aoi, handed to Ben on
    2025-03-15; account 2 (¥50,000 since 2025-01, ends 2025-04-01) owned by Ben all along."""
    schema.upgrade()
    with session_scope() as s:
        s.add_all([TeamMember(id=1, name="Aoi", email="aoi@example.com"),
                   TeamMember(id=2, name="Ben", email="ben@example.com")])  # fmt: skip
        s.add_all([Account(id=1, name="One", normalized_name="one"),
                   Account(id=2, name="Two", normalized_name="two")])  # fmt: skip
        s.flush()
        s.add_all(
            [
                Subscription(account_id=1, source="t", external_id="1",
                             start_date=date(2025, 1, 1), end_date=None, amount=100_000,
                             currency="JPY", billing_period_months=1),
                Subscription(account_id=2, source="t", external_id="2",
                             start_date=date(2025, 1, 1), end_date=date(2025, 4, 1),
                             amount=50_000, currency="JPY", billing_period_months=1),
            ]
        )  # fmt: skip
        s.flush()
        ownership.set_owners(s, {1: 1, 2: 2}, source="manual", day=date(2025, 1, 10))
        ownership.set_owners(s, {1: 2}, source="assignment", day=date(2025, 3, 15))


def test_owner_on_a_day_follows_the_periods() -> None:
    _world()
    with session_scope() as s:
        # the first owner owns the account since before Banso knew
        assert ownership.owner_on(s, 1, date(2024, 6, 1)) == 1
        assert ownership.owner_on(s, 1, date(2025, 3, 14)) == 1
        assert ownership.owner_on(s, 1, date(2025, 3, 15)) == 2
        assert ownership.owners_on(s, date(2025, 2, 1)) == {1: 1, 2: 2}
        assert ownership.owners_on(s, date(2026, 1, 1)) == {1: 2, 2: 2}
        assert s.get(Account, 1).owner_id == 2  # type: ignore[union-attr]
        periods = ownership.history(s, 1)
        assert [(p.member_id, p.started_on, p.ended_on) for p in periods] == [
            (1, None, date(2025, 3, 15)),
            (2, date(2025, 3, 15), None),
        ]


def test_a_second_change_on_the_same_day_replaces_the_first() -> None:
    _world()
    with session_scope() as s:
        ownership.set_owners(s, {1: 1}, source="manual", day=date(2025, 3, 15))
        assert [(p.member_id, p.started_on, p.ended_on) for p in ownership.history(s, 1)] == [
            (1, None, date(2025, 3, 15)),
            (1, date(2025, 3, 15), None),
        ]
        # removing the owner closes the period; nobody owns it afterwards
        changes = ownership.set_owners(s, {1: None}, source="manual", day=date(2025, 5, 1))
        assert changes == [ownership.OwnerChange(1, 1, None)]
        assert ownership.owner_on(s, 1, date(2025, 5, 1)) is None
        assert ownership.owner_on(s, 1, date(2025, 4, 30)) == 1
        # setting the same owner again is no change
        assert ownership.set_owners(s, {2: 2}, source="manual") == []


ENGINES = [
    "duckdb",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("spark", marks=[pytest.mark.spark, pytest.mark.xdist_group("spark")]),
]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """The analytics engine; postgres runs on a real PostgreSQL app database."""
    if request.param == "postgres":
        request.getfixturevalue("pg_url")
    return request.param


def test_revenue_by_owner_uses_the_owner_of_each_month(engine: str) -> None:
    """March 2025: Ben took account 1 on the 15th, so he owns it at the month's end: its
    ¥100,000 is in his March MRR, and in Aoi's February MRR. Account 2 churns in April (Ben)."""
    _world()
    with session_scope() as s:
        report = revenue_report(s, start="2025-02", end="2025-04", by="owner", engine=engine)
    got = {(r["month"], r["owner"]): (r["mrr_end"], r["churned_mrr"]) for r in report.rows}
    assert got[("2025-02", "aoi@example.com")] == (Fraction(100_000), 0)
    assert got[("2025-02", "ben@example.com")] == (Fraction(50_000), 0)
    assert got[("2025-03", "aoi@example.com")] == (0, 0)
    assert got[("2025-03", "ben@example.com")] == (Fraction(150_000), 0)
    assert got[("2025-04", "ben@example.com")] == (Fraction(100_000), Fraction(50_000))
    # mrr_start of Ben's March is both accounts' February MRR: the owner of March owns the move
    march = {r["owner"]: r for r in report.rows if r["month"] == "2025-03"}
    assert march["ben@example.com"]["mrr_start"] == Fraction(150_000)


def test_a_members_book_is_its_row_of_the_report_by_owner() -> None:
    """Ben's book over February-April 2025: account 2 all along, account 1 from March (he took
    it on the 15th); Aoi's: account 1 in February only."""
    _world()
    keys = ("mrr_start", "mrr_end", "churned_mrr", "new_mrr", "customers_end")
    with session_scope() as s:
        split = revenue_report(s, start="2025-02", end="2025-04", by="owner")
        for member, email in ((1, "aoi@example.com"), (2, "ben@example.com")):
            book = revenue_report(s, start="2025-02", end="2025-04", owner_id=member)
            row_of = {r["month"]: r for r in split.rows if r["owner"] == email}
            for r in book.rows:
                want = row_of.get(r["month"])
                assert [r[k] for k in keys] == [want[k] if want else 0 for k in keys]
        ben = revenue_report(s, start="2025-02", end="2025-04", owner_id=2)
    assert [r["mrr_end"] for r in ben.rows] == [50_000, 150_000, 100_000]
    assert [r["customers_end"] for r in ben.rows] == [1, 2, 1]


def test_merge_keeps_the_kept_accounts_history() -> None:
    _world()
    with session_scope() as s:
        s.add(Account(id=3, name="Three", normalized_name="three"))
        s.flush()
        merge_accounts(s, 3, 2)  # 3 has no owner: it takes 2's owner and history
    with session_scope() as s:
        assert s.get(Account, 3).owner_id == 2  # type: ignore[union-attr]
        assert ownership.owner_on(s, 3, date(2024, 1, 1)) == 2
        assert not s.scalars(select(AccountOwnership).where(AccountOwnership.account_id == 2)).all()
        merge_accounts(s, 1, 3)  # 1 has an owner: its history stands, 3's is dropped
        assert [p.member_id for p in ownership.history(s, 1)] == [1, 2]


def test_an_owner_without_any_period_owns_the_account_on_every_day() -> None:
    """A row written before the history existed (or by a writer that bypassed it)."""
    _world()
    with session_scope() as s:
        s.add(Account(id=5, name="Five", normalized_name="five", owner_id=1))
        s.flush()
        assert ownership.owner_on(s, 5, date(2020, 1, 1)) == 1
        assert ownership.owners_on(s, date(2030, 1, 1))[5] == 1
        assert (5, 1, None, None) in [
            (p.account_id, p.member_id, p.started_on, p.ended_on)
            for p in ownership.owner_periods(s, date(2025, 1, 1), date(2025, 1, 31))
        ]


WRITER_REVIEW = {
    # the writers of accounts.owner_id, each through banso.accounts.ownership
    "accounts/ownership.py": "the one writer",
    "accounts/service.py": "import: start_histories for new accounts, set_owners for updates",
    "ingest/records.py": "passes owner_id to accounts.service (AccountFacts)",
    "demo/records.py": "writes accounts and their account_ownerships rows together",
    "demo/service.py": "gives each demo account its owner and handover (records.py writes)",
    # owner_id of other things, or an owner_id read/filter only
    "account_views/routes.py": "filters",
    "dashboard/book.py": "filters",
    "dashboard/routes.py": "filters",
    "expansion/api.py": "opportunities' owner",
    "expansion/routes.py": "opportunities' owner",
    "expansion/service.py": "opportunities' owner",
    "playbooks/actions.py": "CTAs' owner",
    "playbooks/api.py": "CTAs' owner",
    "playbooks/ctas.py": "CTAs' owner",
    "playbooks/routes.py": "CTAs' owner",
    "renewals/api.py": "filters",
    "renewals/pipeline.py": "filters",
    "renewals/routes.py": "filters",
    "revenue/cache.py": "filters",
    "revenue/service.py": "filters",
    "web/params.py": "filters",
    "dashboard/csm.py": "filters",
    "demo/plans.py": "success objectives' owner",
    "onboarding/api.py": "filters",
    "onboarding/report.py": "report rows",
    "onboarding/routes.py": "filters",
    "onboarding/service.py": "board rows",
    "success/api.py": "filters",
    "success/cli.py": "filters",
    "success/service.py": "success objectives' owner",
}
"""Every module that assigns an ``owner_id``, reviewed: a new one must either write an
account's owner through ``banso.accounts.ownership`` (so its history is kept) or be about
another table; add it here with the reason once checked."""


def test_every_owner_id_writer_was_reviewed() -> None:
    import re
    from pathlib import Path

    import banso

    root = Path(banso.__file__).parent
    pattern = re.compile(r"owner_id\s*=[^=]|[\"']owner_id[\"']\s*:")
    found = {
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if "migrations" not in p.parts and pattern.search(p.read_text(encoding="utf-8"))
    }
    assert found - set(WRITER_REVIEW) == set(), "review these writers of owner_id"


def test_migration_0018_backfills_todays_owners(any_db: str) -> None:
    """A database of revision 0017 with owned accounts: after the upgrade each owner owns its
    account since before Banso knew; the downgrade drops the history only."""
    from pathlib import Path

    from alembic import command
    from sqlalchemy import text

    from banso import schema
    from banso.db import get_engine

    engine = get_engine(any_db)
    if engine.url.database and engine.dialect.name == "sqlite":
        Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)
    cfg = schema.alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0017_lifecycle_onboarding")
        conn.execute(text(
            "INSERT INTO team_members (id, name, email, created_at) VALUES "
            "(1, 'Aoi', 'aoi@example.com', CURRENT_TIMESTAMP)"
        ))  # fmt: skip
        conn.execute(text(
            "INSERT INTO accounts (id, name, normalized_name, owner_id, created_at, updated_at) "
            "VALUES (1, 'One', 'one', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP), "
            "(2, 'Two', 'two', NULL, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        ))  # fmt: skip
    schema.upgrade(any_db)
    with session_scope(any_db) as s:
        rows = s.execute(
            select(AccountOwnership.account_id, AccountOwnership.member_id,
                   AccountOwnership.started_on, AccountOwnership.ended_on,
                   AccountOwnership.source)
        ).all()  # fmt: skip
        assert [tuple(r) for r in rows] == [(1, 1, None, None, "backfill")]
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0017_lifecycle_onboarding")
        assert conn.execute(text("SELECT owner_id FROM accounts ORDER BY id")).scalars().all() == [
            1,
            None,
        ]


def test_the_owners_of_a_period_are_those_of_its_last_day_or_the_last_within_it() -> None:
    _world()
    with session_scope() as s:
        # account 3: Aoi owns it until 2025-02-20, nobody afterwards
        s.add(Account(id=3, name="Three", normalized_name="three"))
        s.flush()
        ownership.set_owners(s, {3: 1}, source="manual", day=date(2025, 1, 10))
        ownership.set_owners(s, {3: None}, source="manual", day=date(2025, 2, 20))

        def owners(first: date, last: date) -> list[tuple[int, int]]:
            rows = s.execute(ownership.period_owners_sql(first, last)).all()
            return sorted((int(a), int(m)) for a, m in rows)

        # Q1 2025: One was handed to Ben on 15 March, so it is Ben's quarter; Three was Aoi's
        # until 20 February and nobody's after: its last owner within the quarter
        assert owners(date(2025, 1, 1), date(2025, 3, 31)) == [(1, 2), (2, 2), (3, 1)]
        # February alone: One still Aoi's; Three's last owner in February is Aoi
        assert owners(date(2025, 2, 1), date(2025, 2, 28)) == [(1, 1), (2, 2), (3, 1)]
        # April: Three was owned by nobody on any day of it
        assert owners(date(2025, 4, 1), date(2025, 4, 30)) == [(1, 2), (2, 2)]
