"""Usage operations: compute per-account usage features from the event store."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import duckdb
import ibis
import pyarrow as pa
import yaml

from banso.analytics.engines import check_engine, spark_session
from banso.config import get_settings
from banso.errors import BansoError
from banso.i18n import _
from banso.usage import sources
from banso.usage.index import last_activity_source
from banso.usage.metrics import (
    DEFAULT_ADVANCED_FEATURES,
    UsageWindow,
    epoch_micros_for,
    feature_use,
    usage_features,
)
from banso.usage.store import (
    EVENT_SCHEMA,
    event_files,
    event_glob,
    has_events,
    merged_accounts,
    quarantine_unreadable,
    resolve_merges,
    store_dir,
)

USAGE_CONFIG = "usage.yaml"


def advanced_features(config_dir: Path | None = None) -> tuple[str, ...]:
    """Event names marked advanced in ``<config>/usage.yaml`` (``advanced_features: [...]``)."""
    path = (config_dir or get_settings().config_path) / USAGE_CONFIG
    if not path.exists():
        return DEFAULT_ADVANCED_FEATURES
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    names = data.get("advanced_features", list(DEFAULT_ADVANCED_FEATURES))
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise BansoError(
            _("{file}: advanced_features must be a list of event names.", file=str(path))
        )
    return tuple(names)


def compute_features(as_of: date, root: Path | None = None, engine: str = "duckdb") -> pa.Table:
    """Usage features of every account with events up to ``as_of`` (company-local date),
    straight from the Parquet files of the event store, on DuckDB or Spark. A file the engine
    fails to read is quarantined by the store and the features are computed without it
    (``store.quarantined`` tells which days are incomplete)."""
    try:
        return _compute_features(as_of, root, engine)
    except duckdb.Error:
        if not quarantine_unreadable(event_files(root), root):
            raise
        return _compute_features(as_of, root, engine)


def compute_feature_use(as_of: date, days: int = 28, root: Path | None = None) -> pa.Table:
    """Per account, each product feature (non-login event name) used in the ``days`` days to
    ``as_of`` with its events and distinct users (``metrics.feature_use``), on DuckDB."""
    window = UsageWindow(as_of, get_settings().timezone)
    first, last = window.start(days).date(), window.end.date()
    con = duckdb_connection()
    merged = merged_accounts() if has_events(root) else {}
    events = events_table(con, root, merged, days=(first, last))
    return feature_use(events, window, days).to_pyarrow()


def _compute_features(as_of: date, root: Path | None, engine: str) -> pa.Table:
    check_engine(engine)
    if engine == "postgres":
        raise BansoError(
            _("Usage features run on duckdb or spark: the events are Parquet files, not tables.")
        )
    if engine != "duckdb" and sources.external_source() is not None:
        raise BansoError(_spark_refused())  # before starting a Spark session for nothing
    con = duckdb_connection() if engine == "duckdb" else spark_connection()
    external = sources.external_source() is not None
    # DuckDB reads every window through ``between`` below: an external source is not read
    # whole for nothing (a PostgreSQL source would bring every row into memory)
    events = (
        ibis.memtable(EVENT_SCHEMA.empty_table())
        if external and engine == "duckdb"
        else events_table(con, root)
    )
    window = UsageWindow(as_of, get_settings().timezone)
    between = last_activity = None
    if engine == "duckdb":
        # no database needed (nor perhaps present) for a store without events
        merged = merged_accounts() if has_events(root) else {}

        def between(first: date, last: date) -> ibis.Table:
            name = f"events_{first:%Y%m%d}_{last:%Y%m%d}"
            return events_table(con, root, merged, days=(first, last), table_name=name)

        if not external:
            # the kept monthly summaries are of the store's files; an external source is read
            # where it is, its look-back from the events themselves
            last_activity = last_activity_source(
                con, between, lambda t: map_merged_ids(t, merged), root
            )
    expr = usage_features(
        events, window, advanced_features(), between, epoch_micros_for(con), last_activity
    )
    table = expr.to_pyarrow()
    return table.cast(feature_schema(table.schema))


def feature_schema(schema: pa.Schema) -> pa.Schema:
    """Counts (and day numbers, account ids) as int64 and ratios as float64 on every engine
    (Spark widens some types), so results from DuckDB and Spark compare row for row."""
    return pa.schema(
        [
            pa.field(f.name, pa.float64() if pa.types.is_floating(f.type) else pa.int64())
            for f in schema
        ]
    )


def spark_connection() -> ibis.BaseBackend:
    """Ibis on the process's local SparkSession (session time zone UTC)."""
    session = spark_session()  # says how to install the extra when PySpark is missing
    return ibis.pyspark.connect(session)


