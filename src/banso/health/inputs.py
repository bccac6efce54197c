"""Raw values of every health measure, per account and as-of day, computed set-based.

Usage measures come from ``banso.usage.metrics`` (the one definition of usage features); the
others from the app tables, read into an in-memory DuckDB through Arrow, with one query per
family over all requested days at once. Only customers are scored: accounts with a paid
subscription line active on the day.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import ibis
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.engine import Engine

from banso.accounts.models import Account, Contact
from banso.activities.models import Activity
from banso.analytics.engines import read_arrow, spark_errors
from banso.attendance.models import ProgramEnrolment, ProgramSession
from banso.config import get_settings
from banso.health.measures import SLA_HOURS
from banso.health.models import CsmPulse
from banso.revenue import contracts
from banso.support.models import Ticket
from banso.surveys.models import SurveyResponse
from banso.usage.metrics import (
    FEATURES,
    LAST_ACTIVITY_LOOKBACK_DAYS,
    TRENDED,
    UsageWindow,
    active_day_spans,
    daily_activity,
    epoch_micros_for,
    usage_features_for_days,
)
from banso.usage.service import (
    advanced_features,
    duckdb_connection,
    events_table,
    feature_schema,
    spark_connection,
)
from banso.usage.store import has_events as store_has_events

USAGE_COUNTS = [
    n
    for n in [*FEATURES, *(f"{t}_prior28d" for t in TRENDED)]
    if n not in ("wau_mau", "events_per_active_user_28d", "days_since_last_activity")
]
"""Usage features that are counts: 0, not missing, for a customer without events."""

APP_TABLES = {
    "accounts": [
        Account.id,
        Account.segment,
        Account.touch_model,
        Account.plan,
        Account.tier,
        Account.industry,
    ],
    "subscriptions": list(contracts.SUBSCRIPTION_COLUMNS),
    "tickets": [
        Ticket.account_id,
        Ticket.opened_at,
        Ticket.closed_at,
        Ticket.priority,
        Ticket.csat,
    ],
    "survey_responses": [
        SurveyResponse.account_id,
        SurveyResponse.survey_type,
        SurveyResponse.score,
        SurveyResponse.answered_at,
    ],
    "activities": [Activity.account_id, Activity.kind, Activity.occurred_at],
    "contacts": [Contact.account_id, Contact.role, Contact.left_at],
    "program_sessions": [ProgramSession.id, ProgramSession.program, ProgramSession.starts_at],
    "program_enrolments": [
        ProgramEnrolment.session_id,
        ProgramEnrolment.account_id,
        ProgramEnrolment.status,
    ],
    "csm_pulses": [
        CsmPulse.account_id,
        CsmPulse.rating,
        CsmPulse.rated_on,
        CsmPulse.expires_on,
        CsmPulse.created_at,
    ],
}


ACCOUNTS_READ_APART = 5_000
"""Up to this many accounts to rescore, the app tables are read for them alone."""


class HealthInputs:
    """An in-memory DuckDB holding the app tables and the event store, for scoring days.

    ``engine`` (``duckdb`` or ``spark``, see ``analytics.engines.event_engine``) is the engine
    that computes the usage measures from the event store, with the same Ibis definitions
    (``usage.metrics``); the other measures are always DuckDB SQL over the app tables, which
    are read into memory here whatever the engine."""

    def __init__(
        self,
        app_db: Engine,
        event_root: Path | None = None,
        accounts: list[int] | None = None,
        engine: str = "duckdb",
    ) -> None:
        """``accounts``: only those will be scored (``raw_values(days, accounts)``), so only
        their rows of the app tables are read (when they are few)."""
        if engine not in ("duckdb", "spark"):
            raise ValueError(f"usage measures run on duckdb or spark, not {engine}")
        self.engine = engine
        self.con = duckdb_connection()
        self.timezone = get_settings().timezone
        only = accounts if accounts is not None and len(accounts) <= ACCOUNTS_READ_APART else None
        for name, columns in APP_TABLES.items():
            where = None
            if only is not None:
                # the rows of those accounts only: every measure is per account
                key = next((c for c in columns if c.name == "account_id"), None)
                if key is None and name == "accounts":
                    key = columns[0]  # accounts.id
                where = key.in_(only) if key is not None else None
            self.con.con.register(name, read_arrow(app_db, columns, where))
        self.app_db = app_db
        self.event_root = event_root
        self.events = events_table(self.con, event_root)
        self._spans: ibis.Table | None = None
        self._spans_until = 0
        self.advanced = advanced_features()

    def accounts(self) -> pa.Table:
        return self.con.con.sql("SELECT * FROM accounts ORDER BY id").to_arrow_table()

    def raw_values(self, days: list[date], accounts: list[int] | None = None) -> pa.Table:
        """One row per (account, day) for customers on that day: ``account_id``, ``day`` and a
        column per measure (null = no data). ``accounts``: only those (a late import's
        rescoring), their usage from their own events only."""
        raw = self.con.con
        raw.register("score_days", self._days_table(days))
        # customers and their MRR on each day and 90 days before (revenue.contracts)
        before = [d - timedelta(days=RECENT_DOWNGRADE_DAYS) for d in days]
        raw.register("customer_days", pa.table({"day": pa.array(days + before, pa.date32())}))
        customers = contracts.customers_duckdb(
            raw, self.app_db, "customer_days", min(before), max(days)
        )
        raw.execute(f"CREATE OR REPLACE TEMP TABLE customer_mrr AS {customers}")
        base = raw.sql(_SQL_CUSTOMERS).to_arrow_table()
        if accounts is not None:
            base = base.filter(pc.is_in(base["account_id"], pa.array(accounts, pa.int64())))
        raw.register("base", base)
        # each line as known on the day: an end recorded later must not reach a past score
        due = contracts.lines_renewing_next(
            contracts.SUBSCRIPTIONS,
            ibis.table({"account_id": "int64", "day": "date"}, name="base"),
            as_known_on_day=True,
        )
        raw.execute(f"CREATE OR REPLACE TEMP TABLE next_renewals AS {contracts.duckdb_select(due)}")
        self.con.con.register("usage", self._usage(days, accounts))
        sql = _SQL_MEASURES.format(**{f"sla_{p}": h for p, h in SLA_HOURS.items()})
        table = self.con.con.sql(sql).to_arrow_table()
        if self.has_events:
            # with an event store, an account without events has zero usage, not missing data
            for name in USAGE_COUNTS:
                i = table.schema.get_field_index(name)
                table = table.set_column(i, name, pc.fill_null(table[name], 0))
            # no event within the look-back: as inactive as the look-back can tell
            i = table.schema.get_field_index("days_since_last_activity")
            table = table.set_column(
                i,
                "days_since_last_activity",
                pc.fill_null(table["days_since_last_activity"], LAST_ACTIVITY_LOOKBACK_DAYS),
            )
        return table

    @property
    def has_events(self) -> bool:
        return store_has_events(self.event_root)

    def _days_table(self, days: list[date]) -> pa.Table:
        zone = ZoneInfo(self.timezone)
        ends = [
            datetime.combine(d + timedelta(days=1), time(0), zone).astimezone(ZoneInfo("UTC"))
            for d in days
        ]
        return pa.table(
            {
                "day": pa.array(days, pa.date32()),
                "end_ts": pa.array(ends, pa.timestamp("us", tz="UTC")),
            }
        )

    def _usage(self, days: list[date], accounts: list[int] | None = None) -> pa.Table:
        """Usage features of every account (or of ``accounts``) on each of ``days``, in one
        set-based query."""
        offset = UsageWindow(days[-1], self.timezone).utc_offset_seconds
        numbers = [(d - date(1970, 1, 1)).days for d in days]
        if self.engine == "spark":
            features = self._usage_on_spark(days, numbers, offset)
            if accounts is not None:
                wanted = pc.is_in(features["account_id"], pa.array(accounts, pa.int64()))
                features = features.filter(wanted)
            return features
        if accounts is not None:
            only = ibis.memtable(pa.table({"only_id": pa.array(accounts, pa.int64())}))

            def of_accounts(t: ibis.Table) -> ibis.Table:
                return t.semi_join(only, t.account_id == only.only_id)

            # only the files of the look-back: a last active day older than that gives no
            # features (``metrics._features``), so the rows are the same as from all history
            lookback = events_table(
                self.con,
                self.event_root,
                days=(
                    min(days) - timedelta(days=LAST_ACTIVITY_LOOKBACK_DAYS + 1),
                    max(days) + timedelta(days=1),
                ),
                table_name=f"lookback_{min(days):%Y%m%d}_{max(days):%Y%m%d}",
            )
            spans = active_day_spans(
                of_accounts(lookback), max(numbers), offset, epoch_micros_for(self.con)
            ).to_pyarrow()
            self.con.con.register("usage_spans_of_accounts", spans)
            span_table = self.con.table("usage_spans_of_accounts")
        else:
            if self._spans is None or self._spans_until < max(numbers):
                spans = active_day_spans(
                    self.events, max(numbers), offset, epoch_micros_for(self.con)
                ).to_pyarrow()
                self.con.con.register("usage_spans", spans)
                self._spans, self._spans_until = self.con.table("usage_spans"), max(numbers)
            span_table = self._spans
        # only the day files that can hold the 56 days before each as-of day (UTC days, one
        # either side of the local ones)
        window_events = events_table(
            self.con,
            self.event_root,
            days=(min(days) - timedelta(days=57), max(days) + timedelta(days=1)),
            table_name=f"events_{min(days):%Y%m%d}_{max(days):%Y%m%d}",
        )
        if accounts is not None:
            window_events = of_accounts(window_events)
        daily = daily_activity(
            window_events, min(numbers) - 55, max(numbers), offset, epoch_micros_for(self.con)
        )
        self.con.con.register("usage_daily", daily.to_pyarrow())
        as_of = ibis.memtable(pa.table({"as_of": pa.array(numbers, pa.int64())}))
        features = usage_features_for_days(
            self.con.table("usage_daily"), span_table, as_of, self.advanced
        ).to_pyarrow()
        day = _day_from_number(features["as_of"])
        return features.drop_columns(["as_of"]).append_column("day", day)

    def _usage_on_spark(self, days: list[date], numbers: list[int], offset: int) -> pa.Table:
        """:meth:`_usage` with the same definitions run by Spark over the same day files, in
        one Spark query (nothing is kept between batches of days)."""
        with spark_errors():
            con = spark_connection()
            micros = epoch_micros_for(con)
            spans = active_day_spans(
                events_table(con, self.event_root, table_name="usage_events"),
                max(numbers),
                offset,
                micros,
            )
            window_events = events_table(
                con,
                self.event_root,
                days=(min(days) - timedelta(days=57), max(days) + timedelta(days=1)),
                table_name=f"usage_events_{min(days):%Y%m%d}_{max(days):%Y%m%d}",
            )
            daily = daily_activity(window_events, min(numbers) - 55, max(numbers), offset, micros)
            as_of = ibis.memtable(pa.table({"as_of": pa.array(numbers, pa.int64())}))
            features = usage_features_for_days(daily, spans, as_of, self.advanced).to_pyarrow()
        features = features.cast(feature_schema(features.schema))
        day = _day_from_number(features["as_of"])
        return features.drop_columns(["as_of"]).append_column("day", day)


def _day_from_number(numbers: pa.ChunkedArray) -> pa.Array:
    """Local day numbers (days since 1970-01-01) as dates."""
    return pc.cast(pc.cast(numbers, pa.int32()), pa.date32())


RECENT_DOWNGRADE_DAYS = 90
"""``recent_downgrade``: MRR today below the MRR this many days before."""

# Customers on a day and their MRR (revenue.contracts.customers_on_days, in customer_mrr).
_SQL_CUSTOMERS = """
SELECT d.day, d.end_ts, c.account_id, c.mrr
FROM score_days d JOIN customer_mrr c ON c.day = d.day
"""

# One pass per family over every requested day; each joins only the rows of its look-back.
_SQL_MEASURES = """
WITH tickets_w AS (
    SELECT b.account_id, b.day,
        count(*) FILTER (WHERE t.closed_at IS NULL OR t.closed_at >= b.end_ts) AS open_tickets,
        count(*) FILTER (WHERE t.opened_at >= b.end_ts - INTERVAL 30 DAY) AS tickets_30d,
        count(*) FILTER (
            WHERE t.opened_at >= b.end_ts - INTERVAL 30 DAY
              AND least(coalesce(t.closed_at, b.end_ts), b.end_ts) - t.opened_at >
                  to_hours(CASE coalesce(t.priority, 'normal')
                      WHEN 'urgent' THEN {sla_urgent} WHEN 'high' THEN {sla_high}
                      WHEN 'low' THEN {sla_low} ELSE {sla_normal} END)
        ) AS sla_breaches_30d,
        -- a rating is given when the ticket closes: one closed after the day is not known then
        avg(t.csat) FILTER (WHERE t.closed_at < b.end_ts) AS ticket_csat_90d
    FROM base b JOIN tickets t
      ON t.account_id = b.account_id
     AND t.opened_at < b.end_ts AND t.opened_at >= b.end_ts - INTERVAL 90 DAY
    GROUP BY 1, 2
),
surveys_w AS (
    SELECT b.account_id, b.day,
        arg_max(r.score, r.answered_at) FILTER (WHERE r.survey_type = 'nps') AS latest_nps,
        arg_max(r.score, r.answered_at) FILTER (WHERE r.survey_type = 'csat') AS latest_csat
    FROM base b JOIN survey_responses r
      ON r.account_id = b.account_id
     AND r.answered_at < b.end_ts AND r.answered_at >= b.end_ts - INTERVAL 365 DAY
    GROUP BY 1, 2
),
activities_w AS (
    SELECT b.account_id, b.day,
        count(*) FILTER (WHERE a.kind = 'meeting') AS meetings_90d,
        count(*) FILTER (WHERE a.kind = 'onboarding_session') AS onboarding_sessions_90d
    FROM base b JOIN activities a
      ON a.account_id = b.account_id
     AND a.occurred_at < b.end_ts AND a.occurred_at >= b.end_ts - INTERVAL 90 DAY
    GROUP BY 1, 2
),
programs_w AS (
    SELECT b.account_id, b.day, count(DISTINCT s.program) AS programs_attended_90d
    FROM base b JOIN program_enrolments e
      ON e.account_id = b.account_id AND e.status = 'attended'
    JOIN program_sessions s
      ON s.id = e.session_id
     AND s.starts_at < b.end_ts AND s.starts_at >= b.end_ts - INTERVAL 90 DAY
    GROUP BY 1, 2
),
contacts_w AS (
    SELECT b.account_id, b.day,
        max(CASE WHEN c.role = 'champion' AND (c.left_at IS NULL OR c.left_at >= b.end_ts)
                 THEN 1 ELSE 0 END) AS champion_present
    FROM base b JOIN contacts c ON c.account_id = b.account_id
    GROUP BY 1, 2
),
renewals AS (
    SELECT account_id, day, min(next_renewal::DATE - day) AS days_to_renewal
    FROM next_renewals
    GROUP BY 1, 2
),
mrr_before AS (
    SELECT account_id, (day + 90)::DATE AS day, mrr AS mrr_90d_ago FROM customer_mrr
),
pulse_w AS (
    SELECT b.account_id, b.day, arg_max(p.rating, p.created_at) AS csm_pulse
    FROM base b JOIN csm_pulses p
      ON p.account_id = b.account_id AND p.rated_on <= b.day AND p.expires_on > b.day
    GROUP BY 1, 2
)
SELECT b.account_id, b.day, b.mrr, u.* EXCLUDE (account_id, day),
    coalesce(t.open_tickets, 0) AS open_tickets,
    coalesce(t.tickets_30d, 0) AS tickets_30d,
    coalesce(t.sla_breaches_30d, 0) AS sla_breaches_30d,
    t.ticket_csat_90d,
    s.latest_nps, s.latest_csat,
    r.days_to_renewal,
    CASE WHEN m.mrr_90d_ago IS NULL THEN NULL
         WHEN b.mrr < m.mrr_90d_ago THEN 1 ELSE 0 END AS recent_downgrade,
    coalesce(a.meetings_90d, 0) AS meetings_90d,
    coalesce(a.onboarding_sessions_90d, 0) AS onboarding_sessions_90d,
    coalesce(pr.programs_attended_90d, 0) AS programs_attended_90d,
    c.champion_present,
    p.csm_pulse
FROM base b
LEFT JOIN usage u ON u.account_id = b.account_id AND u.day = b.day
LEFT JOIN tickets_w t ON t.account_id = b.account_id AND t.day = b.day
LEFT JOIN surveys_w s ON s.account_id = b.account_id AND s.day = b.day
LEFT JOIN renewals r ON r.account_id = b.account_id AND r.day = b.day
LEFT JOIN mrr_before m ON m.account_id = b.account_id AND m.day = b.day
LEFT JOIN activities_w a ON a.account_id = b.account_id AND a.day = b.day
LEFT JOIN programs_w pr ON pr.account_id = b.account_id AND pr.day = b.day
LEFT JOIN contacts_w c ON c.account_id = b.account_id AND c.day = b.day
LEFT JOIN pulse_w p ON p.account_id = b.account_id AND p.day = b.day
ORDER BY b.day, b.account_id
"""
