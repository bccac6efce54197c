"""Per-account usage features from the event store, defined once as Ibis expressions.

Every window is a run of whole company-local days ending with the as-of date ``D``: the last 7
days are ``D-6 .. D``, the last 28 days ``D-27 .. D`` and the prior 28 days ``D-55 .. D-28``.
Windows are turned into UTC instants in Python (``UsageWindow``), so engines only compare
timestamps; a local day number is ``floor((epoch_seconds(ts) + utc_offset) / 86400)`` with the
company zone's offset at ``D`` (exact for zones without daylight saving, such as Asia/Tokyo).

Engines must run with their session time zone set to UTC (see ``banso.usage.service``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

LOGIN_EVENT = "login"
LAST_ACTIVITY_LOOKBACK_DAYS = 365
"""How far back the last active day is looked for: bounds the scan however long the history."""
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
    "days_since_last_activity": (
        "days from the last local day with an event to D, looking back 365 days "
        "(null: no event in them)"
    ),
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
    events_between: Callable[[date, date], ir.Table] | None = None,
    epoch_micros: EpochMicros | None = None,
    last_activity_between: Callable[[datetime, datetime], ir.Table] | None = None,
) -> ir.Table:
    """One row per account with any event before the window end; columns: ``account_id`` and
    every name in ``FEATURES`` plus ``<f>_prior28d`` and ``<f>_trend`` for ``f`` in ``TRENDED``.

    ``events_between(first, last)``, when given, returns
    ``events`` restricted to the store's files of those UTC days, for engines that would
    otherwise open every file to find the rows of a window. ``epoch_micros`` is the engine's
    integer epoch function (see ``EPOCH_MICROS``), far cheaper per event than the generic one.
    ``last_activity_between(start, end)``, when given, returns ``(account_id, last_ts)``: each
    account's latest event time among events with ``start <= ts < end`` (e.g. from a kept
    summary of whole months), instead of aggregating those events here."""
    end = _ts(window.end)
    offset = window.utc_offset_seconds
    as_of = window.as_of_day_number
    recent_start = window.start(56)
    lookback_start = window.start(LAST_ACTIVITY_LOOKBACK_DAYS)

    # Two sources, each reading only the day files that can hold its rows: the 56 days of the
    # windows (every column), and the older part of the look-back, which only the last active
    # day needs (account_id and ts). Each aggregation scans the slice again: DuckDB's Parquet
    # scans cost less than copying the slice into a table once.
    def between(first: datetime, last: datetime) -> ir.Table:
        if events_between is None:
            return events
        return events_between(first.date(), last.date())

    source = between(recent_start, window.end)
    recent = source.filter((source.ts >= _ts(recent_start)) & (source.ts < end))
    recent = recent.select(
        "account_id",
        "user_id",
        "event",
        day=_day_number(recent.ts, offset, epoch_micros),
    )
    windowed = _window_counts(recent, advanced_features, as_of)
    if last_activity_between is not None:
        older = last_activity_between(lookback_start, recent_start)
    else:
        older = last_activity(between(lookback_start, recent_start), lookback_start, recent_start)
    older = older.select("account_id", last_day=_day_number(older.last_ts, offset, epoch_micros))
    # accounts with events in the windows have their last day there; the rest look further back
    agg = windowed.outer_join(older, windowed.account_id == older.account_id)
    agg = agg.select(
        *(c for c in windowed.columns if c not in ("account_id", "last_day")),
        account_id=agg.account_id.fill_null(agg.account_id_right),
        last_day=agg.last_day.fill_null(agg.last_day_right),
        as_of=ibis.literal(as_of, "int64"),
    )
    return _features(agg).drop("as_of")


def feature_use(events: ir.Table, window: UsageWindow, days: int = 28) -> ir.Table:
    """``(account_id, event, events, users)``: per account, each non-login event name used in
    the last ``days`` days to ``as_of``, with its count of events and of distinct users (the
    features behind ``distinct_features_28d``, named)."""
    t = events.filter(
        (events.ts >= _ts(window.start(days)))
        & (events.ts < _ts(window.end))
        & (events.event != LOGIN_EVENT)
    )
    return t.group_by(["account_id", "event"]).aggregate(
        events=t.count(), users=t.user_id.nunique()
    )


def last_activity(events: ir.Table, start: datetime, end: datetime) -> ir.Table:
    """``(account_id, last_ts)``: each account's latest event time with ``start <= ts < end``."""
    t = events.filter((events.ts >= _ts(start)) & (events.ts < _ts(end)))
    return t.group_by("account_id").aggregate(last_ts=t.ts.max())


def daily_activity(
    events: ir.Table,
    first_day: int,
    last_day: int,
    utc_offset: int,
    epoch_micros: EpochMicros | None = None,
) -> ir.Table:
    """Events compacted to ``(account_id, user_id, event, day, n)`` for local day numbers in
    ``[first_day, last_day]``: lossless for every feature, since windows are whole days."""
    t = events.mutate(day=_day_number(events.ts, utc_offset, epoch_micros))
    t = t.filter((t.day >= first_day) & (t.day <= last_day))
    return t.group_by(["account_id", "user_id", "event", "day"]).aggregate(n=t.count())


