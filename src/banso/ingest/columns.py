"""Vectorised parsing of one column of cell texts into typed Arrow arrays.

The common, clean case (ISO dates, plain integers, ISO timestamps) is parsed by Arrow compute
kernels over the whole column; only the cells that fail it go through the forgiving Python
parsers in ``values.py``. A cell that fails both becomes a problem ``(index, reason)`` and a
null in the result, so one pass reports every bad cell of the file.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from enum import StrEnum
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc

from banso.ingest import values

CellProblems = list[tuple[int, str]]
"""``(index in the column, translated reason)`` for every cell that could not be read."""


class ValueType(StrEnum):
    """What a column holds; decides its parser and its Arrow type."""

    TEXT = "text"
    DATE = "date"
    DATETIME = "datetime"
    INTEGER = "integer"
    AMOUNT = "amount"
    CURRENCY = "currency"
    EMAIL = "email"
    JSON = "json"
    CHOICE = "choice"


_ARROW_TYPES: dict[ValueType, pa.DataType] = {
    ValueType.TEXT: pa.string(),
    ValueType.DATE: pa.date32(),
    ValueType.DATETIME: pa.timestamp("us", tz="UTC"),
    ValueType.INTEGER: pa.int64(),
    ValueType.AMOUNT: pa.int64(),
    ValueType.CURRENCY: pa.string(),
    ValueType.EMAIL: pa.string(),
    ValueType.JSON: pa.string(),
    ValueType.CHOICE: pa.string(),
}
# Up to 9 (18) digits always fit the database's 32-bit integers (64-bit amounts); longer ones go
# to the Python parsers, which check the range.
_INTEGER = r"^[+-]?[0-9]{1,9}$"
_AMOUNT = r"^[+-]?[0-9]{1,18}$"
_ISO_OFFSET = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$"
_ISO_NAIVE = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?)?$"


def blank_to_null(column: pa.Array) -> pa.Array:
    """Cell texts with surrounding white space removed and blank cells as nulls."""
    trimmed = pc.utf8_trim_whitespace(column)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def parse_column(
    column: pa.Array,
    value_type: ValueType,
    *,
    tz: ZoneInfo,
    choices: dict[str, str] | None = None,
    backslash_is_yen: bool = False,
) -> tuple[pa.Array, CellProblems]:
    """``column`` (strings, blanks already null) as ``value_type``; bad cells become problems.

    ``backslash_is_yen``: the file was CP932, so an amount written ``\\120,000`` is ¥120,000.
    """
    if value_type is ValueType.TEXT:
        return column, []
    if value_type is ValueType.DATE:
        iso = pc.match_substring_regex(column, r"^\d{4}-\d{2}-\d{2}$")
        fast = _strict_cast(pc.if_else(iso, column, pa.scalar(None, pa.string())), pa.date32())
        fast = pc.if_else(_within_calendar(fast), fast, pa.scalar(None, pa.date32()))
        return _with_fallback(column, fast, values.parse_date, pa.date32())
    if value_type is ValueType.DATETIME:
        return _parse_timestamps(column, tz)
    if value_type in (ValueType.INTEGER, ValueType.AMOUNT):
        ok = pc.match_substring_regex(
            column, _INTEGER if value_type is ValueType.INTEGER else _AMOUNT
        )
        fast = pc.cast(pc.if_else(ok, column, pa.scalar(None, pa.string())), pa.int64())
        slow: Callable[[str], int] = values.parse_integer
        if value_type is ValueType.AMOUNT:
            slow = partial(values.parse_amount, backslash_is_yen=backslash_is_yen)
        return _with_fallback(column, fast, slow, pa.int64())
    if value_type is ValueType.CURRENCY:
        ok = pc.match_substring_regex(column, r"^[A-Z]{3}$")
        fast = pc.if_else(ok, column, pa.scalar(None, pa.string()))
        return _with_fallback(column, fast, values.parse_currency, pa.string())
    if value_type is ValueType.EMAIL:
        return _python_column(column, values.parse_email, pa.string())
    if value_type is ValueType.JSON:
        return _parse_json(column)
    if value_type is ValueType.CHOICE:
        assert choices is not None
        table = choices

        def choose(text: str) -> str:
            return values.parse_choice(text, table)

        return _python_column(column, choose, pa.string())
    raise AssertionError(value_type)


def arrow_type(value_type: ValueType) -> pa.DataType:
    return _ARROW_TYPES[value_type]


def _within_calendar(column: pa.Array) -> pa.Array:
    """Whether each date or timestamp lies in years 1-9999, the only ones Python (and so the
    database drivers) can hold; Arrow also reads year 0 or 10000, which the slow parsers refuse
    with a reason. A day of margin keeps time-zone conversions inside too."""
    if pa.types.is_timestamp(column.type):
        low = pa.scalar(datetime(1, 1, 2), pa.timestamp("us")).cast(column.type)
        high = pa.scalar(datetime(9999, 12, 30), pa.timestamp("us")).cast(column.type)
    else:
        low, high = (
            pa.scalar(date(1, 1, 2), column.type),
            pa.scalar(date(9999, 12, 30), column.type),
        )
    return pc.and_kleene(pc.greater_equal(column, low), pc.less_equal(column, high))


def _strict_cast(column: pa.Array, out_type: pa.DataType) -> pa.Array:
    """Arrow's strict cast (it refuses 2024-02-30); when any cell fails, all go the slow way."""
    try:
        return pc.cast(column, out_type)
    except pa.ArrowInvalid:
        return pa.nulls(len(column), out_type)


