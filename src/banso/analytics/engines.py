"""One Ibis connection per analytics engine, holding the app tables the metric definitions read.

- ``duckdb`` (embedded default): the app tables are read through SQLAlchemy into Arrow and
  registered in an in-memory DuckDB (its sqlite/postgres scanner extensions download at run time,
  which an offline machine cannot do).
- ``postgres``: Ibis queries the app database itself, in place; it must be PostgreSQL.
- ``spark``: a local-mode SparkSession reads the same tables exported to Parquet in a folder of
  its own under ``BANSO_HOME/analytics/spark`` (see :class:`SparkExport`), so two reports at
  once, in one process or two, never read or delete each other's files.

Every engine exposes the same tables with the same column names and types, so one Ibis expression
gives the same answer on each.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import threading
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

import ibis
import ibis.expr.operations as ops
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from ibis.backends import BaseBackend
from sqlalchemy import Column, ColumnElement, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.sql.sqltypes import BigInteger, Boolean, Date, DateTime, Float, Integer, String

from banso.config import get_settings
from banso.errors import BansoError
from banso.i18n import _

ENGINES = ("duckdb", "postgres", "spark")
"""Names accepted by ``--engine``."""


@dataclass
class AnalyticsConnection:
    """An Ibis backend with the app tables it was asked for, by table name."""

    engine: str
    backend: BaseBackend
    tables: dict[str, ibis.Table] = field(default_factory=dict)

    def table(self, name: str) -> ibis.Table:
        return self.tables[name]

    def materialize(self, name: str, expr: ibis.Table, *, projection: bool = False) -> ibis.Table:
        """Compute ``expr`` once into a session-scoped table that later expressions reuse.

        ``projection``: ``expr`` only derives columns row by row from one app table; DuckDB
        already holds that table in memory, so it recomputes the expression instead of copying.
        (Ibis's ``Table.cache`` is not used: its finaliser fails on DuckDB 2.)
        """
        if projection and self.engine == "duckdb":
            return expr
        if self.engine == "duckdb":
            # the compiled SQL comes from _compile_cached: a repeated report skips Ibis's compiler
            self.backend._run_pre_execute_hooks(expr)  # registers any ibis.memtable it reads
            sql = self.backend.compile(expr)
            self.backend.con.execute(f'CREATE OR REPLACE TEMP TABLE "{name}" AS {sql}')
            table = self.backend.table(name)
            self.tables[name] = table
            return table
        if self.engine == "spark":
            self.backend._run_pre_execute_hooks(expr)  # registers memtables as temp views
            frame = self.backend._session.sql(self.backend.compile(expr)).cache()
            previous = _spark_cached.pop(name, None)
            if previous is not None:
                previous.unpersist()
            frame.createOrReplaceTempView(name)
            _spark_cached[name] = frame
        else:
            self.backend.create_table(name, expr, temp=True)
            if self.engine == "postgres":
                # a fresh temp table has no statistics; without them the planner picks nested
                # loops over millions of rows
                with self.backend._safe_raw_sql(f'ANALYZE "{name}"'):
                    pass
        table = self.backend.table(name)
        self.tables[name] = table
        return table

    def materialize_shaped(
        self, name: str, shape: Hashable, build: Callable[[], ibis.Table]
    ) -> ibis.Table:
        """:meth:`materialize` of the query ``build()``; on DuckDB its SQL is kept per
        ``shape`` (see :meth:`to_pyarrow`), so a repeated report neither builds nor compiles it."""
        if self.engine != "duckdb":
            return self.materialize(name, build())
        sql = _shaped_sql(shape, lambda: self._compile_shaped(build()))
        self.backend.con.execute(f'CREATE OR REPLACE TEMP TABLE "{name}" AS {sql}')
        table = self.backend.table(name)
        self.tables[name] = table
        return table

    def to_pyarrow(self, shape: Hashable, build: Callable[[], ibis.Table]) -> pa.Table:
        """The rows of the query ``build()``.

        On DuckDB the query's SQL is kept per ``shape`` for the life of the process: a report
        asked again runs the SQL compiled the first time, without building or compiling the
        Ibis expression (which costs more CPU than DuckDB takes to run it at 100,000 accounts).
        ``shape`` must therefore hold everything the SQL depends on besides the names and
        schemas of this connection's tables: the query's name and every value its definition
        takes (months, scale, breakdown, filters). Other engines build and run it each time."""
        if self.engine != "duckdb":
            return build().to_pyarrow()
        sql = _shaped_sql(shape, lambda: self._compile_shaped(build()))
        return self.backend.con.sql(sql).to_arrow_table()

    def _compile_shaped(self, expr: ibis.Table) -> str:
        if expr.op().find(ops.InMemoryTable):
            # its random name would be kept in the SQL and missing on the next connection
            raise ValueError("a query kept by shape reads no ibis.memtable: use memtable()")
        return self.backend.compile(expr)

    def memtable(self, name: str, data: pa.Table) -> ibis.Table:
        """``data`` (a small table made in Python: months, FX factors, keys) as a table of this
        connection. On DuckDB it is registered under ``name``, so that a query built again from
        the same definitions is the same query and its compiled SQL is reused
        (:func:`_compile_cached`); an ``ibis.memtable`` elsewhere."""
        if self.engine != "duckdb":
            return ibis.memtable(data)
        self.backend.con.register(name, data)
        table = self.backend.table(name)
        self.tables[name] = table
        return table


def check_engine(engine: str) -> str:
    """``engine`` if Banso knows it; otherwise a BansoError naming the choices."""
    if engine not in ENGINES:
        raise BansoError(
            _(
                "Unknown engine {engine}; choose one of {choices}.",
                engine=engine,
                choices=", ".join(ENGINES),
            )
        )
    return engine


def resolve_engine(engine: str | None) -> str:
    """The engine a command runs on: ``engine`` (its ``--engine``) when given, else the
    setting ``BANSO_ANALYTICS_ENGINE`` (default ``duckdb``); checked (:func:`check_engine`)."""
    return check_engine(engine if engine is not None else get_settings().analytics_engine)


def event_engine(engine: str | None) -> str:
    """The engine that reads the Parquet event store when the analytics run on ``engine``
    (resolved as :func:`resolve_engine`): Spark for ``spark``, DuckDB otherwise (``postgres``
    holds the app tables, not the event files)."""
    return "spark" if resolve_engine(engine) == "spark" else "duckdb"


TableColumns = Mapping[str, Sequence[Column[Any]]]
"""App table name -> the columns of it an analysis reads (model columns, e.g. ``Account.plan``)."""

RowFilters = Mapping[str, ColumnElement[bool]]
"""App table name -> a condition on its columns: only those rows are read (``connect``)."""


def connect(
    engine: str,
    app_db: Engine,
    tables: TableColumns,
    where: RowFilters | None = None,
    *,
    version: Hashable | None = None,
) -> AnalyticsConnection:
    """An Ibis connection of kind ``engine`` exposing ``tables`` of the app database ``app_db``;
    of a table named in ``where``, only the rows meeting its condition (read so, not filtered
    after reading: a report on a few accounts reads only their rows).

    ``version``: the data version (:mod:`banso.data_versions`) the caller read for these tables.
    DuckDB then keeps the whole tables it read (those not in ``where``) in this process and
    reads them again only when a later call gives another version or database; the newest
    state of one database is kept, nothing more."""
    check_engine(engine)
    where = where or {}
    if engine == "duckdb":
        return _connect_duckdb(app_db, tables, where, version)
    if engine == "postgres":
        return _connect_postgres(app_db, tables, where)
    return _connect_spark(app_db, tables, where)


def read_arrow(
    app_db: Engine, columns: Sequence[Column[Any]], where: ColumnElement[bool] | None = None
) -> pa.Table:
    """All rows (those meeting ``where`` when given) of these columns of one app table as Arrow,
    typed as the model declares.

    SQLite is read through the app's own driver (Python's ``sqlite3``) as CSV text that SQLite
    writes and Arrow parses, never with a second SQLite library (see :func:`_read_sqlite`);
    other databases through the DBAPI cursor, without SQLAlchemy's per-row processing.
    """
    if app_db.dialect.name == "sqlite" and app_db.url.database:
        return _read_sqlite(app_db, columns, where)
    if where is None:
        statement = select(*columns).compile(dialect=app_db.dialect)
    else:  # values inline, as on SQLite: the cursor below passes positional parameters
        statement = (
            select(*columns)
            .where(where)
            .compile(dialect=app_db.dialect, compile_kwargs={"literal_binds": True})
        )
    raw = app_db.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(str(statement), tuple(statement.params.values()))
        rows = cursor.fetchall()
        cursor.close()
    finally:
        raw.close()
    values_by_column = list(zip(*rows, strict=True)) if rows else [() for _c in columns]
    arrays = []
    for column, values in zip(columns, values_by_column, strict=True):
        arrow_type = _arrow_type(column.type)
        if pa.types.is_timestamp(arrow_type) and any(isinstance(v, str) for v in values[:1000]):
            arrays.append(_utc_timestamps_from_text(pa.array(values, pa.string())))
        else:
            arrays.append(pa.array(values, type=arrow_type))
    return pa.Table.from_arrays(arrays, names=[c.name for c in columns])


SQLITE_CHUNK_ROWS = 250_000
"""Rows of a SQLite table read as one text value (about 10 MB at 40 bytes a row)."""

_RAW_TYPES = {"int": pa.int64(), "real": pa.float64(), "text": pa.string(), "clock": pa.string()}


def _read_sqlite(
    app_db: Engine, columns: Sequence[Column[Any]], where: ColumnElement[bool] | None = None
) -> pa.Table:
    """One SQLite table's columns, read on a connection of the app's own engine.

    A second SQLite library in the process (the ADBC driver links its own) does not share POSIX
    locks with Python's: closing its file releases the server's locks, and the next outside
    process to close the database deletes the WAL under the server, losing acknowledged writes.
    Fetching rows as Python tuples through ``sqlite3`` is 3-5 times slower than ADBC, so SQLite
    itself formats each row as a CSV line (``format``: ``%Q`` quotes text, NULL stays bare) and
    concatenates a chunk of rows into one value that Arrow's multithreaded CSV reader parses.
    Chunks follow the rowid inside one read transaction, so the table is read as of one moment.
    ``where`` is compiled with its values inline (the query's only parameters are the chunk's).
    """
    kinds = [_sqlite_kind(_arrow_type(column.type)) for column in columns]
    fields = []
    for column, kind in zip(columns, kinds, strict=True):
        name = f'"{column.name}"'
        if kind == "real":
            # 17 significant digits give back the same double; NULL must stay bare
            fields.append(f"iif({name} IS NULL, NULL, format('%!.17g', {name}))")
        else:
            fields.append(name)
    line_format = ",".join("%Q" if kind == "text" else "%s" for kind in kinds)
    # every line ends with its newline: Arrow reads a bare empty last field at the very end of
    # the text, after a quoted one, as a quoted '' (not null)
    query = (
        f"SELECT max(r), CAST(group_concat(line, '') AS BLOB) FROM ("
        f"SELECT rowid AS r, format('{line_format}' || char(10), {', '.join(fields)}) AS line "
        f'FROM "{columns[0].table.name}" WHERE rowid > ?{_sqlite_condition(app_db, where)} '
        "ORDER BY rowid LIMIT ?)"
    )
    names = [column.name for column in columns]
    parse = pa_csv.ParseOptions(quote_char="'", double_quote=True, newlines_in_values=True)
    convert = pa_csv.ConvertOptions(
        column_types={n: _RAW_TYPES[k] for n, k in zip(names, kinds, strict=True)},
        null_values=["", "NULL"],
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
    )

    def parse_chunk(text: bytes) -> pa.Table:
        return pa_csv.read_csv(
            pa.py_buffer(text),
            read_options=pa_csv.ReadOptions(column_names=names),
            parse_options=parse,
            convert_options=convert,
        )

    # Arrow parses a chunk on another thread while SQLite formats the next (both drop the GIL)
    chunks: list[Future[pa.Table]] = []
    raw = app_db.raw_connection()
    try:
        with ThreadPoolExecutor(max_workers=1) as parser:
            cursor = raw.cursor()
            cursor.execute("BEGIN")
            after = -(2**63)
            while True:
                cursor.execute(query, (after, SQLITE_CHUNK_ROWS))
                last, text = cursor.fetchone()
                if last is None:
                    break
                chunks.append(parser.submit(parse_chunk, text))
                after = last
            cursor.close()
            parsed = [chunk.result() for chunk in chunks]
    finally:
        raw.rollback()
        raw.close()
    schema = pa.schema([(n, _RAW_TYPES[k]) for n, k in zip(names, kinds, strict=True)])
    data = pa.concat_tables(parsed) if parsed else schema.empty_table()
    arrays = []
    for column in columns:
        arrow_type = _arrow_type(column.type)
        values = data.column(column.name)
        if pa.types.is_timestamp(arrow_type):
            arrays.append(_utc_timestamps_from_text(values))
        else:
            arrays.append(values.cast(arrow_type))
    return pa.Table.from_arrays(arrays, names=names)


def _sqlite_condition(app_db: Engine, where: ColumnElement[bool] | None) -> str:
    if where is None:
        return ""
    compiled = where.compile(dialect=app_db.dialect, compile_kwargs={"literal_binds": True})
    return f" AND ({compiled})"


def _sqlite_kind(arrow_type: pa.DataType) -> str:
    """How a column is written into the CSV text: ``clock`` is a date or timestamp, ISO text
    that has no comma, quote or newline, so it goes unquoted (an empty field is null)."""
    if pa.types.is_integer(arrow_type) or pa.types.is_boolean(arrow_type):
        return "int"
    if pa.types.is_floating(arrow_type):
        return "real"
    if pa.types.is_date(arrow_type) or pa.types.is_timestamp(arrow_type):
        return "clock"
    return "text"


def _utc_timestamps_from_text(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """SQLite's text timestamps (UTC, with or without a ``+00:00`` suffix) as UTC instants."""
    text = pc.replace_substring_regex(values, r"(\+00:?00|Z)$", "")
    return text.cast(pa.timestamp("us")).cast(pa.timestamp("us", tz="UTC"))


