"""When playbooks fire: every trigger and condition evaluated set-based over a run of days.

``PlaybookData`` loads what triggers read — the app tables through Arrow into an in-memory
DuckDB, the health snapshots of the days needed, and only the event-store partitions of the
look-back window — and ``firings`` answers, for one playbook and a list of company-local days,
which customers it fires for on which day. The same code serves the daily run (one day) and
``replay`` (months of days at once); nothing here writes anything.

Triggers fire on the first day their state holds ("turned red", "7 days without use"), not on
every day it stays true, so a daily run and a replay of the same days agree. The exception is
``in_health_band`` ("is red"), true every day the account stays in the band; its cool-down
(no CTA while the playbook's CTA is open or recently closed) is applied where the CTAs are,
in ``actions.apply``. Only customers (a
paid line active on the day) are considered.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import ibis
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.engine import Engine

from banso.accounts.models import Account, Contact
from banso.analytics.engines import read_arrow, spark_errors
from banso.config import get_settings
from banso.errors import BansoError
from banso.health import snapshots
from banso.i18n import _
from banso.onboarding.models import OnboardingMilestone
from banso.playbooks.config import (
    ChampionLeft,
    HealthBandChanged,
    InHealthBand,
    MeasureReached,
    NewAccount,
    NoActivity,
    NpsAnswered,
    OnboardingOverdue,
    Playbook,
    RenewalIn,
    ScoreDropped,
    SubscriptionContracted,
    TicketSpike,
    Trigger,
    UsageDropped,
)
from banso.revenue import contracts
from banso.segments.models import SegmentMembership
from banso.support.models import Ticket
from banso.surveys.models import SurveyResponse
from banso.team.models import TeamMember
from banso.usage import store as event_store
from banso.usage.metrics import epoch_micros_for, local_day_counts
from banso.usage.service import events_table, spark_connection

NPS_RANGES = {"detractor": (0, 6), "passive": (7, 8), "promoter": (9, 10)}

FIRING_SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.int64()),
        pa.field("day", pa.date32()),
        pa.field("detail", pa.string()),
        pa.field("mrr", pa.int64()),
        pa.field("band", pa.string()),
        pa.field("segment", pa.string()),
    ]
)
"""One row per account and day a playbook fires: the trigger's values as JSON, the MRR (minor
units of the reporting currency, ``revenue.contracts``; null when an FX rate is missing), the
band and the segment at trigger time (``segments``' history of that day; the account's current
segment for a day before its first evaluation)."""

APP_TABLES = {
    "accounts": [
        Account.id,
        Account.segment,
        Account.plan,
        Account.tier,
        Account.touch_model,
        Account.lifecycle_stage,
        Account.owner_id,
    ],
    "team_members": [TeamMember.id, TeamMember.email],
    "subscriptions": list(contracts.SUBSCRIPTION_COLUMNS),
    "tickets": [Ticket.account_id, Ticket.opened_at],
    "survey_responses": [
        SurveyResponse.account_id,
        SurveyResponse.contact_id,
        SurveyResponse.survey_type,
        SurveyResponse.score,
        SurveyResponse.answered_at,
    ],
    "contacts": [Contact.id, Contact.account_id, Contact.role, Contact.left_at],
    "onboarding_milestones": [
        OnboardingMilestone.account_id,
        OnboardingMilestone.milestone,
        OnboardingMilestone.due_on,
        OnboardingMilestone.completed_on,
    ],
    "segment_memberships": [
        SegmentMembership.account_id,
        SegmentMembership.segment,
        SegmentMembership.start_date,
        SegmentMembership.end_date,
    ],
}

SEGMENT_ON_DAY = (
    "COALESCE((SELECT sm.segment FROM segment_memberships sm WHERE sm.account_id = f.account_id"
    " AND sm.start_date <= f.day AND (sm.end_date IS NULL OR sm.end_date > f.day)), a.segment)"
)
"""SQL of the account's segment on the firing day (``segments.service``'s history: the interval
covering the day), else its current one."""


class MissingSnapshots(BansoError):
    """Health snapshots needed by a health trigger or band condition are not there."""

    def __init__(self, first: date, last: date, count: int) -> None:
        super().__init__(
            _(
                "{count} days of health scores between {first} and {last} are missing; run "
                "`banso health score --from {first} --to {last}` first.",
                count=count,
                first=first,
                last=last,
            )
        )
        self.first, self.last = first, last


class PlaybookData:
    """Read-only inputs of the triggers for a window of days, in one in-memory DuckDB."""

    def __init__(
        self,
        app_db: Engine,
        event_root: Path | None = None,
        health_root: Path | None = None,
        engine: str = "duckdb",
    ) -> None:
        """``engine`` (``duckdb`` or ``spark``, see ``analytics.engines.event_engine``) reads
        the event store for the triggers that count events (``no_activity``,
        ``usage_dropped``): on Spark through ``usage.metrics.local_day_counts``, whose rows the
        DuckDB SQL here equals; everything else is DuckDB over the app tables and snapshots."""
        if engine not in ("duckdb", "spark"):
            raise ValueError(f"event triggers run on duckdb or spark, not {engine}")
        self.engine = engine
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")
        for name, columns in APP_TABLES.items():
            self.con.register(name, read_arrow(app_db, columns))
        self.app_db = app_db
        self.event_root = event_root
        self.merges = event_store.merged_accounts(app_db)
        self.health_root = health_root
        self.zone = ZoneInfo(get_settings().timezone)
        self._snapshot_days: tuple[date, date] | None = None

    # ------------------------------------------------------------ public

    def firings(self, playbook: Playbook, days: Iterable[date]) -> pa.Table:
        """Customers ``playbook`` fires for on each of ``days`` (``FIRING_SCHEMA``)."""
        wanted = sorted(set(days))
        if not wanted:
            return FIRING_SCHEMA.empty_table()
        self._register_days(wanted)
        self._register_customers(wanted[0] - timedelta(days=1), wanted[-1])
        self._register_snapshots(wanted, playbook.trigger)
        try:
            fired = self._trigger(playbook.trigger, wanted)
        except duckdb.Error:
            # a damaged page the store's footer check could not see: set the file aside, retry
            files = event_store.event_files(self.event_root)
            if not event_store.quarantine_unreadable(files, self.event_root):
                raise
            fired = self._trigger(playbook.trigger, wanted)
        self.con.register("fired", fired)
        where, params = _conditions_sql(playbook)
        band = "(SELECT s.band FROM snap s WHERE s.account_id = f.account_id AND s.day = f.day)"
        sql = f"""
            SELECT f.account_id, f.day, f.detail,
                   CAST(round(c.mrr) AS BIGINT) AS mrr, {band} AS band,
                   {SEGMENT_ON_DAY} AS segment
            FROM fired f
            JOIN customers c ON c.account_id = f.account_id AND c.day = f.day
            JOIN accounts a ON a.id = f.account_id
            LEFT JOIN team_members m ON m.id = a.owner_id
            WHERE {where}
            ORDER BY f.day, f.account_id
        """
        table = self.con.sql(sql, params=params).to_arrow_table()
        return table.cast(FIRING_SCHEMA)

    def missing_snapshot_days(self, playbook: Playbook, days: list[date]) -> list[date]:
        return missing_snapshot_days(playbook, days, self.health_root)

    # ------------------------------------------------------------ shared tables

    def _register_days(self, days: list[date]) -> None:
        self.con.register("eval_days", pa.table({"day": pa.array(days, pa.date32())}))

    def _register_customers(self, first: date, last: date) -> None:
        """``customers(account_id, day, mrr)``: the customers of each day of the range and their
        MRR (``revenue.contracts.customers_on_days``)."""
        span = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        self.con.register("all_days", pa.table({"day": pa.array(span, pa.date32())}))
        customers = contracts.customers_duckdb(self.con, self.app_db, "all_days", first, last)
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE customers AS {customers}")

    def _register_snapshots(self, days: list[date], trigger: Trigger) -> None:
        needed = _snapshot_days_needed(trigger, days)
        first, last = min(needed), max(needed)
        if (
            self._snapshot_days
            and self._snapshot_days[0] <= first
            and self._snapshot_days[1] >= last
        ):
            return
        table = snapshots.read(
            self.health_root, start=first, end=last, columns="account_id, day, band, score"
        )
        if table.num_rows == 0:
            table = pa.table(
                {
                    "account_id": pa.array([], pa.int64()),
                    "day": pa.array([], pa.date32()),
                    "band": pa.array([], pa.string()),
                    "score": pa.array([], pa.float64()),
                }
            )
        self.con.register("snap", table)
        self._snapshot_days = (first, last)

    def _utc_offset(self, day: date) -> int:
        offset = datetime.combine(day, time(12), self.zone).utcoffset()
        return int(offset.total_seconds()) if offset else 0

    def _local_day(self, column: str, day: date) -> str:
        """SQL for the company-local date of a UTC timestamp column."""
        return f"CAST({column} + to_seconds({self._utc_offset(day)}) AS DATE)"

    def _events(self, first: date, last: date, columns: str, where: str = "TRUE") -> str:
        """A FROM-able SQL source of the events of local days ``first..last`` (only the UTC
        days that can hold them are read), merged accounts' events under the kept account."""
        return event_store.duckdb_source(
            self.con, first - timedelta(days=1), last + timedelta(days=1), columns, where,
            merges=self.merges, root=self.event_root,
        )  # fmt: skip

    # ------------------------------------------------------------ triggers

    def _trigger(self, trigger: Trigger, days: list[date]) -> pa.Table:
        handler = getattr(self, f"_fire_{trigger.type}")
        table: pa.Table = handler(trigger, days)
        return table

    def _fire_health_band_changed(self, t: HealthBandChanged, days: list[date]) -> pa.Table:
        allowed = t.from_
        return self._sql(
            """
            SELECT n.account_id, n.day,
                   json_object('band_from', y.band, 'band_to', n.band,
                               'score', round(n.score, 1))::VARCHAR AS detail
            FROM snap n JOIN eval_days d ON d.day = n.day
            JOIN snap y ON y.account_id = n.account_id AND y.day = n.day - 1
            WHERE n.band = $to AND y.band IS DISTINCT FROM n.band
              AND ($any_from OR list_contains($from, y.band))
            """,
            {"to": t.to, "any_from": allowed is None, "from": allowed or []},
        )

    def _fire_in_health_band(self, t: InHealthBand, days: list[date]) -> pa.Table:
        return self._sql(
            """
            SELECT n.account_id, n.day,
                   json_object('band', n.band, 'score', round(n.score, 1))::VARCHAR AS detail
            FROM snap n JOIN eval_days d ON d.day = n.day
            WHERE n.band = $band
            """,
            {"band": t.band},
        )

    def _fire_measure_reached(self, t: MeasureReached, days: list[date]) -> pa.Table:
        column = f'"raw__{t.measure}"'
        try:
            values = snapshots.read(
                self.health_root, start=days[0] - timedelta(days=1), end=days[-1],
                columns=f"account_id, day, {column} AS value",
            )  # fmt: skip
        except duckdb.Error:
            # no day's file has the column: the scorecard does not score this measure
            values = pa.table({})
        if values.num_rows == 0:
            values = pa.table(
                {
                    "account_id": pa.array([], pa.int64()),
                    "day": pa.array([], pa.date32()),
                    "value": pa.array([], pa.float64()),
                }
            )
        self.con.register("measure_snap", values)
        return self._sql(
            """
            SELECT n.account_id, n.day,
                   json_object('measure', $measure, 'value', n.value,
                               'at_least', $at_least)::VARCHAR AS detail
            FROM measure_snap n JOIN eval_days d ON d.day = n.day
            LEFT JOIN measure_snap y ON y.account_id = n.account_id AND y.day = n.day - 1
            WHERE n.value >= $at_least AND NOT coalesce(y.value >= $at_least, FALSE)
            """,
            {"measure": t.measure, "at_least": t.at_least},
        )

    def _fire_score_dropped(self, t: ScoreDropped, days: list[date]) -> pa.Table:
        return self._sql(
            """
            WITH drops AS (
                SELECT n.account_id, n.day, b.score - n.score AS drop_points, n.score
                FROM snap n JOIN snap b ON b.account_id = n.account_id AND b.day = n.day - $k
            )
            SELECT x.account_id, x.day,
                   json_object('points', round(x.drop_points, 1), 'days', $k,
                               'score', round(x.score, 1))::VARCHAR AS detail
            FROM drops x JOIN eval_days d ON d.day = x.day
            LEFT JOIN drops y ON y.account_id = x.account_id AND y.day = x.day - 1
            WHERE x.drop_points >= $points AND coalesce(y.drop_points < $points, TRUE)
            """,
            {"k": t.days, "points": t.points},
        )

    def _event_day_counts(self, first: date, last: date, event: str | None = None) -> str:
        """On Spark: register ``(account_id, lday, n)``, the events (named ``event`` when
        given) per account and company-local day ``first..last`` (``local_day_counts``, day
        numbers taken with the zone's offset on ``first`` as ``_local_day`` does), as the
        DuckDB table ``event_day_counts``; returns its name."""
        epoch = date(1970, 1, 1)
        with spark_errors():
            con = spark_connection()
            events = events_table(
                con, self.event_root, self.merges,
                days=(first - timedelta(days=1), last + timedelta(days=1)),
                table_name=f"trigger_events_{first:%Y%m%d}_{last:%Y%m%d}",
            )  # fmt: skip
            counts = local_day_counts(
                events, (first - epoch).days, (last - epoch).days, self._utc_offset(first),
                epoch_micros_for(con), event,
            ).to_pyarrow()  # fmt: skip
        lday = pc.cast(pc.cast(counts["day"], pa.int32()), pa.date32())
        self.con.register(
            "event_day_counts",
            pa.table({"account_id": counts["account_id"].cast(pa.int64()), "lday": lday,
                      "n": counts["n"].cast(pa.int64())}),
        )  # fmt: skip
        return "event_day_counts"

    def _fire_no_activity(self, t: NoActivity, days: list[date]) -> pa.Table:
        first, last = days[0] - timedelta(days=t.days), days[-1]
        if self.engine == "spark":
            source = self._event_day_counts(first, last)
        else:
            lday = self._local_day("ts", first)
            source = self._events(first, last, f"account_id, {lday} AS lday")
        return self._sql(
            f"""
            WITH active AS (
                SELECT DISTINCT account_id, lday FROM {source} e
                WHERE lday BETWEEN $first AND $last
            ),
            gaps AS (
                SELECT account_id, lday,
                       lead(lday) OVER (PARTITION BY account_id ORDER BY lday) AS next_lday
                FROM active
            )
            SELECT g.account_id, (g.lday + $n)::DATE AS day,
                   json_object('last_active_day', g.lday::VARCHAR, 'days', $n)::VARCHAR AS detail
            FROM gaps g JOIN eval_days d ON d.day = g.lday + $n
            WHERE g.next_lday IS NULL OR g.next_lday > g.lday + $n
            """,
            {"first": first, "last": last, "n": t.days},
        )

    def _fire_usage_dropped(self, t: UsageDropped, days: list[date]) -> pa.Table:
        first, last = days[0] - timedelta(days=14), days[-1]
        params: dict[str, Any] = {
            "first": first,
            "last": last,
            "min_prior": t.min_prior,
            "keep": 1 - t.percent / 100,
        }
        if self.engine == "spark":
            source = self._event_day_counts(first, last, None if t.event == "*" else t.event)
            count = "sum(n)"
        else:
            lday = self._local_day("ts", first)
            where = "TRUE" if t.event == "*" else "event = $event"
            source = self._events(first, last, f"account_id, {lday} AS lday", where)
            count = "count(*)"
            if t.event != "*":
                params["event"] = t.event
        return self._sql(
            f"""
            WITH counts AS (
                SELECT account_id, lday, {count} AS n FROM {source} e
                WHERE lday BETWEEN $first AND $last GROUP BY 1, 2
            ),
            check_days AS (
                SELECT day FROM eval_days UNION SELECT day - 1 FROM eval_days
            ),
            weeks AS (
                SELECT c.account_id, d.day,
                       coalesce(sum(c.n) FILTER (WHERE c.lday > d.day - 7), 0) AS this_week,
                       coalesce(sum(c.n) FILTER (WHERE c.lday <= d.day - 7), 0) AS last_week
                FROM check_days d JOIN counts c
                  ON c.lday BETWEEN d.day - 13 AND d.day
                GROUP BY 1, 2
            ),
            dropped AS (
                SELECT account_id, day, this_week, last_week FROM weeks
                WHERE last_week >= $min_prior AND this_week <= last_week * $keep
            )
            SELECT x.account_id, x.day,
                   json_object('this_week', x.this_week, 'last_week', x.last_week)::VARCHAR
                       AS detail
            FROM dropped x JOIN eval_days d ON d.day = x.day
            WHERE NOT EXISTS (
                SELECT 1 FROM dropped y WHERE y.account_id = x.account_id AND y.day = x.day - 1
            )
            """,
            params,
        )

    def _fire_renewal_in(self, t: RenewalIn, days: list[date]) -> pa.Table:
        ahead = [d + timedelta(days=t.days) for d in days]
        self.con.register(
            "renewal_days",
            pa.table(
                {"day": pa.array(days, pa.date32()), "renewal_day": pa.array(ahead, pa.date32())}
            ),
        )
        due = contracts.lines_renewing_on(
            contracts.SUBSCRIPTIONS,
            ibis.table({"day": "date", "renewal_day": "date"}, name="renewal_days"),
            t.min_term_months,
        )
        return self._sql(
            f"""
            SELECT DISTINCT account_id, day,
                   json_object('renewal_day', renewal_day::VARCHAR, 'days', $n)::VARCHAR
                       AS detail
            FROM ({contracts.duckdb_select(due)})
            """,
            {"n": t.days},
        )

    def _fire_nps_answered(self, t: NpsAnswered, days: list[date]) -> pa.Table:
        low, high = NPS_RANGES[t.category]
        lday = self._local_day("answered_at", days[0])
        return self._sql(
            f"""
            SELECT r.account_id, {lday} AS day,
                   json_object('score', min(r.score), 'contact_id', min(r.contact_id))::VARCHAR
                       AS detail
            FROM survey_responses r
            WHERE r.survey_type = 'nps' AND r.score BETWEEN $low AND $high
              AND {lday} IN (SELECT day FROM eval_days)
            GROUP BY 1, 2
            """,
            {"low": low, "high": high},
        )

    def _fire_onboarding_overdue(self, t: OnboardingOverdue, days: list[date]) -> pa.Table:
        # overdue on d: due before d and not completed by d; fires on the first such day
        return self._sql(
            """
            SELECT m.account_id, d.day,
                   json_object('milestones', list(m.milestone ORDER BY m.milestone),
                               'due_on', min(m.due_on)::VARCHAR)::VARCHAR AS detail
            FROM onboarding_milestones m JOIN eval_days d ON d.day = m.due_on + 1
            WHERE (m.completed_on IS NULL OR m.completed_on > d.day)
              AND ($any OR m.milestone = $milestone)
            GROUP BY 1, 2
            """,
            {"any": t.milestone is None, "milestone": t.milestone or ""},
        )

    def _fire_champion_left(self, t: ChampionLeft, days: list[date]) -> pa.Table:
        lday = self._local_day("left_at", days[0])
        return self._sql(
            f"""
            SELECT account_id, {lday} AS day,
                   json_object('contact_id', min(id))::VARCHAR AS detail
            FROM contacts
            WHERE role = 'champion' AND left_at IS NOT NULL
              AND {lday} IN (SELECT day FROM eval_days)
            GROUP BY 1, 2
            """,
            {},
        )

    def _fire_ticket_spike(self, t: TicketSpike, days: list[date]) -> pa.Table:
        lday = self._local_day("opened_at", days[0])
        return self._sql(
            f"""
            WITH opened AS (
                SELECT account_id, {lday} AS lday FROM tickets
            ),
            check_days AS (
                SELECT day FROM eval_days UNION SELECT day - 1 FROM eval_days
            ),
            counts AS (
                SELECT o.account_id, d.day, count(*) AS n
                FROM check_days d JOIN opened o ON o.lday > d.day - $k AND o.lday <= d.day
                GROUP BY 1, 2
            )
            SELECT x.account_id, x.day,
                   json_object('tickets', x.n, 'days', $k)::VARCHAR AS detail
            FROM counts x JOIN eval_days d ON d.day = x.day
            LEFT JOIN counts y ON y.account_id = x.account_id AND y.day = x.day - 1
            WHERE x.n >= $count AND coalesce(y.n, 0) < $count
            """,
            {"k": t.days, "count": t.count},
        )

    def _fire_new_account(self, t: NewAccount, days: list[date]) -> pa.Table:
        return self._sql(
            """
            SELECT account_id, min(start_date) AS day, '{}' AS detail
            FROM subscriptions WHERE amount > 0 GROUP BY 1
            HAVING min(start_date) IN (SELECT day FROM eval_days)
            """,
            {},
        )

    def _fire_subscription_contracted(
        self, t: SubscriptionContracted, days: list[date]
    ) -> pa.Table:
        return self._sql(
            """
            SELECT n.account_id, n.day,
                   json_object('mrr_before', CAST(round(y.mrr) AS BIGINT),
                               'mrr_after', CAST(round(n.mrr) AS BIGINT))::VARCHAR AS detail
            FROM customers n JOIN eval_days d ON d.day = n.day
            JOIN customers y ON y.account_id = n.account_id AND y.day = n.day - 1
            WHERE n.mrr < y.mrr
            """,
            {},
        )

    def _sql(self, sql: str, params: dict[str, Any]) -> pa.Table:
        table = self.con.sql(sql, params=params).to_arrow_table()
        return table.select(["account_id", "day", "detail"]).cast(
            pa.schema([("account_id", pa.int64()), ("day", pa.date32()), ("detail", pa.string())])
        )


