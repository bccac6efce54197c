"""Reading files as sent: stale Excel sizes, encodings, ¥ written as a backslash, row numbers."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from banso import db
from banso.revenue.models import Subscription

SPEC_HEADER = (
    "account_id,subscription_id,plan,start_date,end_date,amount,currency,billing_period_months"
)


def _count(model: type) -> int:
    with db.session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def stale_xlsx(path: Path, rows: list[list[object]], dimension: str) -> Path:
    """An .xlsx whose ``<dimension>`` says ``dimension`` whatever the sheet really holds, as
    written by tools that append rows without updating it."""
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    fresh = path.with_suffix(".fresh.xlsx")
    workbook.save(fresh)
    with zipfile.ZipFile(fresh) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data, count = re.subn(
                    rb'<dimension ref="[^"]*"\s*/>',
                    f'<dimension ref="{dimension}"/>'.encode(),
                    data,
                )
                assert count == 1
            out.writestr(item, data)
    fresh.unlink()
    return path


def test_xlsx_with_a_stale_dimension_imports_every_row(cli, tmp_path: Path) -> None:
    header = SPEC_HEADER.split(",")
    lines = [
        [f"K{i}", f"S{i}", "pro", "2024-04-01", None, 1000 * (i + 1), "JPY", 1] for i in range(5)
    ]
    path = stale_xlsx(tmp_path / "lines.xlsx", [header, *lines], "A1:H2")
    cli("init")
    result = cli("import", "subscriptions", str(path))
    assert result.exit_code == 0, result.stderr
    assert "(Subscriptions from import): 5 rows" in result.stdout and "5 new" in result.stdout
    with db.session_scope() as session:
        amounts = session.scalars(select(Subscription.amount).order_by(Subscription.amount)).all()
    assert amounts == [1000, 2000, 3000, 4000, 5000]


def test_xlsx_with_a_stale_dimension_reports_the_real_row_of_a_bad_cell(
    cli, tmp_path: Path
) -> None:
    header = SPEC_HEADER.split(",")
    lines = [[f"K{i}", f"S{i}", "pro", "2024-04-01", None, 1000, "JPY", 1] for i in range(4)]
    lines.append(["K9", "S9", "pro", "someday", None, 1000, "JPY", 1])
    path = stale_xlsx(tmp_path / "lines.xlsx", [header, *lines], "A1:B1")
    cli("init")
    result = cli("import", "subscriptions", str(path))
    assert result.exit_code == 2
    assert "lines.xlsx:6:start_date: not a date: someday" in result.stderr
    assert _count(Subscription) == 0


def test_a_latin1_csv_is_refused_naming_the_byte_and_its_row(cli, tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(f"{SPEC_HEADER}\nK1,S1,caf\xe9,2024-04-01,,100,JPY,1\n".encode("latin-1"))
    cli("init")
    result = cli("import", "subscriptions", str(path))
    assert result.exit_code == 2
    assert "export.csv: not UTF-8 or CP932 (byte 0xE9 at row 2)" in result.stderr
    assert "Traceback" not in result.stderr
    assert _count(Subscription) == 0


def test_a_bad_byte_deep_in_a_cp932_file_is_named_at_its_row(cli, tmp_path: Path) -> None:
    good = "".join(f"K{i},S{i},プロ,2024-04-01,,100,JPY,1\n" for i in range(3000))
    data = f"{SPEC_HEADER}\n{good}".encode("cp932") + b"K9,S9,\x85\x20,2024-04-01,,1,JPY,1\n"
    path = tmp_path / "lines.csv"
    path.write_bytes(data)
    cli("init")
    result = cli("import", "subscriptions", str(path))
    assert result.exit_code == 2
    assert "lines.csv: not UTF-8 or CP932 (byte 0x85 at row 3002)" in result.stderr


def test_encoding_refusal_in_japanese(cli, tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(f"{SPEC_HEADER}\nK1,S1,caf\xe9,2024-04-01,,100,JPY,1\n".encode("latin-1"))
    cli("init")
    result = cli("--lang", "ja", "import", "subscriptions", str(path))
    assert result.exit_code == 2
    assert "export.csv: UTF-8 でも CP932 でもありません（2 行目のバイト 0xE9）" in result.stderr


def test_utf8_with_and_without_bom_and_cp932_read_the_same(cli, tmp_path: Path) -> None:
    text = f"{SPEC_HEADER}\nK1,S1,スタンダード,2024-04-01,,29800,JPY,1\n"
    files = {
        "bom.csv": b"\xef\xbb\xbf" + text.encode(),
        "plain.csv": text.encode(),
        "sjis.csv": text.encode("cp932"),
    }
    cli("init")
    for number, (name, data) in enumerate(files.items()):
        (tmp_path / name).write_bytes(data)
        result = cli("import", "subscriptions", str(tmp_path / name), "--source", f"s{number}")
        assert result.exit_code == 0, result.stderr
    with db.session_scope() as session:
        rows = session.execute(select(Subscription.source, Subscription.plan)).all()
    assert sorted(rows) == [("s0", "スタンダード"), ("s1", "スタンダード"), ("s2", "スタンダード")]


def test_in_cp932_a_backslash_before_an_amount_is_a_yen_sign(cli, tmp_path: Path) -> None:
    text = (
        f"{SPEC_HEADER}\r\n"
        'K1,S1,プロ,2024-04-01,,"\\120,000",JPY,1\r\n'
        "K2,S2,プロ\\ライト,2024-04-01,,\\29800,JPY,1\r\n"
    )
    path = tmp_path / "請求.csv"
    path.write_bytes(text.encode("cp932"))
    cli("init")
    result = cli("import", "subscriptions", str(path))
    assert result.exit_code == 0, result.stderr
    with db.session_scope() as session:
        rows = session.execute(
            select(Subscription.external_id, Subscription.plan, Subscription.amount).order_by(
                Subscription.external_id
            )
        ).all()
    # only amounts: the plan keeps its backslash as written
    assert rows == [("S1", "プロ", 120000), ("S2", "プロ\\ライト", 29800)]


def test_in_utf8_a_backslash_before_an_amount_stays_a_problem(cli, tmp_path: Path) -> None:
    path = tmp_path / "billing.csv"
    path.write_text(f'{SPEC_HEADER}\nK1,S1,pro,2024-04-01,,"\\120,000",JPY,1\n', encoding="utf-8")
    cli("init")
    result = cli("import", "subscriptions", str(path))
    assert result.exit_code == 2
    assert "billing.csv:2:amount: not an amount of money: \\120,000" in result.stderr


def test_rows_after_a_value_spanning_lines_keep_their_line_numbers(cli, tmp_path: Path) -> None:
    path = tmp_path / "lines.csv"
    path.write_text(
        f"{SPEC_HEADER}\n"
        'K1,S1,"plan\nwritten on\nthree lines",2024-04-01,,100,JPY,1\n'
        "K2,S2,pro,2024-04-01,,lots,JPY,1\n"
        "\n"
        'K3,S3,"a ""quoted"" plan",2024-13-01,,100,JPY,1\n',
        encoding="utf-8",
    )
    cli("init")
    result = cli("import", "subscriptions", str(path))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[:2] == [
        "lines.csv:5:amount: not an amount of money: lots",
        "lines.csv:7:start_date: not a date: 2024-13-01 (use e.g. 2024-04-01)",
    ]


def test_rows_of_a_crlf_file_with_a_multiline_value_keep_their_numbers(cli, tmp_path: Path) -> None:
    path = tmp_path / "lines.csv"
    path.write_bytes(
        (
            f"{SPEC_HEADER}\r\n"
            'K1,S1,"two\r\nlines",2024-04-01,,100,JPY,1\r\n'
            "K2,S2,pro,2024-04-01,,100,JPY,1\r\n"
            "K3,S3,pro,yesterday,,100,JPY,1\r\n"
        ).encode()
    )
    cli("init")
    result = cli("import", "subscriptions", str(path))
    assert "lines.csv:5:start_date: not a date: yesterday" in result.stderr


def test_numbers_and_dates_the_database_cannot_hold_are_problems_not_crashes(
    cli, tmp_path: Path
) -> None:
    path = tmp_path / "lines.csv"
    path.write_text(
        f"{SPEC_HEADER}\n"
        "K1,S1,pro,2024-04-01,,9223372036854775808,JPY,1\n"
        "K2,S2,pro,0000-01-01,,100,JPY,3000000000\n"
        "K3,S3,pro,2024-04-01,10000-01-01,-99999999999999999999,JPY,1\n",
        encoding="utf-8",
    )
    cli("init")
    result = cli("import", "subscriptions", str(path))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[:5] == [
        "lines.csv:2:amount: 9223372036854775808 is too large"
        " (at most 9,223,372,036,854,775,807 either way)",
        "lines.csv:3:billing_period_months: 3000000000 is too large"
        " (at most 2,147,483,647 either way)",
        "lines.csv:3:start_date: not a date: 0000-01-01 (use e.g. 2024-04-01)",
        "lines.csv:4:amount: -99999999999999999999 is too large"
        " (at most 9,223,372,036,854,775,807 either way)",
        "lines.csv:4:end_date: not a date: 10000-01-01 (use e.g. 2024-04-01)",
    ]
    assert _count(Subscription) == 0


def test_an_xlsx_with_a_damaged_sheet_is_refused_with_a_reason(cli, tmp_path: Path) -> None:
    good = stale_xlsx(tmp_path / "good.xlsx", [SPEC_HEADER.split(","), ["K1", "S1"]], "A1:H2")
    path = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w") as out:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) * 2 // 3]  # cut off mid-row, as a broken download is
            out.writestr(item, data)
    cli("init")
    result = cli("import", "subscriptions", str(path))
    assert result.exit_code == 2
    assert "Error: Cannot read damaged.xlsx as Excel: " in result.stderr
    assert "Traceback" not in result.stderr


def test_rows_with_too_many_or_too_few_cells_are_each_listed_by_line(cli, tmp_path: Path) -> None:
    path = tmp_path / "lines.csv"
    path.write_text(
        f"{SPEC_HEADER}\n"
        "K1,S1,pro,2024-04-01,,100,JPY,1\n"
        'K2,S2,"pro,\nplus",2024-04-01,,100,JPY,1,extra\n'
        "K3,S3,pro,2024-04-01,,100\n",
        encoding="utf-8",
    )
    cli("init")
    result = cli("import", "subscriptions", str(path))
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "lines.csv:3:column 9: this row has 9 cells for 8 columns",
        "lines.csv:5:currency: this row has 6 cells for 8 columns",
        "Error: lines.csv: 2 problems found; nothing was imported.",
    ]


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_value_longer_than_its_column_is_a_problem_on_every_engine(
    cli, tmp_path: Path, engine: str, request: pytest.FixtureRequest
) -> None:
    if engine == "postgres":
        request.getfixturevalue("pg_url")
    path = tmp_path / "lines.csv"
    path.write_text(
        f"{SPEC_HEADER}\nK1,S1,{'p' * 201},2024-04-01,,100,JPY,1\n"
        f"{'K' * 301},S2,,2024-04-01,,1,,\n",
        encoding="utf-8",
    )
    cli("init")
    result = cli("import", "subscriptions", str(path))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[:2] == [
        "lines.csv:2:plan: longer than 200 characters (201)",
        "lines.csv:3:account_id: longer than 300 characters (301)",
    ]
    assert _count(Subscription) == 0


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_nul_character_in_a_cell_is_a_problem_on_every_engine(
    cli, tmp_path: Path, engine: str, request: pytest.FixtureRequest
) -> None:
    if engine == "postgres":
        request.getfixturevalue("pg_url")
    path = tmp_path / "lines.csv"
    path.write_bytes(f"{SPEC_HEADER}\nK1,S1,pro\x00,2024-04-01,,100,JPY,1\n".encode())
    cli("init")
    result = cli("import", "subscriptions", str(path))
    assert result.exit_code == 2
    assert "lines.csv:2:plan: contains a NUL character (byte 0x00)" in result.stderr