def local_day_counts(
    events: ir.Table,
    first_day: int,
    last_day: int,
    utc_offset: int,
    epoch_micros: EpochMicros | None = None,
    event: str | None = None,
) -> ir.Table:
    """``(account_id, day, n)``: the events (of name ``event`` when given) of each account on
    each local day number in ``[first_day, last_day]`` that has any. What the playbooks'
    ``no_activity`` and ``usage_dropped`` triggers read from the events (their DuckDB SQL in
    ``playbooks.triggers`` gives the same rows; a test compares them)."""
    t = events if event is None else events.filter(events.event == event)
    t = t.select("account_id", day=_day_number(t.ts, utc_offset, epoch_micros))
    t = t.filter((t.day >= first_day) & (t.day <= last_day))
    return t.group_by(["account_id", "day"]).aggregate(n=t.count())


def active_day_spans(
    events: ir.Table, last_day: int, utc_offset: int, epoch_micros: EpochMicros | None = None
) -> ir.Table:
    """Per account and active local day ``day``, the next active day (``next_day``, null for
    the last): the last active day on or before D is the ``day`` whose span contains D."""
    t = events.mutate(day=_day_number(events.ts, utc_offset, epoch_micros))
    days = t.filter(t.day <= last_day).select("account_id", "day").distinct()
    w = ibis.window(group_by="account_id", order_by="day")
    return days.mutate(next_day=days.day.lead().over(w))


def usage_features_for_days(
    daily: ir.Table,
    spans: ir.Table,
    as_of_days: ir.Table,
    advanced_features: tuple[str, ...] = DEFAULT_ADVANCED_FEATURES,
) -> ir.Table:
    """The features of ``usage_features`` for many as-of days at once.

    ``daily`` is ``daily_activity`` covering the 56 days before every as-of day; ``spans`` is
    ``active_day_spans``; ``as_of_days`` has one column ``as_of`` (local day numbers). Returns
    the same columns plus ``as_of``."""
    joined = daily.join(
        as_of_days, [daily.day <= as_of_days.as_of, daily.day > as_of_days.as_of - 56]
    )
    windowed = _window_counts(joined, advanced_features).drop("last_day")
    last = spans.join(
        as_of_days,
        [
            spans.day <= as_of_days.as_of,
            spans.next_day.isnull() | (spans.next_day > as_of_days.as_of),
        ],
    ).select("account_id", "as_of", last_day=spans.day)
    agg = last.left_join(windowed, ["account_id", "as_of"]).drop("account_id_right", "as_of_right")
    return _features(agg)


def _window_counts(
    t: ir.Table, advanced_features: tuple[str, ...], as_of: int | None = None
) -> ir.Table:
    """The windowed counts per ``(account_id, as_of)``, from rows with a local ``day``
    number, an event count ``n`` (without ``n``: one event per row) and the ``as_of`` day
    number, restricted beforehand to the 56 days ending with ``as_of``. With one as-of day,
    pass it as ``as_of`` instead of a column: grouping by a constant column still costs every
    row a hash.

    Distinct counts are two plain aggregations (first per user, day or event, then per
    account), which engines run far faster than COUNT(DISTINCT) with filters."""
    keys = ["account_id"] if as_of is not None else ["account_id", "as_of"]

    def as_of_of(table: ir.Table) -> ir.IntegerValue | int:
        return as_of if as_of is not None else table.as_of

    t = t.mutate(
        in7=t.day > as_of_of(t) - 7,
        in28=t.day > as_of_of(t) - 28,
        prior=t.day <= as_of_of(t) - 28,
    )
    # a user's or a day's presence in a window follows from its first and last day
    users = t.group_by([*keys, "user_id"]).aggregate(first=t.day.min(), last=t.day.max())
    users = users.group_by(keys).aggregate(
        active_users_7d=(users["last"] > as_of_of(users) - 7).sum(),
        active_users_28d=(users["last"] > as_of_of(users) - 28).sum(),
        active_users_28d_prior28d=(users["first"] <= as_of_of(users) - 28).sum(),
    )
    days = t.group_by([*keys, "day"]).aggregate()
    days = days.group_by(keys).aggregate(
        active_days_7d=(days.day > as_of_of(days) - 7).sum(),
        active_days_28d=(days.day > as_of_of(days) - 28).sum(),
        active_days_28d_prior28d=(days.day <= as_of_of(days) - 28).sum(),
        last_day=days.day.max(),
    )
    if "n" in t.columns:  # compacted rows: n events each
        counts = {"n7": t.n.sum(where=t.in7), "n28": t.n.sum(where=t.in28),
                  "prior": t.n.sum(where=t.prior)}  # fmt: skip
    else:  # raw events: one each
        counts = {"n7": t.count(where=t.in7), "n28": t.count(where=t.in28),
                  "prior": t.count(where=t.prior)}  # fmt: skip
    per_event = t.group_by([*keys, "event"]).aggregate(**counts)
    e = per_event.mutate(
        n7=per_event.n7.fill_null(0),
        n28=per_event.n28.fill_null(0),
        prior=per_event.prior.fill_null(0),
        login=per_event.event == LOGIN_EVENT,
        advanced=per_event.event.isin(list(advanced_features)),
    )
    events = e.group_by(keys).aggregate(
        logins_7d=e.n7.sum(where=e.login),
        logins_28d=e.n28.sum(where=e.login),
        logins_28d_prior28d=e.prior.sum(where=e.login),
        events_28d=e.n28.sum(),
        events_28d_prior28d=e.prior.sum(),
        distinct_features_28d=((e.n28 > 0) & ~e.login).sum(),
        distinct_features_28d_prior28d=((e.prior > 0) & ~e.login).sum(),
        advanced_features_28d=((e.n28 > 0) & e.advanced).sum(),
        advanced_features_28d_prior28d=((e.prior > 0) & e.advanced).sum(),
        advanced_events_28d=e.n28.sum(where=e.advanced),
    )
    joined = users.join(days, keys).join(events, keys)
    return joined.select(*keys, *COUNT_COLUMNS, "last_day")