def duckdb_connection() -> ibis.BaseBackend:
    """An in-memory DuckDB whose session time zone is UTC (the feature SQL relies on it)."""
    con = ibis.duckdb.connect()
    con.raw_sql("SET TimeZone = 'UTC'")
    return con


def events_table(
    con: ibis.BaseBackend,
    root: Path | None = None,
    merges: dict[int, int] | None = None,
    days: tuple[date, date] | None = None,
    table_name: str = "events",
) -> ibis.Table:
    """The event store as an Ibis table, with the account ids of merged accounts mapped to
    the accounts they were merged into (the store itself is never rewritten); an empty table of
    the right shape when there are no events. ``days`` keeps only the files of the UTC days
    from ``days[0]`` to ``days[1]``.

    With an external source (``events.yaml``) the company's Parquet files are read in place,
    mapped to the store's columns (``sources.source_sql``; DuckDB only)."""
    external = sources.external_source()
    if external is not None:
        return _external_table(con, external, merges, days, table_name)
    files = event_files(root) if days is None else event_files(root, *days)
    if not files:
        return ibis.memtable(EVENT_SCHEMA.empty_table())
    if con.name == "pyspark":
        events = _spark_events(con, root, files, table_name)
    else:
        # the listing, not a glob: it leaves out the files a compacted file replaces
        events = con.read_parquet([str(f) for f in files], table_name=table_name)
    return map_merged_ids(events, resolve_merges(merged_accounts() if merges is None else merges))


def _spark_events(
    con: ibis.BaseBackend, root: Path | None, files: list[Path], table_name: str
) -> ibis.Table:
    """The listed files on Spark: Ibis hands Spark one path, so the store's glob when it
    matches exactly the listing (the listing has set unreadable files aside), else every file
    named to Spark's reader (files replaced by a compacted one still lie beside it until
    ``banso events compact`` deletes them)."""
    if len(files) == len(list(store_dir(root).glob("date=*/part-*.parquet"))):
        return con.read_parquet(event_glob(root), table_name=table_name)
    frame = con._session.read.parquet(*(str(f) for f in files))  # type: ignore[attr-defined]
    frame.createOrReplaceTempView(table_name)
    return con.table(table_name)


def _spark_refused() -> str:
    return _(
        "Events from an external source (events.yaml) are read with DuckDB; run without "
        "--engine spark."
    )


def _external_table(
    con: ibis.BaseBackend,
    external: sources.ExternalEvents,
    merges: dict[int, int] | None,
    days: tuple[date, date] | None,
    table_name: str,
) -> ibis.Table:
    if con.name != "duckdb":
        raise BansoError(_spark_refused())
    start = end = None
    if days is not None:
        start = datetime.combine(days[0], time(), UTC)
        end = datetime.combine(days[1] + timedelta(days=1), time(), UTC)
    sql = sources.source_sql(con.con, external, start, end)
    # a view rather than ``con.sql``, which asks DuckDB for the schema through an API it no
    # longer has
    con.con.execute(f"CREATE OR REPLACE TEMP VIEW {table_name} AS SELECT * FROM {sql}")
    events = con.table(table_name)
    return map_merged_ids(events, resolve_merges(merged_accounts() if merges is None else merges))


def map_merged_ids(table: ibis.Table, merged: dict[int, int]) -> ibis.Table:
    """``table`` with the ``account_id`` of merged accounts replaced by the kept account's
    (``merged`` already resolved through chains); columns and their order unchanged."""
    if not merged:
        return table
    mapping = ibis.memtable(
        pa.table(
            {
                "merged_id": pa.array(list(merged), pa.int64()),
                "kept_id": pa.array(list(merged.values()), pa.int64()),
            }
        )
    )
    joined = table.left_join(mapping, table.account_id == mapping.merged_id)
    return joined.select(
        *(
            joined.kept_id.fill_null(joined.account_id).name("account_id")
            if name == "account_id"
            else joined[name]
            for name in table.columns
        )
    )
