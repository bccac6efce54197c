"""Where the product events are: Banso's own store, or a company's own data read in place.

``BANSO_HOME/config/events.yaml`` (absent, or ``source: store``: Banso's store as before)::

    source: parquet
    path: /data/product/events/**/*.parquet    # a file, a directory or a glob; relative to
    hive_partitioning: true                     # the config folder
    columns:
      account: product_account    # the column holding the account key
      account_source: product     # AccountIdentity.source whose external ids it holds
                                  # (omit: the column holds Banso's account ids)
      user: uid
      event: action
      timestamp: occurred_at
      timezone: Asia/Tokyo        # zone of naive timestamps; aware ones are taken as they are
      event_id: id                # optional
      properties: props           # optional (text or JSON)

Other kinds (docs/events-sources.md)::

    source: parquet                 # the same files in an S3-compatible object store
    path: s3://bucket/events/
    s3: {endpoint: https://minio.example:9000, region: us-east-1,
         access_key_env: EVENTS_S3_KEY, secret_key_env: EVENTS_S3_SECRET}

    source: delta                   # a Delta Lake table (its current version), local or s3://
    path: /data/lake/events

    source: iceberg                 # an Iceberg table through a pyiceberg catalog
    table: product.events
    catalog: {name: lake, type: sql, uri: "sqlite:////data/lake/catalog.db"}

    source: postgres                # a PostgreSQL table or query; the URL from the environment
    url_env: EVENTS_PG_URL
    table: analytics.events         # or query: SELECT ...

DuckDB's own readers for object stores, Delta and PostgreSQL are extensions that are downloaded
on first use, so those kinds are read through Arrow instead: a ``pyarrow.dataset`` (S3 through
``pyarrow.fs.S3FileSystem``, Delta through ``deltalake``) registered on the DuckDB connection,
which scans it lazily with the projection and the time filter pushed down; PostgreSQL's and
Iceberg's rows of the window read (the time filter runs in PostgreSQL, or in pyiceberg's scan)
stream into an Arrow table for that read.

``source_sql`` gives the events as a DuckDB subquery with the store's columns
(``store.EVENT_SCHEMA``): the account key mapped to Banso's account id through
``account_identities`` (events of unknown keys are left out), times converted to UTC. Nothing is
copied: every reader scans the company's files. Only ``usage.store`` and ``usage.service`` call
this module (the store owns where events are read from).
"""

from __future__ import annotations

import glob as globbing
import itertools
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from banso.config import get_settings
from banso.errors import BansoError, ConfigRejected
from banso.i18n import _
from banso.yamlconfig import YamlModel, read_model

EVENTS_CONFIG = "events.yaml"
IDENTITIES_VIEW = "banso_event_identities"


class EventsConfigRejected(ConfigRejected):
    """``events.yaml`` is invalid, or names files or columns that are not there."""


class ExternalEventsOwned(BansoError):
    """A write to the event store while the events are read from the company's own files."""

    def __init__(self, where: str) -> None:
        super().__init__(
            _(
                "Events are read from {where} (events.yaml), which the company's own pipeline "
                "writes: Banso does not store events itself. Add them there instead.",
                where=where,
            )
        )


class ColumnMap(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account: str
    account_source: str | None = None
    user: str | None = None
    event: str
    timestamp: str
    timezone: str = "UTC"
    event_id: str | None = None
    properties: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(_("unknown time zone {zone}", zone=value)) from None
        return value


class S3Options(BaseModel):
    """How to reach an ``s3://`` path: the secrets are named environment variables, never
    values in the file."""

    model_config = ConfigDict(extra="forbid")

    endpoint: str | None = None
    """``http(s)://host:port`` of an S3-compatible store (MinIO, ...); omit for AWS."""
    region: str | None = None
    access_key_env: str | None = None
    secret_key_env: str | None = None

    @field_validator("endpoint")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and (
            urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).netloc
        ):
            raise ValueError(_("endpoint must be an http:// or https:// URL"))
        return value

    @model_validator(mode="after")
    def _both_keys(self) -> S3Options:
        if (self.access_key_env is None) != (self.secret_key_env is None):
            raise ValueError(_("give both access_key_env and secret_key_env, or neither"))
        return self


SourceKind = Literal["store", "parquet", "delta", "iceberg", "postgres"]
NEEDS: dict[str, tuple[str, ...]] = {
    "parquet": ("path", "columns"),
    "delta": ("path", "columns"),
    "iceberg": ("catalog", "table", "columns"),
    "postgres": ("url_env", "columns"),
}


class EventsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: SourceKind = "store"
    path: str | None = None
    hive_partitioning: bool = False
    s3: S3Options | None = None
    url_env: str | None = None
    table: str | None = None
    query: str | None = None
    catalog: dict[str, str] | None = None
    """pyiceberg catalog properties (``type: sql``, ``uri``, ``warehouse``, ...) and its
    ``name`` (default ``default``)."""
    catalog_env: dict[str, str] | None = None
    """Catalog properties whose values are secrets: ``{property: NAME_OF_ENV_VAR}``."""
    columns: ColumnMap | None = None

    @model_validator(mode="after")
    def _source_needs(self) -> EventsConfig:
        needed = NEEDS.get(self.source, ())
        missing = [k for k in needed if getattr(self, k) is None]
        if missing:
            raise ValueError(
                _("source {source} needs {fields}", source=self.source, fields=", ".join(missing))
            )
        if self.source == "postgres" and (self.table is None) == (self.query is None):
            raise ValueError(_("source postgres needs one of table or query"))
        if self.s3 is not None and not (self.path or "").startswith("s3://"):
            raise ValueError(_("s3 options are for a path that begins with s3://"))
        if self.source == "iceberg" and self.query is not None:
            raise ValueError(_("source iceberg reads a table, not a query"))
        if self.hive_partitioning and self.source != "parquet":
            raise ValueError(_("hive_partitioning is for source parquet"))
        return self


@dataclass(frozen=True)
class ExternalEvents:
    """A configured external source."""

    config: YamlModel[EventsConfig]
    pattern: str
    """The path or glob, absolute; an ``s3://`` URL; the PostgreSQL table (or ``(query)``)."""

    @property
    def columns(self) -> ColumnMap:
        assert self.config.model.columns is not None
        return self.config.model.columns

    @property
    def kind(self) -> str:
        return self.config.model.source

    @property
    def remote(self) -> bool:
        return self.pattern.startswith("s3://")

    def describe(self) -> str:
        return self.pattern

    def problem(self, loc: tuple[str, ...], reason: str) -> str:
        return self.config.problem(list(loc), reason)


def config_path(config_dir: Path | None = None) -> Path:
    return (config_dir or get_settings().config_path) / EVENTS_CONFIG


_cache: dict[Path, tuple[tuple[int, int], ExternalEvents | None]] = {}


def external_source(config_dir: Path | None = None) -> ExternalEvents | None:
    """The external source ``events.yaml`` configures; None for Banso's own store (no file, or
    ``source: store``). Raises ``EventsConfigRejected`` with ``FILE:LINE: field: reason``."""
    path = config_path(config_dir)
    try:
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
    except FileNotFoundError:
        return None
    known = _cache.get(path)
    if known is not None and known[0] == stamp:
        return known[1]
    loaded = read_model(path, EventsConfig, EventsConfigRejected, whole="(events)")
    found = None
    model = loaded.model
    if model.source in ("postgres", "iceberg"):
        found = ExternalEvents(loaded, model.table or "(query)")
    elif model.source in ("parquet", "delta"):
        assert model.path is not None
        if model.path.startswith("s3://"):
            found = ExternalEvents(loaded, model.path)
        else:
            target = Path(model.path).expanduser()
            if not target.is_absolute():
                target = path.parent / target
            is_glob = model.source == "parquet" and target.is_dir()
            found = ExternalEvents(
                loaded, str(target / "**" / "*.parquet") if is_glob else str(target)
            )
    _cache[path] = (stamp, found)
    return found


def refuse_writes(config_dir: Path | None = None) -> None:
    """Raise ``ExternalEventsOwned`` when an external source is configured."""
    source = external_source(config_dir)
    if source is not None:
        raise ExternalEventsOwned(source.describe())


def source_files(source: ExternalEvents) -> list[str]:
    """The data files the source reads now: the local files of the path or glob, the objects
    under an ``s3://`` prefix, the files of a Delta table's current version; none for
    PostgreSQL."""
    if source.kind == "postgres":
        return []
    if source.kind == "delta":
        return sorted(_delta(source).file_uris())
    if source.kind == "iceberg":
        return sorted(task.file.file_path for task in _iceberg(source).scan().plan_files())
    if source.remote:
        return [f"s3://{info.path}" for info in _s3_files(source)]
    return sorted(globbing.glob(source.pattern, recursive=True))


