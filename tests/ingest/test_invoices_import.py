"""`banso import invoices`: a billing export with Japanese headers and values, re-imported
without duplicates; bad rows named by file, row and column, nothing written."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from banso import db
from banso.invoices.models import Invoice


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_a_billing_export_in_japanese_is_imported_once(cli, tmp_path: Path) -> None:
    path = _write(
        tmp_path / "請求書.csv",
        "請求書ID,取引先ID,会社名,請求書番号,入金状況,請求金額,入金額,請求日,支払期日,入金日\n"
        'INV-1,C-1,アルファ株式会社,A-0001,入金済み,"330,000円",330000,2026/10/01,2026/10/31,'
        "2026-10-20 10:00\n"
        "INV-2,C-1,アルファ株式会社,A-0002,未払い,330000,0,令和8年11月1日,2026-11-30,\n",
        "cp932",
    )
    cli("init")
    first = cli("import", "invoices", str(path), "--source", "billing")
    assert first.exit_code == 0, first.stderr
    assert "2 new, 0 updated, 0 unchanged" in first.stdout
    with db.session_scope() as session:
        rows = session.execute(
            select(Invoice.external_id, Invoice.number, Invoice.status, Invoice.amount_due,
                   Invoice.amount_paid, Invoice.currency, Invoice.issued_on, Invoice.due_date,
                   Invoice.paid_at.is_not(None)).order_by(Invoice.external_id)
        ).all()  # fmt: skip
    assert [tuple(r) for r in rows] == [
        ("INV-1", "A-0001", "paid", 330000, 330000, "JPY", date(2026, 10, 1),
         date(2026, 10, 31), True),
        ("INV-2", "A-0002", "open", 330000, 0, "JPY", date(2026, 11, 1), date(2026, 11, 30),
         False),
    ]  # fmt: skip
    again = cli("import", "invoices", str(path), "--source", "billing")
    assert "0 new, 0 updated, 2 unchanged" in again.stdout


def test_bad_invoice_rows_are_named_and_nothing_is_written(cli, tmp_path: Path) -> None:
    path = _write(
        tmp_path / "inv.csv",
        "invoice_id,account_id,status,amount_due,amount_paid,issued_on,due_date,attempts\n"
        "I-1,C-1,open,100,0,2026-11-01,2026-11-30,0\n"
        "I-2,C-1,refunded,100,0,2026-11-01,,\n"
        "I-3,C-1,paid,-1,0,2026-11-01,,\n"
        "I-4,C-1,open,100,0,2026-11-01,2026-10-01,\n"
        "I-5,C-1,open,100,0,,,-2\n",
    )
    cli("init")
    result = cli("import", "invoices", str(path))
    assert result.exit_code != 0
    for expected in ("inv.csv:3:status: unknown value refunded",
                     "inv.csv:4:amount_due: amount_due must be 0 or more, got -1",
                     "inv.csv:5:due_date: due_date is before issued_on (2026-11-01)",
                     "inv.csv:6:issued_on:"):  # fmt: skip
        assert expected in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    with db.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Invoice)) == 0