def _arrow_type(sa_type: Any) -> pa.DataType:
    if isinstance(sa_type, Boolean):
        return pa.bool_()
    if isinstance(sa_type, BigInteger | Integer):
        return pa.int64()
    if isinstance(sa_type, DateTime):
        # stored in UTC; SQLite hands back naive values, which Arrow takes as UTC
        return pa.timestamp("us", tz="UTC")
    if isinstance(sa_type, Date):
        return pa.date32()
    if isinstance(sa_type, Float):
        return pa.float64()
    if isinstance(sa_type, String):
        return pa.string()
    raise TypeError(f"no Arrow type for {sa_type!r}")


def _connect_duckdb(
    app_db: Engine, tables: TableColumns, where: RowFilters, version: Hashable | None
) -> AnalyticsConnection:
    backend = ibis.duckdb.connect()
    backend.compile = _compile_cached(backend.compile)  # type: ignore[method-assign]
    conn = AnalyticsConnection("duckdb", backend)
    for name, columns in tables.items():
        state = _sqlite_state(app_db, version)
        if state is not None and name not in where:
            data = _kept_read(app_db, state, name, columns)
        else:
            data = read_arrow(app_db, columns, where.get(name))
        backend.con.register(name, data)
        conn.tables[name] = backend.table(name)
    return conn