def _rejected(source: ExternalEvents, field: str, reason: str) -> EventsConfigRejected:
    return EventsConfigRejected([source.problem((field,), reason)])


def _env(source: ExternalEvents, loc: tuple[str, ...], name: str) -> str:
    """The value of the environment variable ``name`` (a secret: never put in a message)."""
    value = os.environ.get(name)
    if not value:
        raise EventsConfigRejected(
            [source.problem(loc, _("environment variable {name} is not set", name=name))]
        )
    return value


def _s3_filesystem(source: ExternalEvents) -> Any:
    from pyarrow import fs

    options = source.config.model.s3 or S3Options()
    kwargs: dict[str, Any] = {
        "connect_timeout": 5,
        "request_timeout": 30,
        "retry_strategy": fs.AwsStandardS3RetryStrategy(max_attempts=2),
    }
    if options.endpoint:
        parts = urlsplit(options.endpoint)
        kwargs["endpoint_override"] = parts.netloc + parts.path.rstrip("/")
        kwargs["scheme"] = parts.scheme
    if options.region:
        kwargs["region"] = options.region
    if options.access_key_env and options.secret_key_env:
        kwargs["access_key"] = _env(source, ("s3", "access_key_env"), options.access_key_env)
        kwargs["secret_key"] = _env(source, ("s3", "secret_key_env"), options.secret_key_env)
    return fs.S3FileSystem(**kwargs)


def _s3_files(source: ExternalEvents) -> list[Any]:
    """``FileInfo`` of the Parquet objects at the ``s3://`` path (one object, or every one
    under the prefix whose name does not begin with ``_`` or ``.``)."""
    from pyarrow import fs

    filesystem = _s3_filesystem(source)
    path = source.pattern.removeprefix("s3://").rstrip("/")
    try:
        info = filesystem.get_file_info(path)
        if info.type == fs.FileType.File:
            return [info]
        if info.type != fs.FileType.Directory:
            return []
        found = filesystem.get_file_info(fs.FileSelector(path, recursive=True))
    except (OSError, pa.ArrowException) as error:
        raise _rejected(
            source, "path", _("cannot reach the object store: {error}", error=_short(error))
        ) from None
    return sorted(
        (
            i
            for i in found
            if i.type == fs.FileType.File
            and i.path.endswith(".parquet")
            and not any(p.startswith(("_", ".")) for p in i.path[len(path) :].split("/"))
        ),
        key=lambda i: i.path,
    )


def _delta(source: ExternalEvents) -> Any:
    """The Delta table's current version."""
    try:
        from deltalake import DeltaTable
    except ImportError:
        raise _rejected(
            source, "source", _("Delta tables need the delta extra: pip install 'banso[delta]'")
        ) from None
    storage = None
    if source.remote:
        options = source.config.model.s3 or S3Options()
        storage = {}
        if options.endpoint:
            storage["AWS_ENDPOINT_URL"] = options.endpoint
            if options.endpoint.startswith("http://"):
                storage["AWS_ALLOW_HTTP"] = "true"
        if options.region:
            storage["AWS_REGION"] = options.region
        if options.access_key_env and options.secret_key_env:
            storage["AWS_ACCESS_KEY_ID"] = _env(
                source, ("s3", "access_key_env"), options.access_key_env
            )
            storage["AWS_SECRET_ACCESS_KEY"] = _env(
                source, ("s3", "secret_key_env"), options.secret_key_env
            )
    try:
        return DeltaTable(source.pattern, storage_options=storage)
    except Exception as error:  # deltalake's own errors (no table, unreachable store)
        raise _rejected(
            source,
            "path",
            _("no Delta table at {path}: {error}", path=source.pattern, error=_short(error)),
        ) from None


def _iceberg(source: ExternalEvents) -> Any:
    """The Iceberg table (its current snapshot) from the configured catalog."""
    try:
        from pyiceberg.catalog import load_catalog
    except ImportError:
        raise _rejected(
            source,
            "source",
            _("Iceberg tables need the iceberg extra: pip install 'banso[iceberg]'"),
        ) from None
    model = source.config.model
    properties = dict(model.catalog or {})
    for prop, name in (model.catalog_env or {}).items():
        properties[prop] = _env(source, ("catalog_env", prop), name)
    try:
        name = properties.pop("name", "default")  # a SQL catalog keeps tables per name
        return load_catalog(name, **properties).load_table(model.table)
    except Exception as error:  # pyiceberg's own errors (no catalog, no table, no store)
        raise _rejected(
            source,
            "table",
            _("no Iceberg table {table}: {error}", table=source.pattern, error=_short(error)),
        ) from None


