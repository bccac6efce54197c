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
