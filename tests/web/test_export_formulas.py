"""Exports never hand a spreadsheet a formula: text that starts like one is written with a
leading ``'``; numbers stay numbers (CSV/formula injection)."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from banso.accounts.models import Account
from banso.db import session_scope
from banso.revenue.export import Column, Sheet, sheet_csv, sheet_xlsx
from banso.spreadsheet_cells import spreadsheet_cell
from web.world import World

HOSTILE = [
    '=HYPERLINK("http://evil.example","x")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "-2+3",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_text_that_starts_like_a_formula_gets_a_quote(text: str) -> None:
    assert spreadsheet_cell(text) == "'" + text


def test_other_values_are_unchanged() -> None:
    assert spreadsheet_cell("株式会社山田製作所") == "株式会社山田製作所"
    assert spreadsheet_cell("a=b") == "a=b"
    assert spreadsheet_cell(-5) == -5 and spreadsheet_cell(-0.25) == -0.25
    assert spreadsheet_cell(None) is None and spreadsheet_cell("") == ""


def test_accounts_csv_neutralises_hostile_names(
    client: TestClient,
    sign_in,  # type: ignore[no-untyped-def]
    world: World,
) -> None:
    with session_scope() as s:
        for i, name in enumerate(HOSTILE):
            s.add(Account(name=name, normalized_name=f"hostile{i}", domain=f"-h{i}.example"))
    sign_in("viewer")
    response = client.get("/accounts/export.csv", params={"q": "hostile"})
    rows = list(csv.reader(io.StringIO(response.text.removeprefix("\ufeff"))))
    names = {r[0] for r in rows[1:]}
    assert {"'" + n for n in HOSTILE} <= names
    yamada = client.get("/accounts/export.csv", params={"q": "山田"}).text
    row = next(csv.reader(io.StringIO(yamada.removeprefix("\ufeff").splitlines()[1])))
    assert row[0] == "株式会社山田製作所" and row[9] == "130000"


def test_metrics_sheets_neutralise_text_and_keep_numbers() -> None:
    table = Sheet(
        title="t",
        currency="JPY",
        columns=[Column("=label", "label"), Column("MRR (JPY)", "money")],
        rows=[["@month", -120000], ["+x", 5]],
    )
    lines = sheet_csv(table).decode("utf-8").removeprefix("\ufeff").splitlines()
    assert lines == ["'=label,MRR (JPY)", "'@month,-120000", "'+x,5"]
    ws = load_workbook(io.BytesIO(sheet_xlsx(table))).active
    assert [[c.value for c in row] for row in ws.iter_rows()] == [
        ["'=label", "MRR (JPY)"],
        ["'@month", -120000],
        ["'+x", 5],
    ]
    assert ws["A2"].data_type == "s" and ws["B2"].data_type == "n"


def test_xlsx_drops_control_characters_instead_of_failing() -> None:
    table = Sheet("t", "JPY", [Column("Name", "label")], [["bad\x01name"]])
    ws = load_workbook(io.BytesIO(sheet_xlsx(table))).active
    assert ws["A2"].value == "badname"