def _iceberg_read(
    source: ExternalEvents,
    lo: datetime | None,
    hi: datetime | None,
    schema_only: bool,
    once: bool,
) -> Any:
    """The mapped columns of the rows with ``lo <= timestamp < hi`` (pyiceberg skips the files
    whose statistics rule them out): an Arrow table, or a reader for a query that scans once."""
    from pyiceberg.expressions import AlwaysTrue, And, GreaterThanOrEqual, LessThan

    table = _iceberg(source)
    if schema_only:
        return table.schema().as_arrow().empty_table()
    m = source.columns
    names = [getattr(m, f) for f in ("account", "user", "event", "timestamp", "event_id",
                                     "properties")]  # fmt: skip
    row_filter: Any = AlwaysTrue()
    if lo is not None:
        row_filter = And(row_filter, GreaterThanOrEqual(m.timestamp, lo.isoformat()))
    if hi is not None:
        row_filter = And(row_filter, LessThan(m.timestamp, hi.isoformat()))
    scan = table.scan(
        row_filter=row_filter, selected_fields=tuple(dict.fromkeys(n for n in names if n))
    )
    return scan.to_arrow_batch_reader() if once else scan.to_arrow()


def _short(error: BaseException) -> str:
    return " ".join(str(error).split())[:300]


def _pg_connect(source: ExternalEvents) -> Any:
    """An Ibis PostgreSQL connection to the URL in the ``url_env`` variable."""
    import ibis
    import psycopg

    name = source.config.model.url_env
    assert name is not None
    url = _env(source, ("url_env",), name)
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+")[0] not in ("postgres", "postgresql"):
        raise _rejected(source, "url_env", _("{name} is not a postgresql:// URL", name=name))
    url = "postgres://" + rest
    if "connect_timeout=" not in url:
        url += ("&" if "?" in url else "?") + "connect_timeout=10"
    try:
        return ibis.connect(url)
    except psycopg.Error as error:
        raise _rejected(
            source,
            "url_env",
            _("cannot connect to PostgreSQL ({name}): {error}", name=name, error=_short(error)),
        ) from None


def _pg_table(con: Any, source: ExternalEvents) -> Any:
    model = source.config.model
    if model.query is not None:
        # a temporary view rather than Ibis's ``con.sql``, whose own view for the schema is
        # dropped with a statement this sqlglot renders without the view's name
        with con.con.cursor() as cursor, con.con.transaction():
            cursor.execute(f"CREATE TEMP VIEW banso_events_query AS {model.query}")
        return con.table("banso_events_query")
    assert model.table is not None
    schema, _dot, name = model.table.rpartition(".")
    return con.table(name, database=schema or None)


def _pg_read(
    source: ExternalEvents, lo: datetime | None, hi: datetime | None, schema_only: bool
) -> pa.Table:
    """The mapped columns of the rows with ``lo <= timestamp < hi`` (filtered in PostgreSQL),
    read into memory for one DuckDB read; only the schema when ``schema_only``."""
    import ibis.common.exceptions as ibis_errors
    import psycopg

    con = _pg_connect(source)
    try:
        try:
            table = _pg_table(con, source)
            if schema_only:
                return table.schema().to_pyarrow().empty_table()
            m = source.columns
            names = [getattr(m, f) for f in ("account", "user", "event", "timestamp",
                                             "event_id", "properties")]  # fmt: skip
            table = table.select(*dict.fromkeys(n for n in names if n is not None))
            if lo is not None:
                table = table.filter(table[m.timestamp] >= lo)
            if hi is not None:
                table = table.filter(table[m.timestamp] < hi)
            return con.to_pyarrow_batches(table).read_all()
        except (psycopg.Error, ibis_errors.IbisError, ibis_errors.TableNotFound) as error:
            raise _rejected(
                source,
                "query" if source.config.model.query is not None else "table",
                _("cannot read {what} in PostgreSQL: {error}", what=source.pattern,
                  error=_short(error)),
            ) from None  # fmt: skip
    finally:
        con.disconnect()


_registered = itertools.count()


