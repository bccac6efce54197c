"""Analytics engines expose the app tables with the same names, types and rows everywhere."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "revenue"))
from revenue_examples import load_example  # noqa: E402

from banso.analytics.engines import check_engine, connect, month_dimension, month_index  # noqa: E402
from banso.db import get_engine  # noqa: E402
from banso.errors import BansoError  # noqa: E402
from banso.revenue.models import Subscription  # noqa: E402

COLUMNS = {
    "subscriptions": [
        Subscription.__table__.c[n]
        for n in ("account_id", "start_date", "end_date", "amount", "currency")
    ]
}


def test_month_dimension_knows_leap_years() -> None:
    dim = month_dimension(month_index(date(2024, 1, 1)), month_index(date(2024, 3, 1)))
    assert dim.to_pydict() == {
        "month_idx": [24288, 24289, 24290],
        "label": ["2024-01", "2024-02", "2024-03"],
        "days": [31, 29, 31],
    }


def test_unknown_engine_is_named() -> None:
    with pytest.raises(BansoError, match="Unknown engine sqlite; choose one of duckdb, postgres"):
        check_engine("sqlite")


def _rows(engine: str) -> list[tuple[object, ...]]:
    conn = connect(engine, get_engine(), COLUMNS)
    table = conn.table("subscriptions")
    assert tuple(table.columns) == ("account_id", "start_date", "end_date", "amount", "currency")
    schema = table.schema()
    assert schema["start_date"].is_date() and schema["end_date"].is_date()
    assert schema["amount"].is_integer() and schema["currency"].is_string()
    frame = table.order_by(["account_id", "start_date", "amount"]).to_pyarrow().to_pylist()
    return [tuple(row.values()) for row in frame]


def test_duckdb_reads_the_sqlite_app_database_as_typed_arrow() -> None:
    load_example("basic_monthly")
    rows = _rows("duckdb")
    assert len(rows) == 10
    assert rows[0] == (1, date(2024, 1, 1), None, 10000, "JPY")
    assert (2, date(2024, 1, 1), date(2024, 3, 1), 20000, "JPY") in rows


@pytest.mark.postgres
def test_postgres_queries_the_app_database_in_place_with_the_same_rows(pg_url: str) -> None:
    load_example("basic_monthly")
    assert _rows("postgres") == _rows("duckdb")


def test_sqlite_tables_are_read_exactly_through_the_apps_own_driver(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Text with quotes, commas, newlines, the word NULL and the empty string; nulls of every
    type; doubles to the last bit; a table longer than one chunk, read in one snapshot."""
    from datetime import UTC, datetime

    from sqlalchemy import (
        Boolean,
        Column,
        Date,
        DateTime,
        Float,
        Integer,
        MetaData,
        Table,
        Text,
        create_engine,
        insert,
    )

    from banso.analytics import engines

    table = Table(
        "kinds",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("flag", Boolean),
        Column("ratio", Float),
        Column("note", Text),
        Column("day", Date),
        Column("at", DateTime(timezone=True)),
        Column("visits", Integer),
    )
    app_db = create_engine(f"sqlite:///{tmp_path / 'kinds.db'}")
    table.create(app_db)
    rows = [
        (1, True, 0.1 + 0.2, "it's, \"quoted\"\nand on two lines", date(2024, 2, 29),
         datetime(2024, 3, 1, 9, 30, 15, 123456, tzinfo=UTC), 7),
        (2, False, -1e-300, "", date(1999, 12, 31), datetime(2000, 1, 1, tzinfo=UTC), 0),
        (3, None, None, None, None, None, None),
        (4, True, 1e308, "NULL", date(2026, 1, 1), datetime(2026, 1, 1, 23, 59, tzinfo=UTC),
         -(2**63)),
        (5, False, 3.0, "ﾃｽﾄ 伴走 ','", date(2026, 6, 1), datetime(2026, 6, 1, tzinfo=UTC), 2**62),
        # a null last in a chunk, after a quoted value: Arrow took it for a quoted ''
        (6, True, 2.5, "last", date(2026, 6, 2), datetime(2026, 6, 2, tzinfo=UTC), None),
    ]  # fmt: skip
    names = ["id", "flag", "ratio", "note", "day", "at", "visits"]
    with app_db.begin() as conn:
        conn.execute(insert(table), [dict(zip(names, row, strict=True)) for row in rows])
    monkeypatch.setattr(engines, "SQLITE_CHUNK_ROWS", 2)

    read = engines.read_arrow(app_db, list(table.c))

    assert [str(f.type) for f in read.schema] == [
        "int64", "bool", "double", "string", "date32[day]", "timestamp[us, tz=UTC]", "int64",
    ]  # fmt: skip
    assert [tuple(r.values()) for r in read.to_pylist()] == rows
    empty = Table("no_rows", MetaData(), Column("id", Integer, primary_key=True), Column("d", Date))
    empty.create(app_db)
    assert engines.read_arrow(app_db, list(empty.c)).to_pydict() == {"id": [], "d": []}
