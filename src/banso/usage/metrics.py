"""Per-account usage features from the event store, defined once as Ibis expressions.

Every window is a run of whole company-local days ending with the as-of date ``D``: the last 7
days are ``D-6 .. D``, the last 28 days ``D-27 .. D`` and the prior 28 days ``D-55 .. D-28``.
Windows are turned into UTC instants in Python (``UsageWindow``), so engines only compare
timestamps; a local day number is ``floor((epoch_seconds(ts) + utc_offset) / 86400)`` with the
company zone's offset at ``D`` (exact for zones without daylight saving, such as Asia/Tokyo).

Engines must run with their session time zone set to UTC (see ``banso.usage.service``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir

LOGIN_EVENT = "login"
DEFAULT_ADVANCED_FEATURES = ("workflow.run", "api.call", "integration.sync")

FEATURES: dict[str, str] = {
    "active_users_7d": "distinct users with any event in the last 7 days",
    "active_users_28d": "distinct users with any event in the last 28 days",
    "active_days_7d": "distinct local days with any event in the last 7 days",
    "active_days_28d": "distinct local days with any event in the last 28 days",
    "wau_mau": "active_users_7d / active_users_28d (null without active users)",
    "logins_7d": "login events in the last 7 days",
    "logins_28d": "login events in the last 28 days",
    "events_28d": "events of any kind in the last 28 days",
    "distinct_features_28d": "distinct non-login event names in the last 28 days",
    "advanced_features_28d": "distinct advanced event names in the last 28 days",
    "advanced_events_28d": "events of advanced features in the last 28 days",
    "events_per_active_user_28d": "events_28d / active_users_28d (null without active users)",
    "days_since_last_activity": "days from the last local day with an event to D (null: never)",
}
"""Feature name -> meaning. Each ``*_28d`` count also has ``*_prior28d`` and ``*_trend``."""

TRENDED = (
    "active_users_28d",
    "active_days_28d",
    "logins_28d",
    "events_28d",
    "distinct_features_28d",
    "advanced_features_28d",
)
"""28-day features compared with the prior 28 days: trend = (now - prior) / prior."""


@dataclass(frozen=True)
class UsageWindow:
    """The UTC instants that bound the windows of as-of date ``as_of`` in zone ``timezone``."""

    as_of: date
    timezone: str

    @property
    def end(self) -> datetime:
        """Start of the local day after ``as_of``, in UTC: every window ends here (exclusive)."""
        zone = ZoneInfo(self.timezone)
        return datetime.combine(self.as_of + timedelta(days=1), time(0), zone).astimezone(
            ZoneInfo("UTC")
        )

    def start(self, days: int) -> datetime:
        zone = ZoneInfo(self.timezone)
        local = datetime.combine(self.as_of + timedelta(days=1 - days), time(0), zone)
        return local.astimezone(ZoneInfo("UTC"))

    @property
    def utc_offset_seconds(self) -> int:
        zone = ZoneInfo(self.timezone)
        offset = datetime.combine(self.as_of, time(12), zone).utcoffset()
        return int(offset.total_seconds()) if offset else 0

    @property
    def as_of_day_number(self) -> int:
        """``as_of`` as a local day number (days since 1970-01-01)."""
        return (self.as_of - date(1970, 1, 1)).days


def usage_features(
    events: ir.Table,
    window: UsageWindow,
    advanced_features: tuple[str, ...] = DEFAULT_ADVANCED_FEATURES,
) -> ir.Table:
    """One row per account with any event before the window end; columns: ``account_id`` and
    every name in ``FEATURES`` plus ``<f>_prior28d`` and ``<f>_trend`` for ``f`` in ``TRENDED``."""
    end = _ts(window.end)
    s7, s28, s56 = _ts(window.start(7)), _ts(window.start(28)), _ts(window.start(56))
    offset = window.utc_offset_seconds
    # two passes: the 56 days of windows (engines prune files and row groups by ts), and the
    # last active day over all history (which needs only account_id and ts)
    recent = events.filter((events.ts >= s56) & (events.ts < end))
    day = ((recent.ts.epoch_seconds() + offset) // 86400).cast("int64")
    in7 = recent.ts >= s7
    in28 = recent.ts >= s28
    prior = recent.ts < s28
    is_login = recent.event == LOGIN_EVENT
    is_feature = recent.event != LOGIN_EVENT
    is_advanced = recent.event.isin(list(advanced_features))

    windows = {
        "active_users_7d": recent.user_id.nunique(where=in7),
        "active_users_28d": recent.user_id.nunique(where=in28),
        "active_users_28d_prior28d": recent.user_id.nunique(where=prior),
        "active_days_7d": day.nunique(where=in7),
        "active_days_28d": day.nunique(where=in28),
        "active_days_28d_prior28d": day.nunique(where=prior),
        "logins_7d": is_login.sum(where=in7),
        "logins_28d": is_login.sum(where=in28),
        "logins_28d_prior28d": is_login.sum(where=prior),
        "events_28d": recent.count(where=in28),
        "events_28d_prior28d": recent.count(where=prior),
        "distinct_features_28d": recent.event.nunique(where=in28 & is_feature),
        "distinct_features_28d_prior28d": recent.event.nunique(where=prior & is_feature),
        "advanced_features_28d": recent.event.nunique(where=in28 & is_advanced),
        "advanced_features_28d_prior28d": recent.event.nunique(where=prior & is_advanced),
        "advanced_events_28d": is_advanced.sum(where=in28),
    }
    windowed = recent.group_by("account_id").aggregate(**windows)
    history = events.filter(events.ts < end)
    last = history.group_by(account_id="account_id").aggregate(last_ts=history.ts.max())
    last = last.select(
        "account_id",
        last_day=((last.last_ts.epoch_seconds() + offset) // 86400).cast("int64"),
    )
    agg = last.left_join(windowed, "account_id").drop("account_id_right")
    counts = {name: agg[name].fill_null(0).cast("int64") for name in windows}
    rows = agg.select("account_id", "last_day", **counts)
    derived = {
        "wau_mau": _ratio(rows.active_users_7d, rows.active_users_28d),
        "events_per_active_user_28d": _ratio(rows.events_28d, rows.active_users_28d),
        "days_since_last_activity": (window.as_of_day_number - rows.last_day).cast("int64"),
    }
    for name in TRENDED:
        prior_col = rows[f"{name}_prior28d"]
        derived[f"{name}_trend"] = _ratio(rows[name] - prior_col, prior_col)
    renamed = {f"{name}_prior28d": rows[f"{name}_prior28d"] for name in TRENDED}
    base = [c for c in counts if not c.endswith("_prior28d")]
    return rows.select("account_id", *base, **renamed, **derived).order_by("account_id")


def _ts(value: datetime) -> ir.TimestampScalar:
    return ibis.timestamp(value)


def _ratio(numerator: ir.NumericValue, denominator: ir.NumericValue) -> ir.FloatingValue:
    """``numerator / denominator`` as a float, null when the denominator is 0."""
    return ibis.ifelse(denominator == 0, ibis.null(), numerator.cast("float64") / denominator)