def _scan(
    con: duckdb.DuckDBPyConnection,
    source: ExternalEvents,
    lo: datetime | None = None,
    hi: datetime | None = None,
    schema_only: bool = False,
    once: bool = False,
) -> str:
    """A FROM-able relation of the source's rows as they are. Local Parquet is DuckDB's
    ``read_parquet``; the other kinds are Arrow objects registered on ``con`` (a dataset that
    DuckDB scans lazily; PostgreSQL's or Iceberg's rows of ``lo <= timestamp < hi``, streamed
    when the query reading them scans them ``once``)."""
    model = source.config.model
    if source.kind == "parquet" and not source.remote:
        hive = "true" if model.hive_partitioning else "false"
        return f"read_parquet({_literal(source.pattern)}, hive_partitioning = {hive})"
    data: Any
    if source.kind == "postgres":
        data = _pg_read(source, lo, hi, schema_only)
    elif source.kind == "iceberg":
        data = _iceberg_read(source, lo, hi, schema_only, once)
    elif source.kind == "delta":
        data = _delta(source).to_pyarrow_dataset()
    else:
        import pyarrow.dataset as ds

        files = _s3_files(source)
        base = source.pattern.removeprefix("s3://").rstrip("/")
        data = ds.dataset(
            [f.path for f in files],
            filesystem=_s3_filesystem(source),
            format="parquet",
            partitioning="hive" if model.hive_partitioning else None,
            partition_base_dir=base,
        )
    name = f"banso_external_{next(_registered)}"
    con.register(name, data)
    return name


def column_types(con: duckdb.DuckDBPyConnection, source: ExternalEvents) -> dict[str, str]:
    """``{column: DuckDB type}`` of the external data; ``EventsConfigRejected`` when there are
    no files or they cannot be read."""
    if source.kind != "postgres" and not source_files(source):
        raise EventsConfigRejected(
            [source.problem(("path",), _("no Parquet file matches {path}", path=source.pattern))]
        )
    try:
        rows = con.execute(
            f"DESCRIBE SELECT * FROM {_scan(con, source, schema_only=True)}"
        ).fetchall()
    except (duckdb.Error, OSError, pa.ArrowException) as error:
        raise EventsConfigRejected(
            [source.problem(("path",), _("cannot read the files: {error}", error=_short(error)))]
        ) from None
    return {name: kind for name, kind, *_rest in rows}


def check_columns(types: dict[str, str], source: ExternalEvents) -> list[str]:
    """One problem per mapped column that is missing or of a type that cannot be used."""
    problems = []
    mapping = source.columns
    for field in ("account", "user", "event", "timestamp", "event_id", "properties"):
        name = getattr(mapping, field)
        if name is None:
            continue
        if name not in types:
            problems.append(
                source.problem(
                    ("columns", field),
                    _(
                        "no column {name} in the files (they have: {names})",
                        name=name,
                        names=", ".join(types),
                    ),
                )  # fmt: skip
            )
        elif field == "timestamp" and not types[name].startswith("TIMESTAMP"):
            problems.append(
                source.problem(
                    ("columns", field),
                    _("column {name} is {kind}, not a timestamp", name=name, kind=types[name]),
                )
            )
        elif field == "account" and mapping.account_source is None and not _integer(types[name]):
            problems.append(
                source.problem(
                    ("columns", field),
                    _(
                        "column {name} is {kind}: give account_source to map it through the "
                        "account identities, or a column of Banso account ids",
                        name=name,
                        kind=types[name],
                    ),
                )  # fmt: skip
            )
    return problems