def _with_fallback(
    column: pa.Array, fast: pa.Array, slow: Callable[[str], Any], out_type: pa.DataType
) -> tuple[pa.Array, CellProblems]:
    """Keep ``fast`` where it read the cell; run ``slow`` on the cells it missed."""
    missed = pc.and_(pc.is_valid(column), pc.is_null(fast))
    indices = pc.indices_nonzero(missed).to_pylist()
    if not indices:
        return fast, []
    result = fast.to_pylist()
    texts = column.take(pa.array(indices)).to_pylist()
    problems: CellProblems = []
    for index, text in zip(indices, texts, strict=True):
        try:
            result[index] = slow(text)
        except ValueError as exc:
            problems.append((index, str(exc)))
    return pa.array(result, out_type), problems


def _python_column(
    column: pa.Array, parse: Callable[[str], Any], out_type: pa.DataType
) -> tuple[pa.Array, CellProblems]:
    """Columns that are small in practice (e-mails, choices): parse every distinct text once."""
    distinct = pc.unique(column).to_pylist()
    parsed: dict[str, Any] = {}
    reasons: dict[str, str] = {}
    for text in distinct:
        if text is None:
            continue
        try:
            parsed[text] = parse(text)
        except ValueError as exc:
            reasons[text] = str(exc)
    texts = column.to_pylist()
    problems = [(i, reasons[t]) for i, t in enumerate(texts) if t in reasons]
    return pa.array([parsed.get(t) if t is not None else None for t in texts], out_type), problems


def _parse_timestamps(column: pa.Array, tz: ZoneInfo) -> tuple[pa.Array, CellProblems]:
    out_type = pa.timestamp("us", tz="UTC")
    try:
        clean = pc.cast(column, out_type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass  # not all clean ISO: the cell-by-cell path below parses and reports each cell
    else:
        if pc.all(_within_calendar(clean)).as_py() is not False:
            return clean, []
    null = pa.scalar(None, pa.string())
    with_offset = pc.match_substring_regex(column, _ISO_OFFSET)
    naive = pc.match_substring_regex(column, _ISO_NAIVE)
    aware = _strict_cast(pc.if_else(with_offset, column, null), out_type)
    local = pc.assume_timezone(
        _strict_cast(pc.if_else(naive, column, null), pa.timestamp("us")),
        timezone=tz.key,
        ambiguous="earliest",
        nonexistent="earliest",
    )
    fast = pc.coalesce(aware, pc.cast(local, out_type))
    fast = pc.if_else(_within_calendar(fast), fast, pa.scalar(None, out_type))

    def slow(text: str) -> Any:
        return values.parse_datetime(text, tz)

    return _with_fallback(column, fast, slow, out_type)


def _parse_json(column: pa.Array) -> tuple[pa.Array, CellProblems]:
    """JSON objects, checked by DuckDB's vectorised parser; a bad cell is explained in Python."""
    import duckdb

    if column.null_count == len(column):
        return column, []
    con = duckdb.connect()
    try:
        props = pa.table({"p": column})
        con.register("props", props)
        ok = con.sql(
            "SELECT p IS NULL OR coalesce(CASE WHEN json_valid(p) THEN json_type(p) = 'OBJECT' END,"
            " false) AS ok FROM props"
        ).to_arrow_table()["ok"]
    finally:
        con.close()
    ok = ok.combine_chunks() if isinstance(ok, pa.ChunkedArray) else ok
    fast = pc.if_else(ok, column, pa.scalar(None, pa.string()))
    return _with_fallback(column, fast, values.parse_json_object, pa.string())
