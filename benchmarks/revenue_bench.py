"""Benchmark: the revenue report for 100,000 accounts over 36 months, on every engine, and a plain
pandas implementation of the same report as the baseline.

Usage (from the repository root)::

    .venv/bin/python benchmarks/revenue_bench.py [--home benchmarks/data/revenue] [--generate]
        [--engines duckdb,postgres,spark] [--pg-admin-url postgresql+psycopg://postgres@127.0.0.1/postgres]

``--generate`` first writes the world with the demo generator (``banso init`` and ``banso demo
generate --accounts 100000 --months 36 --event-scale 0 --end 2026-11-01 --replace``: subscriptions
only, no usage events) into ``--home`` (git-ignored). For PostgreSQL the accounts and subscriptions
are copied once into a scratch database ``banso_revenue_bench`` (not timed) and dropped afterwards.

Timed: ``service.revenue_report`` for the last ``--months`` months (36) plus rendering the JSON,
in this process after the imports (the CLI's start-up is excluded). Each engine runs ``--runs``
times (at least twice); the first run includes one-off costs (the SparkSession's start, DuckDB's
first query), the median of the others is the warm figure, compared with the median of
``--runs - 1`` runs of the pandas baseline. The load average is printed last. The pandas
baseline reads the same SQLite tables and computes the same monthly aggregates; the script checks
that it agrees with the DuckDB report to the yen before printing the ratio.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from fractions import Fraction
from math import lcm
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
END = "2026-11-01"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=ROOT / "benchmarks" / "data" / "revenue")
    parser.add_argument("--generate", action="store_true")
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=36, help="months in the report")
    parser.add_argument("--engines", default="duckdb,postgres,spark")
    parser.add_argument(
        "--runs", type=int, default=2, help="runs per engine (the first includes start-up)"
    )
    parser.add_argument(
        "--pg-admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args()
    os.environ["BANSO_HOME"] = str(args.home)
    os.environ["BANSO_LANG"] = "en"
    if args.generate:
        _generate(args.home, args.accounts)

    from banso.db import session_scope
    from banso.revenue import render, service
    from banso.revenue.months import data_bounds, default_last_month, month_label, parse_month

    db_path = args.home / "banso.db"
    with sqlite3.connect(db_path) as conn:
        subs, accounts = conn.execute(
            "SELECT count(*), count(DISTINCT account_id) FROM subscriptions"
        ).fetchone()
    with session_scope() as session:
        last = default_last_month(session)
        history_from = month_label(data_bounds(session)[0])
    first = month_label(parse_month(last, "--to") - (args.months - 1))
    print(
        f"data: {subs} subscriptions of {accounts} accounts from {history_from}; "
        f"report {first}..{last} ({args.months} months)"
    )

    def run(engine: str) -> tuple[float, list[dict[str, object]]]:
        started = time.perf_counter()
        with session_scope() as session:
            report = service.revenue_report(session, start=first, end=last, engine=engine)
        render.revenue_json(report)
        return time.perf_counter() - started, report.rows

    results: dict[str, list[float]] = {}
    reference: list[dict[str, object]] | None = None
    for engine in args.engines.split(","):
        if engine == "postgres":
            url = _copy_to_postgres(db_path, args.pg_admin_url)
            os.environ["BANSO_DATABASE_URL"] = url
            _clear_settings()
        try:
            times = []
            for _ in range(max(2, args.runs)):
                seconds, rows = run(engine)
                times.append(seconds)
                if reference is None:
                    reference = rows
                assert rows == reference, f"{engine} disagrees with the first engine"
            results[engine] = times
            warm = ", ".join(f"{t:.2f}" for t in times[1:])
            print(
                f"{engine}: first {times[0]:.2f} s, warm {warm} s "
                f"(median {statistics.median(times[1:]):.2f} s)"
            )
        finally:
            if engine == "postgres":
                del os.environ["BANSO_DATABASE_URL"]
                _clear_settings()
                _drop_postgres(args.pg_admin_url)

    pandas_times = []
    for _ in range(max(1, args.runs - 1)):
        started = time.perf_counter()
        baseline = pandas_report(db_path, first, last)
        pandas_times.append(time.perf_counter() - started)
    pandas_seconds = statistics.median(pandas_times)
    if reference is not None:
        rounded = [service.rounded(row) for row in reference]
        for row, (mrr_end, churned, due, lost, kept) in zip(rounded, baseline, strict=True):
            assert row["mrr_end"] == mrr_end and row["churned_mrr"] == churned, row["month"]
            assert row["renewal_due_mrr"] == due and row["renewal_churned_mrr"] == lost
            assert kept is None or row["nrr_12m"] == kept, row["month"]
    shown = ", ".join(f"{t:.2f}" for t in pandas_times)
    print(f"pandas baseline: {shown} s, median {pandas_seconds:.2f} s (agrees with the engines)")
    for engine, times in results.items():
        warm = statistics.median(times[1:])
        print(f"{engine}: warm median {warm:.2f} s = {pandas_seconds / warm:.1f}x pandas (median)")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def _generate(home: Path, accounts: int) -> None:
    env = {**os.environ, "BANSO_HOME": str(home), "BANSO_LANG": "en"}
    banso = str(ROOT / ".venv" / "bin" / "banso")
    subprocess.run([banso, "init"], env=env, check=True)
    subprocess.run(
        [
            banso,
            "demo",
            "generate",
            "--accounts",
            str(accounts),
            "--months",
            "36",
            "--event-scale",
            "0",
            "--end",
            END,
            "--replace",
        ],
        env=env,
        check=True,
    )


def _clear_settings() -> None:
    from banso import config, db

    db.dispose_engines()
    config.get_settings.cache_clear()


PG_DB = "banso_revenue_bench"


def _copy_to_postgres(db_path: Path, admin_url: str) -> str:
    """A scratch PostgreSQL app database holding the SQLite world's accounts and subscriptions."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from banso import schema

    _drop_postgres(admin_url)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{PG_DB}"'))
    admin.dispose()
    url = make_url(admin_url).set(database=PG_DB).render_as_string(hide_password=False)
    schema.upgrade(url)
    engine = create_engine(url)
    with sqlite3.connect(db_path) as src:
        accounts = src.execute("SELECT id, name, normalized_name FROM accounts").fetchall()
        subs = src.execute(
            "SELECT id, account_id, source, external_id, plan, start_date, end_date, amount,"
            " currency, billing_period_months FROM subscriptions"
        ).fetchall()
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        now = datetime.now(UTC)
        with cur.copy(
            "COPY accounts (id, name, normalized_name, created_at, updated_at) FROM STDIN"
        ) as copy:
            for row in accounts:
                copy.write_row((*row, now, now))
        with cur.copy(
            "COPY subscriptions (id, account_id, source, external_id, plan, start_date, end_date,"
            " amount, currency, billing_period_months, created_at, updated_at) FROM STDIN"
        ) as copy:
            for row in subs:
                copy.write_row((*row, now, now))
        raw.commit()
    finally:
        raw.close()
    engine.dispose()
    return url