def register_identities(
    con: duckdb.DuckDBPyConnection, source: ExternalEvents, engine: Any = None
) -> None:
    """``banso_event_identities(external_id, account_id)`` of the mapping's identity source."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from banso.accounts.models import AccountIdentity
    from banso.db import get_engine

    with Session(engine or get_engine()) as session:
        rows = session.execute(
            select(AccountIdentity.external_id, AccountIdentity.account_id).where(
                AccountIdentity.source == source.columns.account_source
            )
        ).all()
    con.register(
        IDENTITIES_VIEW,
        pa.table({"external_id": pa.array([r[0] for r in rows], pa.string()),
                  "account_id": pa.array([r[1] for r in rows], pa.int64())}),
    )  # fmt: skip


def source_sql(
    con: duckdb.DuckDBPyConnection,
    source: ExternalEvents,
    start: datetime | None = None,
    end: datetime | None = None,
) -> str:
    """A FROM-able subquery of the external events with the store's columns, times in UTC, the
    account key mapped to Banso's account id; only ``start <= ts < end`` when given."""
    types = _types(con, source)
    problems = check_columns(types, source)
    if problems:
        raise EventsConfigRejected(problems)
    m = source.columns
    bounds = (start, end)
    raw_ts = f"x.{_ident(m.timestamp)}"
    aware = types[m.timestamp].startswith("TIMESTAMP WITH TIME ZONE")
    if aware:
        ts = f"CAST({raw_ts} AS TIMESTAMPTZ)"
    else:
        if start is None or end is None:
            # the offset changes that matter are those of the span the files hold
            first, last = _span(con, source)
            start = start or first
            end = end or last
        ts = _utc_of_local(f"CAST({raw_ts} AS TIMESTAMP)", m.timezone, start, end)
    if m.account_source is None:
        account, join = f"CAST(x.{_ident(m.account)} AS BIGINT)", ""
    else:
        register_identities(con, source)
        account = "i.account_id"
        join = f"JOIN {IDENTITIES_VIEW} i ON i.external_id = CAST(x.{_ident(m.account)} AS VARCHAR)"
    event_id = f"CAST(x.{_ident(m.event_id)} AS VARCHAR)" if m.event_id else "NULL::VARCHAR"
    user = f"CAST(x.{_ident(m.user)} AS VARCHAR)" if m.user else "NULL::VARCHAR"
    props = f"CAST(x.{_ident(m.properties)} AS VARCHAR)" if m.properties else "NULL::VARCHAR"
    # exact bounds on the UTC time, and wider ones on the raw column that the Parquet scan can
    # check against each row group's statistics (no zone is more than a day from UTC)
    # (a PostgreSQL source runs the raw bounds there)
    where, raw_where = [], []
    raw_bounds: list[datetime | None] = [None, None]
    for i, (bound, op) in enumerate(((bounds[0], ">="), (bounds[1], "<"))):
        if bound is None:
            continue
        where.append(f"ts {op} {_ts_literal(bound)}")
        if aware:
            raw_bounds[i] = bound
            raw_where.append(f"{raw_ts} {op} {_ts_literal(bound)}")
        else:
            naive = bound.astimezone(UTC).replace(tzinfo=None)
            naive += timedelta(days=2) if op == "<" else -timedelta(days=2)
            raw_bounds[i] = naive
            raw_where.append(f"{raw_ts} {op} TIMESTAMP {_literal(naive.isoformat())}")
    scan = _scan(con, source, *raw_bounds)
    inner = (
        f"SELECT {event_id} AS event_id, {account} AS account_id, {user} AS user_id, "
        f"CAST(x.{_ident(m.event)} AS VARCHAR) AS event, {ts} AS ts, {props} AS properties "
        f"FROM {scan} x {join} WHERE {' AND '.join(raw_where) or 'TRUE'}"
    )
    return f"(SELECT * FROM ({inner}) WHERE {' AND '.join(where) or 'TRUE'})"


MAX_CASE_TRANSITIONS = 24


def _utc_of_local(local: str, zone: str, start: datetime | None, end: datetime | None) -> str:
    """SQL for the UTC instant of the naive local time ``local`` in ``zone``.

    DuckDB's ``timezone()`` goes through ICU for every row, which cost three times the rest of
    a feature query; between the zone's offset changes the instant is the local time minus a
    constant, in integer microseconds (``to_timestamp`` of the exact seconds). So: the one
    offset of the read's span, or a CASE over its few changes; ICU only for a span of more than
    ``MAX_CASE_TRANSITIONS`` changes (an unbounded read in a zone with daylight saving). A time
    in the hour that repeats when clocks go back is read with the earlier offset (as Python's
    ``fold=0``)."""
    lo = (start or datetime(1970, 1, 1, tzinfo=UTC)) - timedelta(days=2)
    hi = (end or datetime(2100, 1, 1, tzinfo=UTC)) + timedelta(days=2)
    changes = [c for c in _transitions(zone, lo.year, hi.year) if lo <= c[0] < hi]
    if len(changes) > MAX_CASE_TRANSITIONS:
        return f"timezone({_literal(zone)}, {local})"
    first = lo.astimezone(ZoneInfo(zone)).utcoffset()
    offset = str((int(first.total_seconds()) if first else 0) * 1_000_000)
    if changes:
        whens = " ".join(
            f"WHEN {local} < TIMESTAMP {_literal(_naive(at, before))} THEN {before * 1_000_000}"
            for at, before, _after in changes
        )
        offset = f"(CASE {whens} ELSE {changes[-1][2] * 1_000_000} END)"
    return f"to_timestamp((epoch_us({local}) - {offset}) / 1000000)"


def _naive(instant: datetime, offset: int) -> str:
    """The local wall time of ``instant`` at ``offset`` seconds, without a zone."""
    return (instant + timedelta(seconds=offset)).replace(tzinfo=None).isoformat()