_KEPT: dict[Hashable, pa.Table] = {}
"""Whole app tables read at one data version of one database (``connect(version=...)``)."""
_KEPT_STATE: list[Hashable] = []


def _sqlite_state(app_db: Engine, version: Hashable | None) -> Hashable | None:
    """What tells one state of an SQLite database file from another: its path and file
    identity (a file deleted and made again at the same path starts its versions again) and
    the data version. None (nothing kept) without a version, for another database or in
    memory."""
    if version is None or app_db.dialect.name != "sqlite" or not app_db.url.database:
        return None
    if app_db.url.database == ":memory:" or app_db.url.database.startswith("file:"):
        return None
    try:
        stat = Path(app_db.url.database).stat()
    except OSError:
        return None
    return (str(Path(app_db.url.database).resolve()), stat.st_dev, stat.st_ino, version)


def _kept_read(
    app_db: Engine, state: Hashable, name: str, columns: Sequence[Column[Any]]
) -> pa.Table:
    key = (name, tuple(str(c) for c in columns))
    with _COMPILED_LOCK:
        if _KEPT_STATE != [state]:
            _KEPT.clear()  # another version or database: what was kept is no longer current
            _KEPT_STATE[:] = [state]
        found = _KEPT.get(key)
    if found is not None:
        return found
    data = read_arrow(app_db, columns)
    with _COMPILED_LOCK:
        if _KEPT_STATE == [state]:
            _KEPT[key] = data
    return data


