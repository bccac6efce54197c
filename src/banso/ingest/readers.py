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

from banso.errors import BansoError, ImportProblem, ImportRejected
from banso.i18n import _, ngettext

BATCH_ROWS = 1_000_000
"""Rows per batch handed to the parsers: big enough for the vectorised kernels, small enough
that a batch of wide rows stays well under a gigabyte."""
_SNIFF_BYTES = 1 << 20
_DECODE_CHUNK = 16 << 20
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
    """``utf-8`` (with or without BOM) or ``cp932``, checked over the whole file.

    CP932 is Microsoft's Shift_JIS, what Excel on Japanese Windows writes as "CSV"; it is a
    superset of Shift_JIS, so plain Shift_JIS files read the same. A file that is neither (a
    Latin-1 export, a binary file) is refused naming the first byte that fits neither, with its
    line, rather than failing halfway through the read.
    """
    utf8_error = _first_undecodable(path, "utf-8")
    if utf8_error is None:
        return "utf-8"
    cp932_error = _first_undecodable(path, "cp932")
    if cp932_error is None:
        return "cp932"
    # the encoding that read further is what the file most likely is: its bad byte is the news
    offset = max(utf8_error, cp932_error)
    with path.open("rb") as fh:
        before = fh.read(offset)
        byte = fh.read(1)
    raise BansoError(
        _(
            "{file}: not UTF-8 or CP932 (byte 0x{byte} at row {row})",
            file=path.name,
            byte=byte.hex().upper(),
            row=before.count(b"\n") + 1,
        )
    )


def _first_undecodable(path: Path, encoding: str) -> int | None:
    """Offset of the first byte of ``path`` that ``encoding`` cannot decode, or ``None``."""
    decoder = codecs.getincrementaldecoder(encoding)()
    position = 0
    with path.open("rb") as fh:
        while chunk := fh.read(_DECODE_CHUNK):
            pending = len(decoder.getstate()[0])
            if not pending and chunk.isascii():  # most exports: ASCII decodes alike in both
                position += len(chunk)
                continue
            try:
                decoder.decode(chunk, final=False)
            except UnicodeDecodeError as exc:
                return position - pending + exc.start
            position += len(chunk)
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            return position - pending + exc.start
    return None


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
    try:
        yield from _arrow_csv_batches(path, headers, encoding, delimiter)
    except pa.ArrowInvalid as exc:  # raised from the first block read as well as later ones
        if "columns, got" in str(exc):
            problems = _cell_count_problems(path, headers, encoding, delimiter)
            if problems:
                raise ImportRejected(
                    problems,
                    ngettext(
                        "{file}: {n} problem found; nothing was imported.",
                        "{file}: {n} problems found; nothing was imported.",
                        len(problems),
                        file=path.name,
                    ),
                ) from None
        raise BansoError(
            _("Cannot read {path} as CSV: {reason}", path=path.name, reason=str(exc))
        ) from None


def _cell_count_problems(
    path: Path, headers: list[str], encoding: str, delimiter: str
) -> list[ImportProblem]:
    """Every record with more or fewer cells than the header, by the line it starts on (Arrow
    stops at the first and cannot say where it is); named by the first missing or extra column."""
    problems: list[ImportProblem] = []
    for line, record in _records_by_line(path, encoding, delimiter):
        if len(record) != len(headers):
            column = (
                headers[len(record)]
                if len(record) < len(headers)
                else _("column {number}", number=len(headers) + 1)
            )
            reason = _(
                "this row has {cells} cells for {columns} columns",
                cells=len(record),
                columns=len(headers),
            )
            problems.append(ImportProblem(path.name, line, column, reason))
    return problems