COUNT_COLUMNS = (
    "active_users_7d",
    "active_users_28d",
    "active_users_28d_prior28d",
    "active_days_7d",
    "active_days_28d",
    "active_days_28d_prior28d",
    "logins_7d",
    "logins_28d",
    "logins_28d_prior28d",
    "events_28d",
    "events_28d_prior28d",
    "distinct_features_28d",
    "distinct_features_28d_prior28d",
    "advanced_features_28d",
    "advanced_features_28d_prior28d",
    "advanced_events_28d",
)
"""The windowed counts of ``_window_aggregates``."""


def _features(agg: ir.Table) -> ir.Table:
    """Final columns from ``account_id``, ``as_of``, ``last_day`` and the windowed counts
    (null counts = no events in the windows = 0), for accounts active within the look-back."""
    agg = agg.filter(agg.as_of - agg.last_day < LAST_ACTIVITY_LOOKBACK_DAYS)
    counts = {name: agg[name].fill_null(0).cast("int64") for name in COUNT_COLUMNS}
    rows = agg.select("account_id", "as_of", "last_day", **counts)
    derived = {
        "wau_mau": _ratio(rows.active_users_7d, rows.active_users_28d),
        "events_per_active_user_28d": _ratio(rows.events_28d, rows.active_users_28d),
        "days_since_last_activity": (rows.as_of - rows.last_day).cast("int64"),
    }
    for name in TRENDED:
        prior_col = rows[f"{name}_prior28d"]
        derived[f"{name}_trend"] = _ratio(rows[name] - prior_col, prior_col)
    renamed = {f"{name}_prior28d": rows[f"{name}_prior28d"] for name in TRENDED}
    base = [c for c in counts if not c.endswith("_prior28d")]
    return rows.select("account_id", "as_of", *base, **renamed, **derived).order_by(
        ["as_of", "account_id"]
    )


EpochMicros = Callable[[ir.TimestampValue], ir.IntegerValue]
"""Microseconds since the epoch of a UTC timestamp, as the engine's own function."""


@ibis.udf.scalar.builtin(name="epoch_us")
def duckdb_epoch_micros(ts: dt.Timestamp(timezone="UTC")) -> dt.int64:  # type: ignore[empty-body]
    """DuckDB's ``epoch_us``: integer arithmetic on the stored value. Ibis's generic
    ``epoch_seconds`` first casts the time-zone-aware value to a naive one, which DuckDB does
    through ICU for every row (1.5 s per 10 million events)."""


@ibis.udf.scalar.builtin(name="unix_micros")
def spark_epoch_micros(ts: dt.Timestamp(timezone="UTC")) -> dt.int64:  # type: ignore[empty-body]
    """Spark SQL's ``unix_micros``."""


EPOCH_MICROS: dict[str, EpochMicros] = {
    "duckdb": duckdb_epoch_micros,
    "pyspark": spark_epoch_micros,
}
"""Backend name -> its epoch-microseconds function; other backends use ``epoch_seconds``."""


def epoch_micros_for(con: ibis.BaseBackend) -> EpochMicros | None:
    return EPOCH_MICROS.get(con.name)


def _day_number(
    ts: ir.TimestampValue, utc_offset: int, epoch_micros: EpochMicros | None = None
) -> ir.IntegerValue:
    """Local day number (days since 1970-01-01) of a UTC timestamp."""
    if epoch_micros is None:
        return ((ts.epoch_seconds() + utc_offset) // 86400).cast("int64")
    return ((epoch_micros(ts) + utc_offset * 1_000_000) // 86_400_000_000).cast("int64")


def _ts(value: datetime) -> ir.TimestampScalar:
    return ibis.timestamp(value)


def _ratio(numerator: ir.NumericValue, denominator: ir.NumericValue) -> ir.FloatingValue:
    """``numerator / denominator`` as a float, null when the denominator is 0."""
    return ibis.ifelse(denominator == 0, ibis.null(), numerator.cast("float64") / denominator)