_COMPILED: OrderedDict[ops.Node, str] = OrderedDict()
"""DuckDB SQL of recently compiled queries, by the query's shape (:func:`_unbound`)."""
_COMPILED_MAX = 256
_COMPILED_LOCK = threading.Lock()


def _compile_cached(compile_sql: Callable[..., str]) -> Callable[..., str]:
    """A DuckDB backend's ``compile``, remembering the SQL of each query by its shape.

    Ibis takes 0.1-0.5 s of CPU to compile one of the revenue queries (its rewrites of the
    expression graph), far longer than DuckDB takes to run it on 100,000 accounts; the same
    report asked again builds the same expression on a new connection. An expression is all its
    SQL depends on: table names and schemas, columns, operations and literals; only the backend
    object bound to its tables differs between connections, and :func:`_unbound` takes it out
    of the key. Expressions over an ``ibis.memtable`` (a random name per call) are not kept."""

    def compile(expr: Any, /, *, limit: Any = None, params: Any = None, **kwargs: Any) -> str:
        if limit is not None or params or kwargs:
            return compile_sql(expr, limit=limit, params=params, **kwargs)
        key = _unbound(expr.op())
        if key is None:
            return compile_sql(expr)
        with _COMPILED_LOCK:
            sql = _COMPILED.get(key)
            if sql is not None:
                _COMPILED.move_to_end(key)
                return sql
        sql = compile_sql(expr)
        with _COMPILED_LOCK:
            _COMPILED[key] = sql
            while len(_COMPILED) > _COMPILED_MAX:
                _COMPILED.popitem(last=False)
        return sql

    return compile


