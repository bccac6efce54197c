"""Readers: a CSV (UTF-8 with or without BOM, or Shift_JIS/CP932), Excel .xlsx or Parquet file as
a stream of batches of cell texts, with the row number users see in their own tool.

Every column is read as text: typing is the parsers' job, so a bad cell becomes a problem with
its row and column instead of a failure of the whole read.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from banso.errors import BansoError
from banso.i18n import _

BATCH_ROWS = 1_000_000
"""Rows per batch handed to the parsers: big enough for the vectorised kernels, small enough
that a batch of wide rows stays well under a gigabyte."""
_SNIFF_BYTES = 1 << 20
_CSV_SUFFIXES = {".csv", ".tsv", ".txt"}


@dataclass(frozen=True)
class Batch:
    """Cell texts of consecutive rows; ``rows[i]`` is the file row number of record ``i``."""

    columns: dict[str, pa.Array]
    rows: pa.Array
    bytes_read: int


@dataclass
class SourceFile:
    """An open input file: its headers as written and a one-shot stream of batches."""

    path: Path
    headers: list[str]
    size: int
    batches: Iterator[Batch]
    encoding: str | None = None


def open_source(path: Path) -> SourceFile:
    """Open ``path`` by its suffix (.csv/.tsv/.txt, .xlsx, .parquet)."""
    if not path.is_file():
        raise BansoError(_("File not found: {path}", path=str(path)))
    suffix = path.suffix.lower()
    if suffix in _CSV_SUFFIXES:
        return _open_csv(path)
    if suffix in {".xlsx", ".xlsm"}:
        return _open_excel(path)
    if suffix in {".parquet", ".pq"}:
        return _open_parquet(path)
    raise BansoError(
        _(
            "Cannot read {path}: use a .csv, .xlsx or .parquet file (got {suffix}).",
            path=path.name,
            suffix=suffix or "no suffix",
        )
    )


def detect_encoding(path: Path) -> str:
    """``utf-8`` (with or without BOM) when the start of the file is valid UTF-8, else ``cp932``.

    CP932 is Microsoft's Shift_JIS, what Excel on Japanese Windows writes as "CSV"; it is a
    superset of Shift_JIS, so plain Shift_JIS files read the same.
    """
    with path.open("rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "cp932"
    return "utf-8"


def _open_csv(path: Path) -> SourceFile:
    encoding = detect_encoding(path)
    with path.open("rb") as fh:
        head = fh.read(_SNIFF_BYTES).decode(encoding, errors="replace").lstrip("\ufeff")
    first_line = head.splitlines()[0] if head.strip() else ""
    delimiter = "\t" if path.suffix.lower() == ".tsv" or "\t" in first_line else ","
    headers = next(csv.reader(io.StringIO(first_line), delimiter=delimiter), [])
    headers = [h.strip() for h in headers]
    if not any(headers):
        raise BansoError(
            _("{path} is empty: the first line must be the column headers.", path=path.name)
        )
    return SourceFile(
        path=path,
        headers=headers,
        size=path.stat().st_size,
        batches=_csv_batches(path, headers, encoding, delimiter),
        encoding=encoding,
    )


def _csv_batches(path: Path, headers: list[str], encoding: str, delimiter: str) -> Iterator[Batch]:
    names = [f"c{i}" for i in range(len(headers))]
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(
            column_names=names,
            skip_rows=1,
            encoding=encoding,
            block_size=16 << 20,
        ),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    # Row numbers count the header as line 1; a quoted value spanning lines shifts later
    # numbers by its extra lines (rare in exports, and the column still points at the cell).
    next_row = 2
    pending: list[pa.RecordBatch] = []
    pending_rows = 0
    try:
        for record_batch in reader:
            pending.append(record_batch)
            pending_rows += record_batch.num_rows
            if pending_rows >= BATCH_ROWS:
                yield _csv_batch(pending, headers, next_row, _position(path, reader))
                next_row += pending_rows
                pending, pending_rows = [], 0
    except pa.ArrowInvalid as exc:
        raise BansoError(
            _("Cannot read {path} as CSV: {reason}", path=path.name, reason=str(exc))
        ) from None
    if pending_rows:
        yield _csv_batch(pending, headers, next_row, path.stat().st_size)


def _position(path: Path, reader: pacsv.CSVStreamingReader) -> int:
    stats = getattr(reader, "stats", None)
    return int(getattr(stats, "num_bytes", 0) or 0) or path.stat().st_size // 2


def _csv_batch(pending: list[pa.RecordBatch], headers: list[str], first: int, pos: int) -> Batch:
    table = pa.Table.from_batches(pending)
    columns = {h: table.column(i).combine_chunks() for i, h in enumerate(headers) if h}
    rows = pa.array(range(first, first + table.num_rows), pa.int64())
    return Batch(columns=columns, rows=rows, bytes_read=pos)


def _open_excel(path: Path) -> SourceFile:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile/KeyError/InvalidFileException variants
        raise BansoError(
            _("Cannot read {path} as Excel: {reason}", path=path.name, reason=str(exc))
        ) from None
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header_row = 1
    headers: list[str] = []
    for header_row, cells in enumerate(rows, start=1):  # noqa: B007 - header_row is used below
        if any(c is not None and str(c).strip() for c in cells):
            headers = [_excel_text(c) or "" for c in cells]
            break
    if not headers:
        workbook.close()
        raise BansoError(
            _("{path} is empty: the first line must be the column headers.", path=path.name)
        )
    return SourceFile(
        path=path,
        headers=[h.strip() for h in headers],
        size=path.stat().st_size,
        batches=_excel_batches(workbook, rows, [h.strip() for h in headers], header_row, path),
    )


def _excel_batches(workbook, rows, headers: list[str], header_row: int, path: Path):  # type: ignore[no-untyped-def]
    cells: list[list[str | None]] = [[] for _h in headers]
    numbers: list[int] = []
    try:
        for number, values in enumerate(rows, start=header_row + 1):
            texts = [_excel_text(v) for v in values[: len(headers)]]
            if not any(t for t in texts):
                continue
            texts += [None] * (len(headers) - len(texts))
            for column, text in zip(cells, texts, strict=True):
                column.append(text)
            numbers.append(number)
    finally:
        workbook.close()
    yield Batch(
        columns={h: pa.array(c, pa.string()) for h, c in zip(headers, cells, strict=True) if h},
        rows=pa.array(numbers, pa.int64()),
        bytes_read=path.stat().st_size,
    )


def _excel_text(value: object) -> str | None:
    """An Excel cell as the text a person would type: dates ISO, whole floats without ``.0``."""
    from datetime import date, datetime

    if value is None:
        return None
    if isinstance(value, datetime):
        if value.hour == value.minute == value.second == value.microsecond == 0:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _open_parquet(path: Path) -> SourceFile:
    try:
        parquet = pq.ParquetFile(path)
    except pa.ArrowException as exc:
        raise BansoError(
            _("Cannot read {path} as Parquet: {reason}", path=path.name, reason=str(exc))
        ) from None
    headers = list(parquet.schema_arrow.names)
    return SourceFile(
        path=path,
        headers=headers,
        size=path.stat().st_size,
        batches=_parquet_batches(parquet, path),
    )


def _parquet_batches(parquet: pq.ParquetFile, path: Path) -> Iterator[Batch]:
    """Parquet has no header line: a record's row number is its 1-based position in the file."""
    next_row = 1
    total = max(parquet.metadata.num_rows, 1)
    for record_batch in parquet.iter_batches(batch_size=BATCH_ROWS):
        columns = {}
        for name, column in zip(record_batch.schema.names, record_batch.columns, strict=True):
            columns[name] = _as_text(column)
        rows = pa.array(range(next_row, next_row + record_batch.num_rows), pa.int64())
        next_row += record_batch.num_rows
        yield Batch(
            columns=columns, rows=rows, bytes_read=path.stat().st_size * (next_row - 1) // total
        )


def _as_text(column: pa.Array) -> pa.Array:
    if pa.types.is_string(column.type):
        return column
    if pa.types.is_large_string(column.type):
        return column.cast(pa.string())
    if pa.types.is_dictionary(column.type):
        return _as_text(column.cast(column.type.value_type))
    return column.cast(pa.string())
