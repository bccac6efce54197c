"""Where the product events are: Banso's own store, or a company's Parquet files read in place.

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

``source_sql`` gives the events as a DuckDB subquery with the store's columns
(``store.EVENT_SCHEMA``): the account key mapped to Banso's account id through
``account_identities`` (events of unknown keys are left out), times converted to UTC. Nothing is
copied: every reader scans the company's files. Only ``usage.store`` and ``usage.service`` call
this module (the store owns where events are read from).
"""

from __future__ import annotations

import glob as globbing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
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


class EventsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: Literal["store", "parquet"] = "store"
    path: str | None = None
    hive_partitioning: bool = False
    columns: ColumnMap | None = None

    @model_validator(mode="after")
    def _parquet_needs(self) -> EventsConfig:
        if self.source == "parquet":
            missing = [k for k in ("path", "columns") if getattr(self, k) is None]
            if missing:
                raise ValueError(_("source parquet needs {fields}", fields=", ".join(missing)))
        return self


@dataclass(frozen=True)
class ExternalEvents:
    """A configured external Parquet source."""

    config: YamlModel[EventsConfig]
    pattern: str
    """The path or glob, absolute."""

    @property
    def columns(self) -> ColumnMap:
        assert self.config.model.columns is not None
        return self.config.model.columns

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
    if loaded.model.source == "parquet":
        assert loaded.model.path is not None
        target = Path(loaded.model.path).expanduser()
        if not target.is_absolute():
            target = path.parent / target
        pattern = str(target / "**" / "*.parquet") if target.is_dir() else str(target)
        found = ExternalEvents(loaded, pattern)
    _cache[path] = (stamp, found)
    return found


def refuse_writes(config_dir: Path | None = None) -> None:
    """Raise ``ExternalEventsOwned`` when an external source is configured."""
    source = external_source(config_dir)
    if source is not None:
        raise ExternalEventsOwned(source.describe())


def source_files(source: ExternalEvents) -> list[str]:
    return sorted(globbing.glob(source.pattern, recursive=True))


def _scan(source: ExternalEvents) -> str:
    hive = "true" if source.config.model.hive_partitioning else "false"
    return f"read_parquet({_literal(source.pattern)}, hive_partitioning = {hive})"


def column_types(con: duckdb.DuckDBPyConnection, source: ExternalEvents) -> dict[str, str]:
    """``{column: DuckDB type}`` of the external files; ``EventsConfigRejected`` when there are
    no files or they cannot be read."""
    if not source_files(source):
        raise EventsConfigRejected(
            [source.problem(("path",), _("no Parquet file matches {path}", path=source.pattern))]
        )
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {_scan(source)}").fetchall()
    except duckdb.Error as error:
        raise EventsConfigRejected(
            [source.problem(("path",), _("cannot read the files: {error}", error=str(error)))]
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
    where, raw_where = [], []
    for bound, op in ((bounds[0], ">="), (bounds[1], "<")):
        if bound is None:
            continue
        where.append(f"ts {op} {_ts_literal(bound)}")
        if aware:
            raw_where.append(f"{raw_ts} {op} {_ts_literal(bound)}")
        else:
            naive = bound.astimezone(UTC).replace(tzinfo=None)
            naive += timedelta(days=2) if op == "<" else -timedelta(days=2)
            raw_where.append(f"{raw_ts} {op} TIMESTAMP {_literal(naive.isoformat())}")
    inner = (
        f"SELECT {event_id} AS event_id, {account} AS account_id, {user} AS user_id, "
        f"CAST(x.{_ident(m.event)} AS VARCHAR) AS event, {ts} AS ts, {props} AS properties "
        f"FROM {_scan(source)} x {join} WHERE {' AND '.join(raw_where) or 'TRUE'}"
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


def _files_key(source: ExternalEvents) -> tuple[tuple[str, int, int], ...]:
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
    key = ("types", source.pattern, _files_key(source))
    if key not in _kept:
        _kept[key] = column_types(con, source)
    types: dict[str, str] = _kept[key]
    return types


def _span(con: duckdb.DuckDBPyConnection, source: ExternalEvents) -> tuple[datetime, datetime]:
    """The first and last naive time of the files, read as UTC (a bound within a day of the
    real one), kept while the files are the same."""
    key = ("span", source.pattern + "\0" + source.columns.timestamp, _files_key(source))
    if key not in _kept:
        raw = _ident(source.columns.timestamp)
        first, last = con.execute(
            f"SELECT CAST(min({raw}) AS TIMESTAMP), CAST(max({raw}) AS TIMESTAMP) "
            f"FROM {_scan(source)}"
        ).fetchall()[0]
        now = datetime.now(UTC).replace(tzinfo=None)
        _kept[key] = (
            (first or now).replace(tzinfo=UTC),
            (last or now).replace(tzinfo=UTC) + timedelta(microseconds=1),
        )
    span: tuple[datetime, datetime] = _kept[key]
    return span


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
    """Read the external files once through the mapping: ``EventsConfigRejected`` for missing
    files or columns, else how many rows map to Banso accounts."""
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        mapped = source_sql(con, source)  # raises on missing files or columns
        m = source.columns
        key = f"CAST({_ident(m.account)} AS VARCHAR)"
        if m.account_source is None:
            known = "SELECT CAST(id AS VARCHAR) AS k FROM banso_accounts"
            _register_account_ids(con)
        else:
            known = f"SELECT external_id AS k FROM {IDENTITIES_VIEW}"
        rows = con.execute(f"SELECT count(*) FROM {_scan(source)}").fetchall()[0]
        counted = con.execute(f"SELECT count(*), min(ts), max(ts) FROM {mapped}").fetchall()[0]
        unknown = con.execute(
            f"SELECT DISTINCT {key} AS k FROM {_scan(source)} "
            f"WHERE {key} IS NULL OR {key} NOT IN ({known}) ORDER BY k NULLS FIRST"
        ).fetchall()
    finally:
        con.close()
    assert rows is not None and counted is not None
    return SourceCheck(
        len(source_files(source)), rows[0], counted[0], len(unknown),
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
