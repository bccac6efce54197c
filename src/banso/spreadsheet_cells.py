"""Values written to CSV and xlsx files that people open in Excel, LibreOffice or Sheets.

A spreadsheet reads a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula, so an account named ``=HYPERLINK("http://evil.example","x")`` would run in
the reader's spreadsheet (CSV/formula injection). Every export writes its cells through
:func:`spreadsheet_cell`: such text gets a leading ``'`` and is shown as typed; numbers stay
numbers.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: object) -> object:
    """``value`` safe to put in a spreadsheet cell: text that a spreadsheet would read as a
    formula is prefixed with ``'``; numbers, dates and None are returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def spreadsheet_row(values: list[object]) -> list[object]:
    """:func:`spreadsheet_cell` of each value of a row."""
    return [spreadsheet_cell(v) for v in values]
