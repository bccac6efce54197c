"""``banso handoff import``: a CRM export with Japanese headers sets each account's handoff
(found by its CRM id), all or nothing; every bad row is named FILE:ROW:COLUMN and nothing is
written; a file without an account column is refused."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from banso import schema
from banso.accounts.models import Account, AccountIdentity
from banso.db import session_scope
from banso.success.models import Handoff


def _world() -> None:
    schema.upgrade()
    with session_scope() as s:
        s.add_all([Account(id=1, name="Alpha", normalized_name="alpha"),
                   Account(id=2, name="Beta", normalized_name="beta")])  # fmt: skip
        s.flush()
        s.add(AccountIdentity(account_id=2, source="crm", external_id="001ABC"))


def test_a_crm_export_sets_the_handoffs(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _world()
    good = tmp_path / "handoffs.csv"
    good.write_text(
        "顧客ID,CRM顧客ID,約束した成果,関係者,商談メモ\n"
        "1,,月次決算を5営業日で締める,経理部長 山田,競合A社と比較\n"
        ",001ABC,問い合わせの一次回答を24時間以内に,,\n",
        encoding="cp932",
    )
    result = cli("handoff", "import", str(good))
    assert result.exit_code == 0, result.stderr
    assert "2 handoffs imported." in result.stdout
    with session_scope() as s:
        rows = s.execute(select(Handoff.account_id, Handoff.promised_outcome, Handoff.stakeholders,
                                Handoff.source).order_by(Handoff.account_id)).all()  # fmt: skip
    assert [tuple(r) for r in rows] == [
        (1, "月次決算を5営業日で締める", "経理部長 山田", "crm"),
        (2, "問い合わせの一次回答を24時間以内に", None, "crm"),
    ]


def test_bad_rows_are_named_and_nothing_is_written(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _world()
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "account_id,external_id,promised_outcome\n1,,ok\n99,,x\n,NOPE,y\n,,z\n", encoding="utf-8"
    )
    result = cli("handoff", "import", str(bad))
    assert result.exit_code == 2
    assert "bad.csv:3:account_id: no account with id 99" in result.stderr
    assert "bad.csv:4:external_id: no account known as NOPE in crm" in result.stderr
    assert "bad.csv:5:account_id: the account is missing" in result.stderr
    with session_scope() as s:
        assert s.scalars(select(Handoff)).all() == []
    headless = tmp_path / "headless.csv"
    headless.write_text("name,promised_outcome\nAlpha,x\n", encoding="utf-8")
    refused = cli("handoff", "import", str(headless))
    assert refused.exit_code == 2
    assert "a column account_id or external_id is required" in refused.stderr
