"""Data versions and the revenue report cache: a cached report is always the one a fresh
computation gives, whichever way the data under it changed."""

from __future__ import annotations

import pytest
from revenue_examples import EXAMPLE_NAMES, insert_subscriptions, load_example
from sqlalchemy import delete, func, select, text, update

from banso import bulk, data_versions, dates
from banso.db import get_engine, session_scope
from banso.revenue import cache, service
from banso.revenue.models import FxRate, Subscription
from banso.revenue.months import MonthRange, default_last_month, month_label, parse_month


def _version() -> int:
    with session_scope() as session:
        return data_versions.current(session, data_versions.REVENUE)


def _cached_rows() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(cache.ReportCache)) or 0


@pytest.mark.parametrize(
    ("statement", "families"),
    [
        ("INSERT INTO subscriptions (a) VALUES (?)", ("revenue", "health")),
        ('INSERT INTO "subscriptions" (a) VALUES (?)', ("revenue", "health")),
        ("  update accounts set name = 'x'", ("revenue", "health")),
        ("DELETE FROM fx_rates WHERE id = 1", ("revenue", "health")),
        ("INSERT OR REPLACE INTO team_members VALUES (1)", ("revenue",)),
        ("SELECT * FROM subscriptions", ()),
        # the health score reads activities, the revenue reports do not
        ("INSERT INTO activities (a) VALUES (1)", ("health",)),
        ("UPDATE health_current SET score = 1", ()),
        ("INSERT INTO _alembic_tmp_subscriptions SELECT * FROM subscriptions", ()),
        ("UPDATE subscriptions_archive SET a = 1", ()),
    ],
)
def test_families_written_reads_the_target_table(statement: str, families: tuple) -> None:
    assert data_versions.families_written(statement) == families


def test_every_write_path_raises_the_version_once_per_transaction(any_db: str) -> None:
    load_example(EXAMPLE_NAMES[0])
    after_load = _version()
    assert after_load == 1  # one transaction wrote accounts and subscriptions: one raise
    with session_scope() as session:  # reads change nothing
        session.scalar(select(func.count()).select_from(Subscription))
    assert _version() == after_load
    with session_scope() as session:  # ORM
        session.add(FxRate(currency="USD", month="2024-01", rate=150))
    assert _version() == after_load + 1
    with session_scope() as session:  # Core
        session.execute(update(Subscription).values(amount=Subscription.amount + 1))
        session.execute(delete(FxRate))
    assert _version() == after_load + 2
    with session_scope() as session:  # the importer's bulk path (raw driver SQL on SQLite)
        first = session.scalars(select(Subscription)).first()
        assert first is not None
        bulk.bulk_update(session, Subscription.__table__, [{"id": first.id, "amount": 1}])
    assert _version() == after_load + 3
    with pytest.raises(RuntimeError), session_scope() as session:  # rolled back with the write
        session.execute(update(Subscription).values(amount=2))
        raise RuntimeError("abort")
    assert _version() == after_load + 3
    with get_engine().begin() as conn:  # plain text SQL through the engine
        conn.execute(text("UPDATE subscriptions SET amount = 3"))
    assert _version() == after_load + 4


def test_cached_report_equals_a_fresh_one_and_follows_the_data(any_db: str) -> None:
    load_example(EXAMPLE_NAMES[0])
    with session_scope() as session:
        last = default_last_month(session)
        fresh = service.revenue_report(session, end=last)
        first = cache.revenue_report(session, end=last)
        again = cache.revenue_report(session, end=last)
        cohorts = cache.cohort_report(session, end=last)
        cohorts_again = cache.cohort_report(session, end=last)
    assert first.rows == fresh.rows
    assert again.rows == fresh.rows  # from the cache: exact fractions, same types
    assert [type(v) for v in again.rows[-1].values()] == [type(v) for v in fresh.rows[-1].values()]
    assert cohorts_again.rows == cohorts.rows
    assert _cached_rows() == 13  # twelve months and the cohort table
    # new data: the cache is stale and the next report is recomputed
    insert_subscriptions(
        [
            {
                "account_id": "late-comer",
                "subscription_id": "late-1",
                "plan": "pro",
                "start_date": f"{last}-01",
                "end_date": "",
                "amount": "99000",
                "currency": "JPY",
                "billing_period_months": "1",
            }
        ]
    )
    with session_scope() as session:
        after = cache.revenue_report(session, end=last)
        expected = service.revenue_report(session, end=last)
    assert after.rows == expected.rows
    assert after.rows[-1]["mrr_end"] == fresh.rows[-1]["mrr_end"] + 99000


def test_warm_fills_the_dashboard_and_metrics_defaults_once(any_db: str) -> None:
    load_example(EXAMPLE_NAMES[0])
    with session_scope() as session:
        assert cache.warm(session) is True
        assert cache.warm(session) is False  # current already
        last = parse_month(default_last_month(session), "month")
        stored = set(session.scalars(select(cache.ReportCache.key)).all())
    book = parse_month(dates.last_complete_month().strftime("%Y-%m"), "month")
    months = cache.dashboard_range(last)
    assert months.last - months.first == cache.TREND_MONTHS
    assert stored == {
        *(
            cache._key("revenue-month", MonthRange(m, m), None)
            for m in range(months.first, months.last + 1)
        ),
        cache._key("cohorts", MonthRange(last - 11, last), None),
        # My book: the last complete month by owner, whose rows (none here: the example's
        # accounts have no owner) are kept per member, and the mark that it was done
        cache._key("revenue-month", MonthRange(book, book), "owner"),
        cache._key("books-warmed", MonthRange(book, book), None),
    }


def test_ranges_assembled_from_cached_months_equal_a_fresh_report(any_db: str) -> None:
    load_example(EXAMPLE_NAMES[0])
    with session_scope() as session:
        last = parse_month(default_last_month(session), "month")
        label = month_label
        cache.revenue_report(session, start=label(last - 4), end=label(last - 2))
        cache.revenue_report(session, start=label(last), end=label(last))
        # cached: last-4..last-2 and last; computed: last-8..last-5 and last-1
        wide = cache.revenue_report(session, start=label(last - 8), end=label(last))
        fresh = service.revenue_report(session, start=label(last - 8), end=label(last))
        by_plan = cache.revenue_report(session, start=label(last - 2), end=label(last), by="plan")
        by_plan_fresh = service.revenue_report(
            session, start=label(last - 2), end=label(last), by="plan"
        )
    assert wide.rows == fresh.rows
    assert wide.months == fresh.months
    assert by_plan.rows == by_plan_fresh.rows


def test_warm_without_data_does_nothing(any_db: str) -> None:
    from banso import schema

    schema.upgrade()
    with session_scope() as session:
        assert cache.warm(session) is False
    assert _cached_rows() == 0


def test_daily_run_recomputes_the_dashboard_report_only_after_a_change(cli) -> None:  # type: ignore[no-untyped-def]
    load_example(EXAMPLE_NAMES[0])
    first = cli("run", "--as-of", "2024-06-30", "--no-send")
    assert first.exit_code == 0, first.stderr
    assert "Dashboard revenue figures recomputed for the changed data." in first.stdout
    again = cli("run", "--as-of", "2024-06-30", "--no-send")
    assert "Dashboard revenue figures recomputed" not in again.stdout
    # 13 months, the cohorts, the last complete month by owner and its mark (My book)
    assert _cached_rows() == cache.TREND_MONTHS + 2 + 2
