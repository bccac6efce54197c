"""Big SQLite inserts build secondary indexes once at the end, and never lose them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from banso import bulk, db
from banso.revenue.models import Subscription

SPEC_HEADER = (
    "account_id,subscription_id,plan,start_date,end_date,amount,currency,billing_period_months"
)


def _indexes(table: str) -> list[tuple[str, str]]:
    with db.session_scope() as session:
        rows = session.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = :t"),
            {"t": table},
        ).all()
    return sorted((name, sql or "") for name, sql in rows)


def test_a_big_import_keeps_every_index_and_uses_the_date_ones(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli("init")
    before = _indexes("subscriptions")
    assert "ix_subscriptions_start_date" in [name for name, _sql in before]
    monkeypatch.setattr(bulk, "REBUILD_INDEXES_FROM", 2)
    lines = "".join(f"K{i % 3},S{i},pro,2024-0{1 + i % 9}-01,,{100 * i},JPY,1\n" for i in range(40))
    path = tmp_path / "lines.csv"
    path.write_text(f"{SPEC_HEADER}\n{lines}", encoding="utf-8")
    result = cli("import", "subscriptions", str(path))
    assert result.exit_code == 0, result.stderr
    assert _indexes("subscriptions") == before
    with db.session_scope() as session:
        plan = session.execute(
            text("EXPLAIN QUERY PLAN SELECT count(*) FROM subscriptions WHERE start_date = :d"),
            {"d": "2024-03-01"},
        ).all()
        march = session.scalar(select(func.count()).where(Subscription.start_date == "2024-03-01"))
    assert "ix_subscriptions_start_date" in " ".join(str(row) for row in plan)
    assert march == 5  # i = 2, 11, 20, 29, 38


def test_a_failed_big_insert_rolls_back_with_the_indexes_in_place(
    cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli("init")
    before = _indexes("subscriptions")
    monkeypatch.setattr(bulk, "REBUILD_INDEXES_FROM", 2)
    with db.session_scope() as session:
        session.execute(
            text("INSERT INTO accounts (name, normalized_name, created_at, updated_at)"
                 " VALUES ('a', 'a', '2024-01-01', '2024-01-01')")
        )  # fmt: skip
    row = {"account_id": 1, "source": "x", "external_id": "S1", "plan": None,
           "start_date": date(2024, 1, 1), "end_date": None, "amount": 1, "currency": "JPY",
           "billing_period_months": 1}  # fmt: skip
    with pytest.raises(IntegrityError), db.session_scope() as session:
        session.execute(text("SELECT 1"))
        session.execute(text("UPDATE accounts SET name = 'b'"))  # the transaction has begun
        bulk.bulk_insert(session, Subscription.__table__, [row, {**row}, {**row}])
    assert _indexes("subscriptions") == before
    with db.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Subscription)) == 0
        assert session.scalar(text("SELECT name FROM accounts")) == "a"
