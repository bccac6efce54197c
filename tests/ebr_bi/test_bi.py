"""`banso bi`: the documented views as files (incremental), a DuckDB database a DuckDB client
reads, and a PostgreSQL schema on the test server."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook
from sqlalchemy import create_engine, text

from banso.accounts.models import Account
from banso.bi.views import VIEWS
from banso.db import session_scope
from banso.revenue.service import revenue_report

DOCS = Path(__file__).resolve().parents[2] / "docs" / "bi.md"


def _documented() -> dict[str, list[str]]:
    """View -> its columns, as docs/bi.md's tables list them."""
    views: dict[str, list[str]] = {}
    current = None
    for line in DOCS.read_text("utf-8").splitlines():
        heading = re.fullmatch(r"### `(\w+)`", line)
        if heading:
            current = views.setdefault(heading.group(1), [])
            continue
        row = re.match(r"\| `(\w+)` \|", line)
        if row and current is not None:
            current.append(row.group(1))
    return views


def test_every_view_and_column_is_documented_in_order() -> None:
    assert _documented() == {view.name: view.schema.names for view in VIEWS}


@pytest.mark.slow
def test_duckdb_client_reads_every_documented_view(cli, demo: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "banso.duckdb"
    result = cli("bi", "duckdb", str(path))
    assert result.exit_code == 0, result.stderr
    with duckdb.connect(str(path), read_only=True) as con:
        views = dict(
            con.sql(
                "SELECT table_name, table_type FROM information_schema.tables "
                "WHERE table_schema = 'main'"
            ).fetchall()
        )
        assert views == {name: "VIEW" for name in _documented()}
        for name, columns in _documented().items():
            described = con.sql(f'SELECT * FROM "{name}" LIMIT 0').columns
            assert described == columns, name
            ((rows,),) = con.execute(f'SELECT count(*) FROM "{name}"').fetchall()
            # the world ran no playbook, so it has no CTA; every other view has rows
            assert (rows == 0) == (name == "ctas"), name
        assert con.execute("SELECT count(*) FROM accounts").fetchall() == [(60,)]
        # March 2026 was scored for every account
        assert con.execute(
            "SELECT count(DISTINCT day) FROM health_history "
            "WHERE day BETWEEN '2026-03-01' AND '2026-03-31'"
        ).fetchall() == [(31,)]
        # Σ of the accounts' monthly MRR is the company's, month by month
        per_month = dict(
            con.sql(
                "SELECT month, sum(mrr_end) FROM account_monthly_kpis GROUP BY month"
            ).fetchall()
        )
    with session_scope() as session:
        company = revenue_report(session).rows
    assert len(per_month) == 12
    for row in company:
        assert abs(per_month[row["month"]] - Decimal(float(row["mrr_end"]))) <= Decimal("0.05")


@pytest.mark.slow
def test_export_is_incremental_and_every_format_reads_back(cli, demo: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "bi"
    first = cli("bi", "export", "--to", str(out), "--format", "parquet")
    assert first.exit_code == 0, first.stderr
    assert "Wrote 9 views" in first.stdout
    accounts = pq.read_table(out / "accounts.parquet")
    assert accounts.num_rows == 60
    assert accounts.schema.names == _documented()["accounts"]
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.parquet")}
    again = cli("bi", "export", "--to", str(out), "--format", "parquet")
    assert "Wrote 0 views" in again.stdout and "9 unchanged" in again.stdout
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.parquet")} == before
    # a file removed by hand is written again even though its rows did not change
    (out / "ctas.parquet").unlink()
    assert "Wrote 1 view " in cli("bi", "export", "--to", str(out)).stdout
    for fmt in ("csv", "xlsx"):
        done = cli("bi", "export", "--to", str(out), "--format", fmt)
        assert done.exit_code == 0, done.stderr
    header = (out / "subscriptions.csv").read_bytes().split(b"\n", 1)[0]
    assert header.decode("utf-8-sig").replace('"', "").split(",") == _documented()["subscriptions"]
    sheet = load_workbook(out / "accounts.xlsx", read_only=True).active
    rows = list(sheet.values)
    assert list(rows[0]) == _documented()["accounts"]
    assert len(rows) == 61
    bad = cli("bi", "export", "--to", str(out), "--format", "json")
    assert bad.exit_code == 2


def test_a_changed_row_rewrites_only_its_view(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").exit_code == 0
    with session_scope() as session:
        session.add(Account(name="Acme", normalized_name="acme"))
    out = tmp_path / "bi"
    assert "Wrote 9 views" in cli("bi", "export", "--to", str(out)).stdout
    with session_scope() as session:
        session.query(Account).update({"industry": "SaaS"})
    second = cli("bi", "export", "--to", str(out))
    assert "Wrote 1 view to" in second.stdout and "8 unchanged" in second.stdout
    assert pq.read_table(out / "accounts.parquet").column("industry").to_pylist()[-1] == "SaaS"


@pytest.mark.postgres
@pytest.mark.slow
def test_postgres_schema_is_created_and_readable(cli, demo: Path, bi_pg_url: str) -> None:  # type: ignore[no-untyped-def]
    result = cli("bi", "postgres", "--url", bi_pg_url)
    assert result.exit_code == 0, result.stderr
    assert "schema banso_bi" in result.stdout
    engine = create_engine(bi_pg_url)
    try:
        with engine.connect() as conn:
            views = {
                name
                for (name,) in conn.execute(
                    text(
                        "SELECT table_name FROM information_schema.views "
                        "WHERE table_schema = 'banso_bi'"
                    )
                )
            }
            assert views == set(_documented())
            for name, columns in _documented().items():
                found = conn.execute(text(f'SELECT * FROM banso_bi."{name}" LIMIT 1'))
                assert list(found.keys()) == columns, name
            assert conn.execute(text("SELECT count(*) FROM banso_bi.accounts")).scalar() == 60
            total = conn.execute(
                text(
                    "SELECT sum(mrr_end) FROM banso_bi.account_monthly_kpis WHERE month = '2026-04'"
                )
            ).scalar()
            assert total == Decimal("1610233.32")
        # run again: replaced in place, not duplicated
        assert cli("bi", "postgres", "--url", bi_pg_url).exit_code == 0
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM banso_bi.accounts")).scalar() == 60
    finally:
        engine.dispose()
    bad = cli("bi", "postgres", "--url", "sqlite:///x.db")
    assert bad.exit_code == 2
