"""`banso import deals`: a CRM's opportunity export with Japanese headers and values, the owner
kept as given and linked to the team member it names, amounts in the minor unit, re-imported
without duplicates; a bad row names its file, row and column and writes nothing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from banso import db
from banso.accounts.models import Account
from banso.deals.models import Deal


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _deals() -> list[tuple]:
    with db.session_scope() as session:
        return [tuple(r) for r in session.execute(
            select(Deal.external_id, Deal.name, Deal.stage, Deal.status, Deal.amount,
                   Deal.currency, Deal.close_date, Deal.deal_type, Deal.owner,
                   Deal.owner_id.is_not(None))
            .order_by(Deal.external_id)
        )]  # fmt: skip


def test_an_opportunity_export_in_japanese_is_imported_once(cli, tmp_path: Path) -> None:
    team = _write(tmp_path / "team.csv", "name,email\n佐藤 花子,sato@vendor.example\n")
    deals = _write(
        tmp_path / "商談.csv",
        "商談ID,取引先ID,会社名,商談名,フェーズ,結果,金額,通貨,完了予定日,種別,営業担当\n"
        'D-1,C-1,アルファ株式会社,追加ライセンス,提案,商談中,"1,200,000円",,2026/12/20,アップセル,'
        "sato@vendor.example\n"
        "D-2,C-1,アルファ株式会社,更新,受注,受注,600000,JPY,令和8年11月30日,更新,佐藤 花子\n"
        "D-3,C-2,ベータ合同会社,新規,失注,失注,120050,USD,2026-10-01,新規,\n",
        "cp932",
    )
    cli("init")
    assert cli("import", "team", str(team)).exit_code == 0
    first = cli("import", "deals", str(deals), "--source", "crm")
    assert first.exit_code == 0, first.stderr
    assert "3 new, 0 updated, 0 unchanged" in first.stdout
    assert _deals() == [
        ("D-1", "追加ライセンス", "提案", "open", 1200000, "JPY", date(2026, 12, 20), "アップセル",
         "sato@vendor.example", True),
        ("D-2", "更新", "受注", "won", 600000, "JPY", date(2026, 11, 30), "更新", "佐藤 花子",
         True),
        ("D-3", "新規", "失注", "lost", 120050, "USD", date(2026, 10, 1), "新規", None, False),
    ]  # fmt: skip
    with db.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 2
    again = cli("import", "deals", str(deals), "--source", "crm")
    assert "0 new, 0 updated, 3 unchanged" in again.stdout
    with db.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Deal)) == 3


def test_bad_deal_rows_are_named_and_nothing_is_written(cli, tmp_path: Path) -> None:
    deals = _write(
        tmp_path / "deals.csv",
        "deal_id,account_id,status,amount,owner\n"
        "D-1,C-1,open,1000,\n"
        "D-2,C-1,maybe,1000,\n"
        "D-3,C-1,won,-5,\n"
        "D-4,C-1,won,12.50,\n"
        "D-5,C-1,open,10,nobody@vendor.example\n"
        "D-1,C-1,open,10,\n",
    )
    cli("init")
    result = cli("import", "deals", str(deals))
    assert result.exit_code != 0
    for expected in ("deals.csv:3:status:", "deals.csv:4:amount: amount must be 0 or more",
                     "deals.csv:5:amount: amount must be a whole number in the currency's minor",
                     "deals.csv:7:deal_id: D-1 appears twice"):  # fmt: skip
        assert expected in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    # an owner who is not on the team (a sales rep, someone who left) is kept as given
    owners = _write(tmp_path / "owners.csv", "deal_id,account_id,status,owner\n"
                    "D-1,C-1,open,\nD-5,C-1,open,rep@vendor.example\n")  # fmt: skip
    kept = cli("import", "deals", str(owners))
    assert kept.exit_code == 0, kept.stderr
    with db.session_scope() as session:
        assert session.execute(select(Deal.owner, Deal.owner_id).where(
            Deal.external_id == "D-5")).one() == ("rep@vendor.example", None)  # fmt: skip