@lru_cache(maxsize=64)
def _transitions(
    zone: str, first_year: int, last_year: int
) -> tuple[tuple[datetime, int, int], ...]:
    """``(UTC instant, offset before, offset after)`` (seconds) of each change of ``zone``'s UTC
    offset in the years given, found by a daily probe and a search to the second."""
    tz = ZoneInfo(zone)

    def offset(moment: datetime) -> int:
        value = moment.astimezone(tz).utcoffset()
        return int(value.total_seconds()) if value else 0

    found = []
    day = datetime(first_year, 1, 1, tzinfo=UTC)
    stop = datetime(last_year + 1, 1, 1, tzinfo=UTC)
    before = offset(day)
    while day < stop:
        following = day + timedelta(days=1)
        after = offset(following)
        if after != before:
            lo, hi = day, following
            while hi - lo > timedelta(seconds=1):
                mid = lo + timedelta(seconds=(hi - lo).total_seconds() // 2)
                lo, hi = (mid, hi) if offset(mid) == before else (lo, mid)
            found.append((hi, before, after))
            before = after
        day = following
    return tuple(found)


_kept: dict[tuple[str, str, tuple[tuple[str, int, int], ...]], Any] = {}
"""Column types and time spans of the external files, by their names, sizes and times."""


def _files_key(source: ExternalEvents) -> tuple[tuple[str, int, int], ...] | None:
    """What the source holds now, to keep facts read from it: the files' names, sizes and
    times; a Delta table's version; None (nothing kept) for PostgreSQL."""
    if source.kind == "postgres":
        return None
    if source.kind == "delta":
        table = _delta(source)
        return ((table.table_uri, table.version(), 0),)
    if source.kind == "iceberg":
        snapshot = _iceberg(source).current_snapshot()
        return ((source.pattern, snapshot.snapshot_id if snapshot else 0, 0),)
    if source.remote:
        return tuple((i.path, i.size, i.mtime_ns) for i in _s3_files(source))
    out = []
    for name in source_files(source):
        try:
            stat = Path(name).stat()
        except FileNotFoundError:
            continue
        out.append((name, stat.st_size, stat.st_mtime_ns))
    return tuple(out)


def _types(con: duckdb.DuckDBPyConnection, source: ExternalEvents) -> dict[str, str]:
    """``column_types``, kept while the files are the same."""
    files = _files_key(source)
    if files is None:
        return column_types(con, source)
    key = ("types", source.pattern, files)
    if key not in _kept:
        _kept[key] = column_types(con, source)
    types: dict[str, str] = _kept[key]
    return types


def _span(con: duckdb.DuckDBPyConnection, source: ExternalEvents) -> tuple[datetime, datetime]:
    """The first and last naive time of the files, read as UTC (a bound within a day of the
    real one), kept while the files are the same."""
    files = _files_key(source)
    key = ("span", source.pattern + "\0" + source.columns.timestamp, files)
    if files is None or key not in _kept:
        raw = source.columns.timestamp
        if source.kind == "postgres":
            first, last = _pg_aggregate(source, lambda t: t.aggregate(
                first=t[raw].min(), last=t[raw].max())).to_pylist()[0].values()  # fmt: skip
        else:
            first, last = con.execute(
                f"SELECT CAST(min({_ident(raw)}) AS TIMESTAMP), "
                f"CAST(max({_ident(raw)}) AS TIMESTAMP) FROM {_scan(con, source, once=True)}"
            ).fetchall()[0]
        if first is not None and first.tzinfo is not None:
            first = first.astimezone(UTC).replace(tzinfo=None)
            last = last.astimezone(UTC).replace(tzinfo=None)
        now = datetime.now(UTC).replace(tzinfo=None)
        _kept[key] = (
            (first or now).replace(tzinfo=UTC),
            (last or now).replace(tzinfo=UTC) + timedelta(microseconds=1),
        )
    span: tuple[datetime, datetime] = _kept[key]
    return span


def _pg_aggregate(source: ExternalEvents, query: Any) -> pa.Table:
    """``query(table)`` (an Ibis aggregation) run in PostgreSQL, its small result in Arrow."""
    import ibis.common.exceptions as ibis_errors
    import psycopg

    con = _pg_connect(source)
    try:
        return con.to_pyarrow(query(_pg_table(con, source)))
    except (psycopg.Error, ibis_errors.IbisError, ibis_errors.TableNotFound) as error:
        raise _rejected(
            source,
            "query" if source.config.model.query is not None else "table",
            _("cannot read {what} in PostgreSQL: {error}", what=source.pattern,
              error=_short(error)),
        ) from None  # fmt: skip
    finally:
        con.disconnect()


def _integer(kind: str) -> bool:
    return kind in {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT",
                    "UINTEGER", "UBIGINT", "HUGEINT"}  # fmt: skip


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ts_literal(moment: datetime) -> str:
    return f"TIMESTAMPTZ {_literal(moment.isoformat())}"


@dataclass(frozen=True)
class SourceCheck:
    """What ``check`` found in the external files."""

    files: int
    rows: int
    mapped: int
    """Rows whose account key names a Banso account."""
    unknown_keys: int
    examples: tuple[str, ...]
    """Up to five account keys no identity maps."""
    first: datetime | None
    last: datetime | None


def check(source: ExternalEvents) -> SourceCheck:
    """Read the external data once through the mapping: ``EventsConfigRejected`` for missing
    files, tables or columns, else how many rows map to Banso accounts. The rows are first
    counted per account key where they are (in PostgreSQL for a PostgreSQL source), so only one
    row per key is read into DuckDB."""
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        types = column_types(con, source)  # raises on missing files or tables
        problems = check_columns(types, source)
        if problems:
            raise EventsConfigRejected(problems)
        m = source.columns
        if source.kind == "postgres":
            per_key = _pg_aggregate(source, lambda t: t.group_by(key=t[m.account]).aggregate(
                n=t.count(), first=t[m.timestamp].min(), last=t[m.timestamp].max()))  # fmt: skip
            con.register("banso_key_counts", per_key)
        else:
            ts = _ident(m.timestamp)
            con.execute(
                f"CREATE TEMP TABLE banso_key_counts AS SELECT {_ident(m.account)} AS key, "
                f"count(*) AS n, min({ts}) AS first, max({ts}) AS last "
                f"FROM {_scan(con, source, once=True)} GROUP BY 1"
            )
        key = "CAST(k.key AS VARCHAR)"
        if types[m.timestamp].startswith("TIMESTAMP WITH TIME ZONE"):
            first, last = "CAST(k.first AS TIMESTAMPTZ)", "CAST(k.last AS TIMESTAMPTZ)"
        else:
            lo, hi = con.execute(
                "SELECT CAST(min(first) AS TIMESTAMP), CAST(max(last) AS TIMESTAMP) "
                "FROM banso_key_counts"
            ).fetchall()[0]
            start = lo.replace(tzinfo=UTC) if lo else None
            end = hi.replace(tzinfo=UTC) + timedelta(microseconds=1) if hi else None
            first = _utc_of_local("CAST(k.first AS TIMESTAMP)", m.timezone, start, end)
            last = _utc_of_local("CAST(k.last AS TIMESTAMP)", m.timezone, start, end)
        if m.account_source is None:
            known = "SELECT CAST(id AS VARCHAR) AS k FROM banso_accounts"
            _register_account_ids(con)
            mapped = "banso_key_counts k"
        else:
            register_identities(con, source)
            known = f"SELECT external_id AS k FROM {IDENTITIES_VIEW}"
            mapped = f"banso_key_counts k JOIN {IDENTITIES_VIEW} i ON i.external_id = {key}"
        rows = con.execute("SELECT coalesce(sum(n), 0) FROM banso_key_counts").fetchall()[0]
        counted = con.execute(
            f"SELECT coalesce(sum(k.n), 0), min({first}), max({last}) FROM {mapped}"
        ).fetchall()[0]
        unknown = con.execute(
            f"SELECT DISTINCT {key} AS u FROM banso_key_counts k "
            f"WHERE {key} IS NULL OR {key} NOT IN ({known}) ORDER BY u NULLS FIRST"
        ).fetchall()
    finally:
        con.close()
    assert rows is not None and counted is not None
    return SourceCheck(
        len(source_files(source)), int(rows[0]), int(counted[0]), len(unknown),
        tuple(str(k) for (k,) in unknown[:5]), counted[1], counted[2],
    )  # fmt: skip


def _register_account_ids(con: duckdb.DuckDBPyConnection) -> None:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from banso.accounts.models import Account
    from banso.db import get_engine

    with Session(get_engine()) as session:
        ids = list(session.scalars(select(Account.id)))
    con.register("banso_accounts", pa.table({"id": pa.array(ids, pa.int64())}))