def _records_by_line(path: Path, encoding: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """Each record after the header with the line it starts on, read by Python's csv module
    the way Arrow reads it (blank lines skipped); stops quietly where csv finds the text
    unreadable, as Arrow then refuses it too."""
    previous_end = 1
    limit = csv.field_size_limit()
    csv.field_size_limit(1 << 30)
    try:
        with path.open(encoding=encoding, newline="") as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            next(reader, None)
            previous_end = reader.line_num
            for record in reader:
                if record:  # the csv module reads a blank line as []
                    yield previous_end + 1, record
                previous_end = reader.line_num
    except csv.Error:
        return
    finally:
        csv.field_size_limit(limit)


def _arrow_csv_batches(
    path: Path, headers: list[str], encoding: str, delimiter: str
) -> Iterator[Batch]:
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
    # Row numbers are the line each record starts on in the file (the header is line 1), as an
    # editor shows them: records are one line each unless a quoted value spans lines or blank
    # lines are skipped, and only then are the starts counted record by record.
    starts = _record_start_lines(path, encoding, delimiter)
    next_record = 0
    pending: list[pa.RecordBatch] = []
    pending_rows = 0
    for record_batch in reader:
        pending.append(record_batch)
        pending_rows += record_batch.num_rows
        if pending_rows >= BATCH_ROWS:
            yield _csv_batch(pending, headers, starts, next_record, _position(path, reader))
            next_record += pending_rows
            pending, pending_rows = [], 0
    if pending_rows:
        yield _csv_batch(pending, headers, starts, next_record, path.stat().st_size)


def _record_start_lines(path: Path, encoding: str, delimiter: str) -> list[int] | None:
    """The line each record (after the header) starts on, or ``None`` when record ``i`` simply
    starts on line ``i + 2``: no line holds an odd number of quotes and none is blank."""
    if not _has_multiline_records_or_blank_lines(path):
        return None
    return [line for line, _record in _records_by_line(path, encoding, delimiter)]


def _has_multiline_records_or_blank_lines(path: Path) -> bool:
    carry = b""
    with path.open("rb") as fh:
        while chunk := fh.read(_DECODE_CHUNK):
            text = carry + chunk
            cut = text.rfind(b"\n") + 1
            text, carry = text[:cut], text[cut:]
            if not text and len(carry) > _DECODE_CHUNK:  # no line feed at all (old Mac \r)
                return b'"' in carry
            if b"\n\n" in text or b"\n\r\n" in text:
                return True
            if _line_with_odd_quotes(text):
                return True
    return carry.count(b'"') % 2 == 1


def _position(path: Path, reader: pacsv.CSVStreamingReader) -> int:
    stats = getattr(reader, "stats", None)
    return int(getattr(stats, "num_bytes", 0) or 0) or path.stat().st_size // 2


def _line_with_odd_quotes(text: bytes) -> bool:
    """Whether a line of ``text`` holds an odd number of quotes (a value that goes on to the next
    line), looking only at lines with a quote: exports often quote just their header."""
    quote = text.find(b'"')
    while quote != -1:
        start = text.rfind(b"\n", 0, quote) + 1
        end = text.find(b"\n", quote)
        end = len(text) if end == -1 else end
        if text.count(b'"', start, end) % 2:
            return True
        quote = text.find(b'"', end)
    return False


def _csv_batch(
    pending: list[pa.RecordBatch], headers: list[str], starts: list[int] | None, first: int,
    pos: int,
) -> Batch:  # fmt: skip
    table = pa.Table.from_batches(pending)
    columns = {h: table.column(i).combine_chunks() for i, h in enumerate(headers) if h}
    count = table.num_rows
    if starts is None:
        rows = pa.array(range(first + 2, first + 2 + count), pa.int64())
    else:
        known = starts[first : first + count]
        after = known[-1] if known else (starts[-1] if starts else 1)
        known += range(after + 1, after + 1 + count - len(known))
        rows = pa.array(known, pa.int64())
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
    # Read-only mode stops at the size the file declares in <dimension>, which writers other
    # than Excel often leave stale (rows appended later were silently dropped): forget it and
    # walk every row the sheet holds.
    sheet.reset_dimensions()
    rows = _readable_rows(sheet.iter_rows(values_only=True), path)
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


def _readable_rows(rows: Iterator[tuple[object, ...]], path: Path) -> Iterator[tuple[object, ...]]:
    """The sheet's rows, parsed as they are read; damaged sheet XML is refused, not a crash."""
    try:
        yield from rows
    except Exception as exc:  # openpyxl passes on its XML parser's and zipfile's errors
        raise BansoError(
            _("Cannot read {path} as Excel: {reason}", path=path.name, reason=str(exc))
        ) from None


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
