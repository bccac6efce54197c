"""A report asked again in the same process reuses the compiled SQL and the tables read at the
same data version (``banso.analytics.engines``), and a write in between is seen at once."""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from pathlib import Path

import ibis.backends.duckdb
import pytest
from sqlalchemy import select

from banso.accounts.models import Account
from banso.analytics import engines
from banso.db import session_scope
from banso.renewals.calendar import renewal_calendar
from banso.revenue.models import Subscription

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "metrics" / "examples" / "annual_contracts"


@pytest.fixture(autouse=True)
def _fresh_process_caches() -> None:
    """As in a new process: earlier tests may have run reports of the same shape."""
    engines._SHAPED.clear()
    engines._COMPILED.clear()
    engines._KEPT.clear()


def _due(rows: list[dict]) -> dict[str, Fraction]:  # type: ignore[type-arg]
    return {r["month"]: r["mrr_due"] for r in rows}


def test_repeated_calendar_reuses_sql_and_lines_and_sees_a_new_line(cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").exit_code == 0
    imported = cli("import", "subscriptions", str(EXAMPLE / "subscriptions.csv"))
    assert imported.exit_code == 0, imported.stderr
    reads: list[str] = []
    compiles: list[object] = []
    read_arrow, compile_sql = engines.read_arrow, ibis.backends.duckdb.Backend.compile

    def counted_read(app_db, columns, where=None):  # type: ignore[no-untyped-def]
        reads.append(columns[0].table.name)
        return read_arrow(app_db, columns, where)

    def counted_compile(self, expr, /, **kwargs):  # type: ignore[no-untyped-def]
        compiles.append(expr)
        return compile_sql(self, expr, **kwargs)

    monkeypatch.setattr(engines, "read_arrow", counted_read)
    monkeypatch.setattr(ibis.backends.duckdb.Backend, "compile", counted_compile)

    def calendar() -> list[dict]:  # type: ignore[type-arg]
        with session_scope() as session:
            return renewal_calendar(session, start="2024-01", end="2024-12").rows

    first = calendar()
    assert reads == ["subscriptions"] and len(compiles) == 3  # spans, due and lost, counts
    # the spec's worked example (tests/data/metrics/examples/annual_contracts)
    assert _due(first)["2024-04"] == 400_000 and _due(first)["2024-05"] == 0
    again = calendar()
    assert again == first
    assert reads == ["subscriptions"] and len(compiles) == 3  # nothing read or compiled again

    # a write moves the revenue data version on: the new line is read and due in May 2024
    with session_scope() as session:
        account = session.scalars(select(Account).order_by(Account.id)).first()
        assert account is not None
        session.add(
            Subscription(
                account_id=account.id,
                source="test",
                external_id="S99",
                start_date=date(2023, 5, 1),
                amount=2_400_000,
                currency="JPY",
                billing_period_months=12,
            )
        )
    after = calendar()
    assert reads == ["subscriptions", "subscriptions"]
    assert len(compiles) == 3  # same months, same scale: same SQL, new rows
    assert _due(after)["2024-05"] == 200_000
    assert {m: d for m, d in _due(after).items() if m != "2024-05"} == {
        m: d for m, d in _due(first).items() if m != "2024-05"
    }
    # and exactly what a process that never saw the earlier calls computes
    engines._SHAPED.clear()
    engines._COMPILED.clear()
    engines._KEPT.clear()
    assert calendar() == after
    assert len(compiles) == 6


def test_another_range_is_compiled_anew(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").exit_code == 0
    assert cli("import", "subscriptions", str(EXAMPLE / "subscriptions.csv")).exit_code == 0
    with session_scope() as session:
        year = renewal_calendar(session, start="2024-01", end="2024-12").rows
        autumn = renewal_calendar(session, start="2024-07", end="2024-10").rows
    assert [r["month"] for r in autumn] == ["2024-07", "2024-08", "2024-09", "2024-10"]
    assert autumn == year[6:10]
    assert _due(autumn) == {
        "2024-07": 400_000,
        "2024-08": 0,
        "2024-09": 0,
        "2024-10": 200_000,
    }


@pytest.mark.parametrize("literal", [1, 2])
def test_compiled_sql_is_kept_per_expression_whatever_the_connection(literal: int) -> None:
    import pyarrow as pa

    data = pa.table({"x": pa.array([1, 2, 3], pa.int64())})
    sqls, counts = [], []
    for _ in range(2):
        conn = engines.AnalyticsConnection("duckdb", ibis.duckdb.connect())
        conn.backend.compile = engines._compile_cached(conn.backend.compile)  # type: ignore[method-assign]
        table = conn.memtable("t", data)
        expr = table.filter(table.x > literal)
        sqls.append(conn.backend.compile(expr))
        counts.append(expr.to_pyarrow().num_rows)
    assert sqls[0] == sqls[1] and f"> {literal}" in sqls[0]
    assert counts == [3 - literal, 3 - literal]
    key = engines._unbound(expr.op())
    assert engines._COMPILED[key] == sqls[0]
    # an ibis.memtable has a new name each time: never kept
    assert engines._unbound(ibis.memtable(data).op()) is None


def test_a_query_kept_by_shape_may_not_read_an_ibis_memtable() -> None:
    import pyarrow as pa

    conn = engines.AnalyticsConnection("duckdb", ibis.duckdb.connect())
    data = pa.table({"x": pa.array([1, 2, 3], pa.int64())})
    with pytest.raises(ValueError, match="reads no ibis.memtable"):
        conn.to_pyarrow(("test-memtable",), lambda: ibis.memtable(data))
    registered = conn.memtable("t", data)
    assert conn.to_pyarrow(("test-registered",), lambda: registered).num_rows == 3
    # materialize still registers an ibis.memtable it reads
    kept = conn.materialize("kept", ibis.memtable(data).filter(lambda t: t.x > 1))
    assert kept.to_pyarrow().num_rows == 2