_SHAPED: OrderedDict[Hashable, str] = OrderedDict()
"""DuckDB SQL of recently run queries, by the shape their caller gives (``to_pyarrow``)."""


def _shaped_sql(shape: Hashable, compile_sql: Callable[[], str]) -> str:
    with _COMPILED_LOCK:
        sql = _SHAPED.get(shape)
        if sql is not None:
            _SHAPED.move_to_end(shape)
            return sql
    sql = compile_sql()
    with _COMPILED_LOCK:
        _SHAPED[shape] = sql
        while len(_SHAPED) > _COMPILED_MAX:
            _SHAPED.popitem(last=False)
    return sql


def _unbound(op: ops.Node) -> ops.Node | None:
    """``op`` with its database tables detached from their backend (the cache key of its SQL);
    None when it reads an in-memory table, whose name is new on every call."""
    if op.find(ops.InMemoryTable):
        return None

    def detach(node: ops.Node, kwargs: dict[str, Any] | None) -> ops.Node:
        if isinstance(node, ops.DatabaseTable):
            return node.copy(source=None)
        return node.__recreate__(kwargs) if kwargs else node

    return op.replace(detach)


def _connect_postgres(
    app_db: Engine, tables: TableColumns, where: RowFilters
) -> AnalyticsConnection:
    if app_db.dialect.name != "postgresql":
        raise BansoError(
            _(
                "The postgres engine needs a PostgreSQL app database; this one is {dialect}.",
                dialect=app_db.dialect.name,
            )
        )
    url = make_url(app_db.url)
    backend = ibis.postgres.connect(
        host=url.host or "localhost",
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        database=url.database,
    )
    conn = AnalyticsConnection("postgres", backend)
    for name, columns in tables.items():
        if name in where:
            # the few rows meeting the condition, copied into a temporary table of the session
            rows = read_arrow(app_db, columns, where[name])
            conn.tables[name] = backend.create_table(f"{name}_selected", rows, temp=True)
        else:
            conn.tables[name] = backend.table(name).select(*(c.name for c in columns))
    return conn


_spark_session: Any = None
_spark_cached: dict[str, Any] = {}
"""Cached Spark DataFrames by temp view name, released when a later report replaces them."""


def spark_session() -> Any:
    """The process's SparkSession, started on first use (a few seconds). Where it runs
    (docs/spark.md):

    - ``SPARK_REMOTE`` set (``sc://host:15002``): a Spark Connect session to that server;
    - started by ``spark-submit`` (PySpark's gateway is already running): the session of the
      submitted application, with the master and resources given to ``spark-submit``;
    - otherwise Spark in this process, ``BANSO_SPARK_MASTER`` (default ``local[2]``).

    Every session computes in UTC (``spark.sql.session.timeZone``): the usage definitions rely
    on it."""
    global _spark_session
    if _spark_session is None:
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise BansoError(
                _(
                    "The Spark engine needs the optional spark extra: pip install "
                    "'banso[spark]' (or uv sync --extra spark), and Java 17 or later."
                )
            ) from None

        remote = os.environ.get("SPARK_REMOTE")
        if remote:
            builder = SparkSession.builder.remote(remote)
        elif os.environ.get("PYSPARK_GATEWAY_PORT"):
            builder = SparkSession.builder  # spark-submit's master, memory and cluster
        else:
            builder = (
                SparkSession.builder.master(get_settings().spark_master)
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.sql.shuffle.partitions", "4")
                .config("spark.driver.memory", "2g")
                .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            )
        _spark_session = (
            builder.appName("banso-analytics")
            .config("spark.sql.session.timeZone", "UTC")
            .getOrCreate()
        )
        if not remote:
            _spark_session.sparkContext.setLogLevel("ERROR")
    return _spark_session


