"""The Metrics page's tables as files: CSV (UTF-8 with a BOM, so Excel reads Japanese headers
right) and Excel .xlsx.

A :class:`Sheet` holds what the page shows, headers in the request's language, each value
rounded once by the output contract (spec §9, :func:`banso.revenue.service.rounded`): money to
2 decimals of the reporting currency's major unit, rates as fractions to 6 decimals (0.75 is
75%), empty where the spec says null. In the xlsx every figure is a number: money shown with the
currency's decimals, rates with a percent format, so Excel can sum and chart them.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from babel.numbers import get_currency_precision
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from banso.i18n import _
from banso.revenue.metrics import COUNT, MONEY, RATE
from banso.revenue.service import rounded
from banso.spreadsheet_cells import spreadsheet_cell, spreadsheet_row

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
"""Export format -> media type."""

RATE_FORMAT = "0.00%"
"""Rates in Excel: the fraction, shown in percent with the page's two decimals."""


@dataclass(frozen=True)
class Column:
    header: str
    kind: str
    """money, rate, count or label (:mod:`banso.revenue.metrics`)."""


@dataclass
class Sheet:
    """One table of the page: its title, the reporting currency, columns and rounded rows."""

    title: str
    currency: str
    columns: list[Column]
    rows: list[list[Any]]


def sheet(
    title: str,
    currency: str,
    columns: Sequence[tuple[str, str, str]],
    rows: Sequence[Mapping[str, Any]],
) -> Sheet:
    """Exact report ``rows`` as a sheet of ``columns`` (key, English label, kind): headers
    translated (money headers name the currency), values rounded once."""
    return Sheet(
        title=title,
        currency=currency,
        columns=[
            Column(f"{_(label)} ({currency})" if kind == MONEY else _(label), kind)
            for _key, label, kind in columns
        ],
        rows=[[_plain(r[key]) for key, _label, _kind in columns] for r in map(rounded, rows)],
    )


def sheet_csv(table: Sheet) -> bytes:
    """The sheet as CSV: a BOM, the header line, one line per row; nulls are empty cells."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(spreadsheet_row([c.header for c in table.columns]))
    writer.writerows([spreadsheet_row(["" if v is None else v for v in row]) for row in table.rows])
    return out.getvalue().encode("utf-8")


def sheet_xlsx(table: Sheet) -> bytes:
    """The sheet as an Excel workbook of one worksheet: a bold, frozen header row, numbers as
    numbers with the currency's decimals or a percent format, nulls as empty cells."""
    book = Workbook()
    ws = book.active
    ws.title = _sheet_title(table.title)
    ws.append([_xlsx_value(v) for v in (c.header for c in table.columns)])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    formats = [_number_format(c.kind, table.currency) for c in table.columns]
    for row in table.rows:
        ws.append([_xlsx_value(v) for v in row])
        for cell, number_format in zip(ws[ws.max_row], formats, strict=True):
            if number_format is not None and cell.value is not None:
                cell.number_format = number_format
    for index, column in enumerate(table.columns, start=1):
        width = max(_display_width(column.header), 10) + 2
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "B2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_value(value: Any) -> Any:
    """A cell value openpyxl writes as it is: no formula (:func:`spreadsheet_cell`), and no
    control characters, which the xlsx format cannot hold."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    return spreadsheet_cell(value)


def _plain(value: Any) -> Any:
    """A rounded value as the file holds it: 110000 rather than 110000.0."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _number_format(kind: str, currency: str) -> str | None:
    if kind == MONEY:
        digits = get_currency_precision(currency)
        return "#,##0" + ("." + "0" * digits if digits else "")
    if kind == RATE:
        return RATE_FORMAT
    if kind == COUNT:
        return "#,##0"
    return None


def _sheet_title(title: str) -> str:
    """Excel's limits on a worksheet name: at most 31 characters, none of ``[]:*?/\\``."""
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in title)
    return cleaned[:31]


def _display_width(text: str) -> int:
    """Columns a header takes in Excel: wide (kanji, kana) characters count twice."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
