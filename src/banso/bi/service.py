"""The BI surface: the views of :mod:`banso.bi.views` exported as files (Parquet, CSV or
Excel; incremental: a view whose rows did not change since the last export into the same
directory is not written again, the state kept in the directory), written into a DuckDB
database file, or into the PostgreSQL schema ``banso_bi``, so Tableau, Metabase or Power BI
connect with their own drivers.

Plain functions over a ``Session``; they only read the app database. Every file is written
whole or not at all; the PostgreSQL schemas are replaced in one transaction.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from openpyxl import Workbook
from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Float,
    MetaData,
    Numeric,
    Table,
    Text,
    create_engine,
    text,
)  # fmt: skip
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from banso.bi.views import VIEWS, View
from banso.errors import BansoError, check_format
from banso.i18n import _

FORMATS = ("parquet", "csv", "xlsx")
STATE_FILE = ".banso-bi-state.json"
"""In the export directory: per view, the fingerprint of its rows at the last export."""
PG_SCHEMA = "banso_bi"
"""The schema of the views BI tools read."""
PG_DATA_SCHEMA = "banso_bi_data"
"""The tables under the views (replaced whole by each ``banso bi postgres``)."""
EXCEL_MAX_ROWS = 1_048_575
"""An Excel sheet holds 1,048,576 rows, the header included."""

Advance = Callable[[int], None]


@dataclass(frozen=True)
class ViewExport:
    view: str
    rows: int
    written: bool
    """False when the view's rows were the same as at the last export (file kept)."""


def export(
    session: Session, directory: Path, fmt: str, *, advance: Advance = lambda _n: None
) -> list[ViewExport]:
    """Every view as ``directory/<view>.<fmt>``, only those whose rows changed since the last
    export of that format into ``directory`` (all of them the first time)."""
    check_format(fmt, FORMATS)
    directory.mkdir(parents=True, exist_ok=True)
    state = _read_state(directory)
    previous = state.get(fmt, {}) if isinstance(state.get(fmt), dict) else {}
    done = []
    for view in VIEWS:
        table = view.rows(session)
        fingerprint = _fingerprint(table)
        path = directory / f"{view.name}.{fmt}"
        known = previous.get(view.name, {}).get("fingerprint")
        write = known != fingerprint or not path.exists()
        if write:
            _write_whole(path, _encode(table, fmt, view.name))
            previous[view.name] = {
                "fingerprint": fingerprint,
                "rows": table.num_rows,
                "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
        done.append(ViewExport(view.name, table.num_rows, write))
        advance(1)
    state[fmt] = previous
    _write_whole(directory / STATE_FILE, json.dumps(state, indent=2).encode("utf-8"))
    return done


def write_duckdb(session: Session, path: Path, *, advance: Advance = lambda _n: None) -> int:
    """A DuckDB database file at ``path`` (replaced whole) with one view per BI view in schema
    ``main`` over its rows in schema ``bi_data``; the number of views."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    os.unlink(temporary)  # DuckDB creates the file itself
    try:
        with duckdb.connect(temporary) as con:
            con.execute("CREATE SCHEMA bi_data")
            for view in VIEWS:
                con.register("view_rows", view.rows(session))
                con.execute(f'CREATE TABLE bi_data."{view.name}" AS SELECT * FROM view_rows')
                con.unregister("view_rows")
                con.execute(_view_sql(view, "main", "bi_data"))
                advance(1)
        Path(temporary).chmod(_readable_mode())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return len(VIEWS)


def write_postgres(session: Session, url: str, *, advance: Advance = lambda _n: None) -> int:
    """The views in PostgreSQL schema ``banso_bi`` over tables in ``banso_bi_data`` of the
    database at ``url``, both schemas replaced in one transaction; the number of views."""
    if not url.startswith("postgresql"):
        raise BansoError(
            _("banso bi postgres needs a PostgreSQL URL (postgresql+psycopg://…), not {url}.",
              url=url.split(":", 1)[0])
        )  # fmt: skip
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
            conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_DATA_SCHEMA} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {PG_DATA_SCHEMA}"))
            conn.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
            for view in VIEWS:
                _copy_to_postgres(conn, view, view.rows(session))
                conn.execute(text(_view_sql(view, PG_SCHEMA, PG_DATA_SCHEMA)))
                advance(1)
    finally:
        engine.dispose()
    return len(VIEWS)


# ---------------------------------------------------------------- helpers


def _view_sql(view: View, schema: str, data_schema: str) -> str:
    columns = ", ".join(f'"{name}"' for name in view.schema.names)
    return (
        f'CREATE VIEW {schema}."{view.name}" AS SELECT {columns} FROM {data_schema}."{view.name}"'
    )


def _sql_type(arrow: pa.DataType) -> TypeEngine[Any]:
    if pa.types.is_integer(arrow):
        return BigInteger()
    if pa.types.is_floating(arrow):
        return Float()
    if pa.types.is_decimal(arrow):
        return Numeric(arrow.precision, arrow.scale)
    if pa.types.is_date(arrow):
        return Date()
    if pa.types.is_timestamp(arrow):
        return DateTime(timezone=True)
    return Text()


def _copy_to_postgres(conn: Connection, view: View, rows: pa.Table) -> None:
    table = Table(
        view.name,
        MetaData(schema=PG_DATA_SCHEMA),
        *(Column(f.name, _sql_type(f.type)) for f in view.schema),
    )
    table.create(conn)
    for batch in rows.to_batches(max_chunksize=5000):
        records = batch.to_pylist()
        if records:
            conn.execute(table.insert(), records)


def _fingerprint(table: pa.Table) -> str:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue()).hexdigest()


def _encode(table: pa.Table, fmt: str, name: str) -> bytes:
    out = io.BytesIO()
    if fmt == "parquet":
        pq.write_table(table, out)
    elif fmt == "csv":
        out.write(b"\xef\xbb\xbf")  # UTF-8 with a BOM: Excel on Japanese Windows reads it right
        pacsv.write_csv(table, out)
    else:
        if table.num_rows > EXCEL_MAX_ROWS:
            raise BansoError(
                _("View {view} has {rows} rows, more than an Excel sheet holds; export it as "
                  "parquet or csv.", view=name, rows=table.num_rows)
            )  # fmt: skip
        book = Workbook(write_only=True)
        sheet = book.create_sheet(name)
        sheet.append(table.schema.names)
        for record in table.to_pylist():
            sheet.append([_excel_value(v) for v in record.values()])
        book.save(out)
    return out.getvalue()


def _excel_value(value: Any) -> Any:
    # Excel has no time zones: timestamps are written as UTC wall-clock times (docs/bi.md)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def _read_state(directory: Path) -> dict[str, Any]:
    path = directory / STATE_FILE
    if not path.exists():
        return {}
    try:
        loaded = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise BansoError(
            _("{path}: not a BI export state file ({reason}); remove it to export everything.",
              path=path, reason=exc)
        ) from exc  # fmt: skip
    return loaded if isinstance(loaded, dict) else {}


def _write_whole(path: Path, content: bytes) -> None:
    with _temporary_beside(path) as temporary:
        temporary.write_bytes(content)
        temporary.chmod(_readable_mode())
        os.replace(temporary, path)


def _readable_mode() -> int:
    """rw-rw-rw- less the umask, as an ordinary file (a temporary file is private)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextmanager
def _temporary_beside(path: Path) -> Iterator[Path]:
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(handle)
    try:
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)
