"""One account's usage per Tokyo day: exact counts around Tokyo midnights, merged accounts, days
without events, and only the day files of the window read."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa

from banso.usage.daily import DailyUsage, account_daily_usage, account_ids_of, window_files
from banso.usage.store import EVENT_SCHEMA, append_events, store_dir

TODAY = date(2024, 3, 31)
"""A Sunday in Tokyo; the 7-day window is 25–31 March (JST)."""


def utc(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 3) -> datetime:
    return datetime(2024, month, day, hour, minute, second, tzinfo=UTC)


def write(rows: list[tuple[int, str | None, str, datetime]]) -> None:
    append_events(
        pa.Table.from_pylist(
            [
                {
                    "event_id": f"e{i}",
                    "account_id": a,
                    "user_id": u,
                    "event": e,
                    "ts": ts,
                    "properties": None,
                }
                for i, (a, u, e, ts) in enumerate(rows)
            ],
            schema=EVENT_SCHEMA,
        )
    )


def test_events_fall_on_their_tokyo_day_and_empty_days_are_zero() -> None:
    write(
        [
            # 23:59:59 on 24 March in Tokyo: the day before the window
            (1, "u1", "login", utc(24, 14, 59, 59)),
            # 00:00 on 25 March in Tokyo (still the 24th in UTC): the first day of the window
            (1, "u1", "login", utc(24, 15)),
            (1, "u2", "report.view", utc(24, 16)),
            # 23:59:59 on 30 March in Tokyo and 00:00 on the 31st, one second apart
            (1, "u1", "report.view", utc(30, 14, 59, 59)),
            (1, "u2", "login", utc(30, 15)),
            (1, "u2", "report.view", utc(31, 1)),
            (1, None, "api.call", utc(31, 2)),  # no user: an event, not an active user
            # 00:00 on 1 April in Tokyo: after today, though in the UTC folder of 31 March
            (1, "u3", "login", utc(31, 15)),
            # another account
            (9, "x1", "login", utc(27, 3)),
        ]
    )
    usage = account_daily_usage(1, days=7, today=TODAY, merges={})
    assert usage.days == [
        DailyUsage(date(2024, 3, 25), active_users=2, events=2, logins=1),
        DailyUsage(date(2024, 3, 26), 0, 0, 0),
        DailyUsage(date(2024, 3, 27), 0, 0, 0),
        DailyUsage(date(2024, 3, 28), 0, 0, 0),
        DailyUsage(date(2024, 3, 29), 0, 0, 0),
        DailyUsage(date(2024, 3, 30), active_users=1, events=1, logins=0),
        DailyUsage(date(2024, 3, 31), active_users=1, events=3, logins=1),
    ]
    assert (usage.active_users_28d, usage.events_28d, usage.logins_28d) == (2, 6, 2)
    assert usage.last_active_day == date(2024, 3, 31)
    assert usage.has_usage


def test_the_28_day_figures_count_distinct_users_over_the_last_28_days_only() -> None:
    write(
        [
            (1, "u1", "login", utc(31, 1)),  # 31 March
            (1, "u1", "login", utc(30, 1)),  # 30 March: same user, counted once in 28 days
            (1, "u2", "login", utc(4, 1)),  # 4 March: the first of the last 28 days
            (1, "u3", "login", utc(3, 1)),  # 3 March: in the 90 days, not the 28
            (1, "u4", "report.view", utc(3, 1, month=1)),  # 3 January: the second of the 90 days
            (1, "u5", "report.view", utc(1, 1, month=1)),  # 1 January: before the 90 days
        ]
    )
    usage = account_daily_usage(1, today=TODAY, merges={})
    assert len(usage.days) == 90
    assert usage.days[0].day == date(2024, 1, 2) and usage.days[-1].day == TODAY
    assert sum(d.events for d in usage.days) == 5
    assert [(d.day, d.active_users) for d in usage.days if d.events] == [
        (date(2024, 1, 3), 1),
        (date(2024, 3, 3), 1),
        (date(2024, 3, 4), 1),
        (date(2024, 3, 30), 1),
        (date(2024, 3, 31), 1),
    ]
    assert (usage.active_users_28d, usage.events_28d, usage.logins_28d) == (2, 3, 3)


def test_events_of_merged_accounts_count_for_the_kept_account() -> None:
    write(
        [
            (1, "u1", "login", utc(28, 1)),
            (2, "v1", "login", utc(28, 2)),  # 2 was merged into 1
            (3, "w1", "report.view", utc(29, 2)),  # 3 into 2, so into 1
            (3, "u1", "report.view", utc(28, 3)),  # the same person under the old account
            (4, "z1", "login", utc(28, 1)),  # unrelated
        ]
    )
    merges = {2: 1, 3: 2}
    assert account_ids_of(1, merges) == [1, 2, 3]
    assert account_ids_of(2, merges) == []  # merged away: its events are account 1's
    usage = account_daily_usage(1, days=3, today=TODAY, merges=merges)
    assert usage.days == [
        DailyUsage(date(2024, 3, 29), active_users=1, events=1, logins=0),
        DailyUsage(date(2024, 3, 30), 0, 0, 0),
        DailyUsage(date(2024, 3, 31), 0, 0, 0),
    ]
    march_28 = account_daily_usage(1, days=1, today=date(2024, 3, 28), merges=merges)
    assert march_28.days == [DailyUsage(date(2024, 3, 28), active_users=2, events=3, logins=2)]
    assert account_daily_usage(2, days=3, today=TODAY, merges=merges).has_usage is False


def test_no_events_at_all_gives_every_day_with_zeros() -> None:
    usage = account_daily_usage(1, days=5, today=TODAY, merges={})
    assert [d.day for d in usage.days] == [date(2024, 3, d) for d in range(27, 32)]
    assert all((d.active_users, d.events, d.logins) == (0, 0, 0) for d in usage.days)
    assert (usage.active_users_28d, usage.events_28d, usage.last_active_day) == (0, 0, None)
    assert not usage.has_usage


def test_only_the_utc_day_files_of_the_window_are_read() -> None:
    write(
        [(1, "u1", "login", utc(d, 12)) for d in (20, 24, 25, 31)]
        + [(1, "u1", "login", utc(1, 1, month=4))]
    )
    # A damaged file outside the window would fail any read that touched it.
    broken = store_dir() / "date=2024-03-20" / "part-broken.parquet"
    broken.write_bytes(b"not parquet")
    start, end = utc(24, 15), utc(31, 15)  # 25 March 00:00 JST to 1 April 00:00 JST
    days = sorted({Path(f).parent.name for f in window_files(start, end)})
    assert days == ["date=2024-03-24", "date=2024-03-25", "date=2024-03-31"]
    usage = account_daily_usage(1, days=7, today=TODAY, merges={})
    assert [(d.day, d.events) for d in usage.days if d.events] == [
        (date(2024, 3, 25), 1),  # 21:00 on 25 March in Tokyo
        (date(2024, 3, 31), 1),
    ]