@contextmanager
def spark_errors() -> Iterator[None]:
    """Turn a failure inside Spark (PySpark's or the JVM's exceptions: a cluster out of reach, an
    executor that cannot read the files) into a BansoError: one sentence with Spark's own first
    line, instead of the log of an unexpected error."""
    try:
        yield
    except Exception as exc:
        modules = {cls.__module__.split(".")[0] for cls in type(exc).__mro__}
        if not modules & {"pyspark", "py4j"}:
            raise
        lines = str(exc).strip().splitlines()
        reason = lines[0][:300].rstrip(". ") if lines else type(exc).__name__
        raise BansoError(
            _(
                "The Spark engine failed: {reason}. Check the Spark settings (docs/spark.md) "
                "or run without --engine spark.",
                reason=reason,
            )
        ) from exc


def _connect_spark(app_db: Engine, tables: TableColumns, where: RowFilters) -> AnalyticsConnection:
    export = SparkExport.create(get_settings().home / "analytics" / "spark")
    session = spark_session()
    backend = ibis.pyspark.connect(session)
    conn = AnalyticsConnection("spark", backend)
    # the folder lives as long as the connection whose tables read it
    weakref.finalize(conn, export.release)
    for name, columns in tables.items():
        path = export_parquet(app_db, name, columns, export.path, where.get(name))
        conn.tables[name] = backend.read_parquet(str(path), table_name=name)
    return conn


class SparkExport:
    """The folder of one Spark connection's exported app tables, ``<root>/<random>``.

    Its owner holds an exclusive ``flock`` on ``<folder>.lock`` until :meth:`release` (or its
    process ends), so a new export removes only the folders of exports nobody holds any more:
    those released, or left by a process that died. A fresh folder per connection also keeps
    Spark from reusing the file listing it cached for a path.
    """

    def __init__(self, path: Path, lock: IO[bytes]) -> None:
        self.path = path
        self._lock: IO[bytes] | None = lock

    @classmethod
    def create(cls, root: Path) -> SparkExport:
        root.mkdir(parents=True, exist_ok=True)
        remove_abandoned_exports(root)
        path = root / uuid.uuid4().hex
        lock = path.with_suffix(".lock").open("wb")
        fcntl.flock(lock, fcntl.LOCK_EX)
        path.mkdir()
        return cls(path, lock)

    def release(self) -> None:
        """Delete the folder and give up the lock (the second call does nothing)."""
        if self._lock is None:
            return
        shutil.rmtree(self.path, ignore_errors=True)
        self.path.with_suffix(".lock").unlink(missing_ok=True)
        self._lock.close()
        self._lock = None


def remove_abandoned_exports(root: Path) -> list[Path]:
    """Delete the export folders under ``root`` that no live connection holds; those removed.
    (A folder without a lock file predates the locks: nothing can hold it.)"""
    removed = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        lock_path = folder.with_suffix(".lock")
        try:
            with lock_path.open("ab") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                shutil.rmtree(folder, ignore_errors=True)
                lock_path.unlink(missing_ok=True)
        except BlockingIOError:
            continue  # a report is reading it
        removed.append(folder)
    return removed


def export_parquet(
    app_db: Engine,
    name: str,
    columns: Sequence[Column[Any]],
    directory: Path,
    where: ColumnElement[bool] | None = None,
) -> Path:
    """Write these columns of app table ``name`` (its rows meeting ``where``) to
    ``directory/<name>.parquet``."""
    path = directory / f"{name}.parquet"
    pq.write_table(read_arrow(app_db, columns, where), path)
    return path


def month_dimension(first: int, last: int) -> pa.Table:
    """Months ``first..last`` (index = year*12 + month - 1) with their label and length in days."""
    import calendar

    idx, labels, days = [], [], []
    for m in range(first, last + 1):
        year, month0 = divmod(m, 12)
        idx.append(m)
        labels.append(f"{year:04d}-{month0 + 1:02d}")
        days.append(calendar.monthrange(year, month0 + 1)[1])
    return pa.table(
        {
            "month_idx": pa.array(idx, pa.int64()),
            "label": pa.array(labels, pa.string()),
            "days": pa.array(days, pa.int64()),
        }
    )


def month_index(d: date) -> int:
    """Months since year 0: ``year * 12 + month - 1`` (consecutive months differ by 1)."""
    return d.year * 12 + d.month - 1