def missing_snapshot_days(
    playbook: Playbook, days: list[date], health_root: Path | None = None
) -> list[date]:
    """Days whose health snapshot ``playbook`` needs for ``days`` and that are not scored."""
    if not playbook.uses_health or not days:
        return []
    needed = set(_snapshot_days_needed(playbook.trigger, sorted(days)))
    return sorted(needed - set(snapshots.scored_days(health_root)))


def _snapshot_days_needed(trigger: Trigger, days: list[date]) -> list[date]:
    """Scored days read for ``days``: the days themselves (band at trigger time), and for
    health triggers the look-back they compare with."""
    back = 0
    if isinstance(trigger, HealthBandChanged | MeasureReached):
        back = 1
    elif isinstance(trigger, ScoreDropped):
        back = trigger.days + 1
    first = days[0] - timedelta(days=back)
    return [first + timedelta(days=i) for i in range((days[-1] - first).days + 1)]


def _conditions_sql(playbook: Playbook) -> tuple[str, dict[str, Any]]:
    """The WHERE clause of a playbook's conditions over ``accounts a``, ``team_members m``,
    ``customers c`` and the band expression, with its parameters."""
    c = playbook.conditions
    parts = ["TRUE"]
    params: dict[str, Any] = {}
    if c.segment is not None:
        parts.append(f"list_contains($segment, {SEGMENT_ON_DAY})")
        params["segment"] = list(c.segment)
    for field in ("plan", "tier", "touch_model", "lifecycle_stage"):
        values = getattr(c, field)
        if values is not None:
            parts.append(f"list_contains(${field}, a.{field})")
            params[field] = list(values)
    if c.owner is not None:
        parts.append("list_contains($owner, lower(m.email))")
        params["owner"] = [e.lower() for e in c.owner]
    if c.mrr_min is not None:
        parts.append("c.mrr >= $mrr_min")
        params["mrr_min"] = c.mrr_min
    if c.mrr_max is not None:
        parts.append("c.mrr <= $mrr_max")
        params["mrr_max"] = c.mrr_max
    if c.band is not None:
        parts.append(
            "list_contains($band, (SELECT s.band FROM snap s "
            "WHERE s.account_id = f.account_id AND s.day = f.day))"
        )
        params["band"] = list(c.band)
    return " AND ".join(parts), params


def detail_of(row: dict[str, Any]) -> dict[str, Any]:
    """The trigger's values of one firing row, as a dict."""
    value = row.get("detail")
    return json.loads(value) if value else {}