def _drop_postgres(admin_url: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)'))
    admin.dispose()


def pandas_report(
    db_path: Path, first: str, last: str
) -> list[tuple[float, float, float, float, float | None]]:
    """The same report in plain pandas: per month mrr_end, churned_mrr, renewal due and lost, and
    nrr_12m, each rounded as the JSON output is (JPY data: the minor unit is the yen)."""
    import numpy as np
    import pandas as pd

    with sqlite3.connect(db_path) as conn:
        s = pd.read_sql(
            "SELECT account_id, start_date, end_date, amount, billing_period_months AS bpm"
            " FROM subscriptions",
            conn,
        )
    start = pd.to_datetime(s.start_date)
    end = pd.to_datetime(s.end_date)
    s["s_idx"] = start.dt.year * 12 + start.dt.month - 1
    s["s_day"] = start.dt.day
    s["e_idx"] = (end.dt.year * 12 + end.dt.month - 1).fillna(10**7).astype("int64")
    s["e_day"] = end.dt.day.fillna(0).astype("int64")
    period_lcm = lcm(*map(int, s.bpm.unique()))
    s["unit"] = s.amount * (period_lcm // s.bpm)
    lo, hi = _idx(first), _idx(last)
    m0 = int(s.s_idx.min())

    # month-end snapshot: one row per line and month end it is active at
    stop = np.minimum(s.e_idx - 1, hi)
    n = (stop - s.s_idx + 1).clip(lower=0).to_numpy()
    rows = np.repeat(np.arange(len(s)), n)
    offsets = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    active = pd.DataFrame(
        {
            "account_id": s.account_id.to_numpy()[rows],
            "m": s.s_idx.to_numpy()[rows] + offsets,
            "mrr": s.unit.to_numpy()[rows],
        }
    )
    snap = active.groupby(["account_id", "m"], as_index=False).mrr.sum()
    snap = snap[snap.mrr > 0]
    prev = snap.assign(m=snap.m + 1).rename(columns={"mrr": "p"})
    pairs = snap.rename(columns={"mrr": "c"}).merge(prev, on=["account_id", "m"], how="outer")
    pairs = pairs.fillna({"c": 0, "p": 0})
    pairs = pairs[pairs.m <= hi]
    churned = pairs[(pairs.p > 0) & (pairs.c == 0)].groupby("m").p.sum()
    mrr_end = snap.groupby("m").mrr.sum()

    # renewals
    days = {
        m: pd.Period(year=m // 12, month=m % 12 + 1, freq="M").days_in_month
        for m in range(m0, hi + 1)
    }
    k_max = ((np.minimum(s.e_idx, hi) - s.s_idx) // s.bpm).clip(lower=0).to_numpy()
    rows = np.repeat(np.arange(len(s)), k_max)
    k = np.arange(k_max.sum()) - np.repeat(np.cumsum(k_max) - k_max, k_max) + 1
    due = pd.DataFrame(
        {
            "account_id": s.account_id.to_numpy()[rows],
            "m": s.s_idx.to_numpy()[rows] + k * s.bpm.to_numpy()[rows],
            "s_day": s.s_day.to_numpy()[rows],
            "e_idx": s.e_idx.to_numpy()[rows],
            "e_day": s.e_day.to_numpy()[rows],
            "unit": s.unit.to_numpy()[rows],
        }
    )
    due["b_day"] = np.minimum(due.s_day, due.m.map(days))
    due = due[(due.e_idx > due.m) | ((due.e_idx == due.m) & (due.e_day >= due.b_day))]
    due["ended"] = (due.e_idx == due.m) & (due.e_day == due.b_day)
    due["ended_unit"] = due.unit.where(due.ended, 0)
    per_account = due.groupby(["account_id", "m"], as_index=False).agg(
        due=("unit", "sum"), ended=("ended_unit", "sum")
    )
    ends = due[due.ended][["account_id", "m", "e_day"]].drop_duplicates()
    starts = s.merge(
        ends, left_on=["account_id", "s_idx", "s_day"], right_on=["account_id", "m", "e_day"]
    )
    replaced = starts.groupby(["account_id", "m"], as_index=False).unit.sum()
    per_account = per_account.merge(replaced, on=["account_id", "m"], how="left").fillna(0)
    per_account["lost"] = (per_account.ended - per_account.unit).clip(lower=0)
    due_m = per_account.groupby("m").due.sum()
    lost_m = per_account.groupby("m").lost.sum()

    # NRR 12 months
    then = snap.assign(m=snap.m + 12).rename(columns={"mrr": "then"})
    kept = then.merge(snap, on=["account_id", "m"], how="left").fillna({"mrr": 0})
    base = kept.groupby("m").then.sum()
    kept_m = kept.groupby("m").mrr.sum()

    def money(series: pd.Series, m: int) -> float:
        return float(round(Fraction(int(series.get(m, 0)), period_lcm), 2))

    out = []
    for m in range(lo, hi + 1):
        b = int(base.get(m, 0))
        nrr = float(round(Fraction(int(kept_m.get(m, 0)), b), 6)) if b else None
        out.append((money(mrr_end, m), money(churned, m), money(due_m, m), money(lost_m, m), nrr))
    return out


def _idx(label: str) -> int:
    year, month = map(int, label.split("-"))
    return year * 12 + month - 1


if __name__ == "__main__":
    sys.exit(main())
