"""Product usage events of the demo world, generated one company day at a time.

Each account has up to ``MAX_USERS`` product users with their own propensity to use the product.
On each day a user of a customer account is active with a probability that follows the account's
hidden health (interpolated between months), the weekday and Japanese holidays; an active user
logs in and uses features, advanced ones (workflows, API, integrations) only when the plan allows
and more often in healthy accounts. Only one day's events are in memory at a time, and each day
is written as its own Parquet file through ``banso.usage.store.write_partition``, so memory stays
bounded whatever the size of the world.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from banso.demo.story import MAX_USERS
from banso.usage.store import EVENT_SCHEMA, write_partition

BASIC_FEATURES = ("report.view", "dashboard.create", "export.csv", "search")
ADVANCED_FEATURES = ("workflow.run", "api.call", "integration.sync")
EVENT_NAMES = ("login", *BASIC_FEATURES, *ADVANCED_FEATURES)

_BASE_ACTIVITY = 0.6
"""Scales every user's daily activity probability (before ``scale``): sets the default volume."""
_SESSION_HOURS = np.arange(9, 23)
_SESSION_WEIGHTS = np.array([6, 10, 10, 7, 9, 10, 10, 9, 7, 4, 3, 2, 2, 1], dtype=float)
_SESSION_WEIGHTS /= _SESSION_WEIGHTS.sum()


@dataclass
class UsageInputs:
    """Per-account monthly state from the simulation (row = account index, column = month)."""

    account_ids: np.ndarray
    """Banso account id per account index (int64)."""
    health: np.ndarray
    """Hidden health (float32, NaN when not a customer)."""
    seats: np.ndarray
    """Licensed users (int16)."""
    advanced: np.ndarray
    """Advanced features available (bool)."""
    service_starts: np.ndarray
    """Day index (from the first history day) on which a service interval starts, per interval."""
    service_ends: np.ndarray
    """Day index on which that interval ends (exclusive)."""
    service_accounts: np.ndarray
    """Account index of each interval."""


def write_usage_events(
    seed: int,
    inputs: UsageInputs,
    first_day: date,
    days: int,
    tz: ZoneInfo,
    scale: float,
    root: Path,
    on_day: Callable[[int], None] | None = None,
) -> int:
    """Generate and write the events of ``days`` company days from ``first_day``; returns rows.

    ``scale`` multiplies how often each user is active (1.0: the default world).
    """
    if scale <= 0:
        return 0
    users = _Users.build(seed, inputs)
    toggles = _toggles(inputs, days)
    active = np.zeros(len(inputs.account_ids), dtype=bool)
    month_starts = _month_starts(first_day, inputs.health.shape[1])
    calendar_jp = holidays.country_holidays("JP", years=range(first_day.year, first_day.year + 30))
    total = 0
    for d in range(days):
        starting, ending = toggles.get(d, ((), ()))
        active[list(ending)] = False
        active[list(starting)] = True
        day = first_day + timedelta(days=d)
        table = _day_events(seed, inputs, users, active, day, month_starts, calendar_jp, scale, tz)
        total += _write_day(table, day, root)
        if on_day is not None:
            on_day(d + 1)
    return total


@dataclass
class _Users:
    account: np.ndarray
    number: np.ndarray
    propensity: np.ndarray
    ids: pa.Array

    @classmethod
    def build(cls, seed: int, inputs: UsageInputs) -> _Users:
        rng = np.random.default_rng([seed, 0xE7])
        per_account = np.minimum(inputs.seats.max(axis=1).astype(np.int64), MAX_USERS)
        account = np.repeat(np.arange(len(per_account)), per_account)
        starts = np.cumsum(per_account) - per_account
        number = np.arange(len(account)) - np.repeat(starts, per_account)
        propensity = rng.beta(1.3, 2.2, size=len(account)).astype(np.float32)
        owners = inputs.account_ids[account].tolist()
        ids = pa.array(
            [f"u{aid}-{n + 1:02d}" for aid, n in zip(owners, number.tolist(), strict=True)],
            type=pa.string(),
        )
        return cls(account, number, propensity, ids)


def _toggles(inputs: UsageInputs, days: int) -> dict[int, tuple[list[int], list[int]]]:
    """Per day index: accounts whose service starts, accounts whose service ends."""
    toggles: dict[int, tuple[list[int], list[int]]] = {}
    for start, end, account in zip(
        inputs.service_starts, inputs.service_ends, inputs.service_accounts, strict=True
    ):
        toggles.setdefault(max(0, int(start)), ([], []))[0].append(int(account))
        if end < days:
            toggles.setdefault(int(end), ([], []))[1].append(int(account))
    return toggles


