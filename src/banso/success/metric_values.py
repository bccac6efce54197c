"""The current value of a product metric for one account, read from the modules that own it.

A success-plan objective tied to a measure of ``health.measures.MEASURES`` reads its value
here; nothing is recomputed:

1. the measure's raw value on the account's latest health snapshot on or before the day
   (``health.snapshots``: the value the health score used), when the account's scorecard has
   that measure and the account had data for it;
2. otherwise, for the three 28-day usage figures the usage store gives per account
   (``usage.daily.account_daily_usage``: active users, events, logins over the 28 company-local
   days ending that day), that figure.

Any other case has no current value (the objective then shows no progress).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from banso.dates import today as company_today
from banso.health import snapshots
from banso.usage.daily import account_daily_usage

USAGE_FIGURES = {
    "active_users_28d": "active_users_28d",
    "events_28d": "events_28d",
    "logins_28d": "logins_28d",
}
"""Measures the usage store gives for one account directly, and the figure that holds each."""


@dataclass(frozen=True)
class CurrentValue:
    value: float
    day: date | None
    """The day the value is as of (the snapshot's day, the usage window's last day, the day a
    manual KPI was entered)."""
    source: str
    """health, usage or manual."""


def current_value(account_id: int, measure: str, day: date | None = None) -> CurrentValue | None:
    """The measure's latest value for the account as of ``day`` (company today by default)."""
    return current_values(account_id, [measure], day).get(measure)


def current_values(
    account_id: int, measures: list[str], day: date | None = None
) -> dict[str, CurrentValue]:
    """The latest value of each of ``measures`` that has one, reading the snapshot row once and
    the usage store at most once for the account."""
    last = day or company_today()
    found: dict[str, CurrentValue] = {}
    scored = [d for d in snapshots.scored_days() if d <= last]
    row = snapshots.read_account_day(account_id, scored[-1]) if scored else None
    for measure in measures:
        raw = row.get(f"raw__{measure}") if row is not None else None
        if raw is not None and math.isfinite(raw):
            found[measure] = CurrentValue(float(raw), scored[-1], "health")
    wanted = [m for m in measures if m not in found and m in USAGE_FIGURES]
    if wanted:
        usage = account_daily_usage(account_id, days=28, today=last)
        for measure in wanted:
            found[measure] = CurrentValue(float(getattr(usage, USAGE_FIGURES[measure])), last,
                                          "usage")  # fmt: skip
    return found