def _month_starts(first_day: date, months: int) -> list[date]:
    out, year, month = [], first_day.year, first_day.month
    for _ in range(months + 1):
        out.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _day_events(
    seed: int,
    inputs: UsageInputs,
    users: _Users,
    active: np.ndarray,
    day: date,
    month_starts: list[date],
    calendar_jp: holidays.HolidayBase,
    scale: float,
    tz: ZoneInfo,
) -> pa.Table | None:
    m = (day.year - month_starts[0].year) * 12 + day.month - month_starts[0].month
    health = _daily_health(inputs.health, m, day, month_starts)
    seats = inputs.seats[:, m]
    enabled = np.flatnonzero(active[users.account] & (users.number < seats[users.account]))
    if len(enabled) == 0:
        return None
    rng = np.random.default_rng([seed, 0xD4, day.toordinal()])
    account = users.account[enabled]
    h = np.nan_to_num(health[account], nan=-1.0)
    p = (
        _BASE_ACTIVITY
        * users.propensity[enabled]
        * _sigmoid(1.6 * h + 0.6)
        * _day_factor(day, calendar_jp)
    )
    on = rng.random(len(enabled)) < np.minimum(0.95, p * scale)
    user = enabled[on]
    account, h = account[on], h[on]
    if len(user) == 0:
        return None
    features = rng.poisson(0.6 + 1.8 * _sigmoid(1.2 * h))
    per_user = features + 1
    n = int(per_user.sum())
    owner = np.repeat(np.arange(len(user)), per_user)
    position = np.arange(n) - np.repeat(np.cumsum(per_user) - per_user, per_user)
    advanced_share = inputs.advanced[account, m] * (0.04 + 0.3 * _sigmoid(1.5 * h - 0.3))
    is_advanced = rng.random(n) < advanced_share[owner]
    code = np.where(
        is_advanced,
        1 + len(BASIC_FEATURES) + rng.integers(0, len(ADVANCED_FEATURES), n),
        1 + rng.integers(0, len(BASIC_FEATURES), n),
    )
    code[position == 0] = 0
    session = rng.choice(_SESSION_HOURS, size=len(user), p=_SESSION_WEIGHTS) * 3600
    session += rng.integers(0, 3600, len(user))
    gap = rng.integers(30, 420, len(user))
    seconds = session[owner] + position * gap[owner] + rng.integers(0, 30, n)
    seconds = np.minimum(seconds, 86_399)
    midnight = datetime.combine(day, time(0), tz).astimezone(UTC)
    ts = int(midnight.timestamp()) * 1_000_000 + seconds.astype(np.int64) * 1_000_000
    order = np.argsort(ts, kind="stable")
    ts, owner, code = ts[order], owner[order], code[order]
    sequence = pc.cast(pa.array(np.arange(1, n + 1)), pa.string())
    event_id = pc.binary_join_element_wise(
        f"ev{day:%Y%m%d}-", pc.utf8_lpad(sequence, width=7, padding="0"), ""
    )
    user_index = user[owner]
    return pa.table(
        {
            "event_id": event_id,
            "account_id": pa.array(inputs.account_ids[users.account[user_index]], pa.int64()),
            "user_id": users.ids.take(pa.array(user_index)),
            "event": pa.array(EVENT_NAMES, pa.string()).take(pa.array(code)),
            "ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
            "properties": pa.nulls(n, pa.string()),
        },
        schema=EVENT_SCHEMA,
    )


def _daily_health(health: np.ndarray, m: int, day: date, month_starts: list[date]) -> np.ndarray:
    """Health on ``day``: linear between this month's and the next month's value."""
    current = health[:, m]
    if m + 1 >= health.shape[1]:
        return current
    span = (month_starts[m + 1] - month_starts[m]).days
    weight = (day - month_starts[m]).days / span
    following = health[:, m + 1]
    return np.where(np.isnan(following), current, current + weight * (following - current))


def _day_factor(day: date, calendar_jp: holidays.HolidayBase) -> float:
    """How busy a company day is: weekends, public holidays and 年末年始 are quiet."""
    if (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3):
        return 0.12
    if day in calendar_jp:
        return 0.15
    return (1.0, 1.0, 1.0, 1.0, 0.95, 0.12, 0.08)[day.weekday()]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _write_day(table: pa.Table | None, day: date, root: Path) -> int:
    """Write one company day; rows falling on another UTC date go to that date's partition."""
    if table is None:
        return 0
    micros = table["ts"].cast(pa.int64()).to_numpy()
    utc_days = micros // 86_400_000_000
    distinct = np.unique(utc_days)
    for utc_day in distinct:
        part = table if len(distinct) == 1 else table.filter(pa.array(utc_days == utc_day))
        label = (date(1970, 1, 1) + timedelta(days=int(utc_day))).isoformat()
        write_partition(part, label, f"demo-{day:%Y%m%d}", root)
    return table.num_rows
