"""Import benchmark: 1,000,000 subscription rows and 10,000,000 events from CSV.

Usage: ``.venv/bin/python benchmarks/import_bench.py [--subscriptions N] [--events N]``

Generates deterministic CSV files into ``benchmarks/data/`` (git-ignored) when missing, then runs
``banso init`` and ``banso import ...`` as child processes on a fresh data directory (SQLite) and
prints wall time and peak resident memory of each import (``getrusage`` of the child).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
BANSO = Path(sys.executable).parent / "banso"


def subscriptions_csv(rows: int) -> Path:
    """``rows`` contract lines over rows/5 accounts in the spec's columns (JPY, monthly/annual)."""
    path = DATA / f"subscriptions_{rows}.csv"
    if path.exists():
        return path
    rng = np.random.default_rng(7)
    idx = np.arange(rows)
    start = np.datetime64("2022-04-01") + rng.integers(0, 900, rows).astype("timedelta64[D]")
    ends = start + rng.integers(30, 720, rows).astype("timedelta64[D]")
    active = rng.random(rows) < 0.6
    annual = rng.random(rows) < 0.2
    table = pa.table(
        {
            "account_id": pa.array(np.char.add("A", (idx // 5).astype(str))),
            "subscription_id": pa.array(np.char.add("S", idx.astype(str))),
            "plan": pa.array(np.where(annual, "enterprise-annual", "standard")),
            "start_date": pa.array(start.astype("datetime64[D]")).cast(pa.string()),
            "end_date": pc.if_else(
                pa.array(active),
                pa.scalar(None, pa.string()),
                pa.array(ends.astype("datetime64[D]")).cast(pa.string()),
            ),  # fmt: skip
            "amount": pa.array(np.where(annual, 1_200_000, 29_800)),
            "currency": pa.array(np.full(rows, "JPY")),
            "billing_period_months": pa.array(np.where(annual, 12, 1)),
        }
    )
    DATA.mkdir(parents=True, exist_ok=True)
    pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="none"))
    return path


def events_csv(rows: int) -> Path:
    """``rows`` product events over 100,000 accounts and 90 days, ISO timestamps with offset."""
    path = DATA / f"events_{rows}.csv"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(11)
    names = np.array(["login", "view_dashboard", "export_report", "invite_user", "api_call"])
    chunk = 2_000_000
    with pacsv.CSVWriter(
        path,
        pa.schema([("event_id", pa.string()), ("account_id", pa.string()), ("user_id", pa.string()),
                   ("event", pa.string()), ("timestamp", pa.string())]),
        write_options=pacsv.WriteOptions(quoting_style="none"),
    ) as writer:  # fmt: skip
        for first in range(0, rows, chunk):
            n = min(chunk, rows - first)
            idx = np.arange(first, first + n)
            account = rng.integers(0, 100_000, n)
            seconds = rng.integers(0, 90 * 86_400, n)
            ts = pa.array(
                np.datetime64("2024-01-01T00:00:00", "s") + seconds.astype("timedelta64[s]")
            )
            stamps = pc.strftime(ts, format="%Y-%m-%dT%H:%M:%S+00:00")
            writer.write_table(
                pa.table(
                    {
                        "event_id": pa.array(np.char.add("e", idx.astype(str))),
                        "account_id": pa.array(np.char.add("A", account.astype(str))),
                        "user_id": pa.array(np.char.add(np.char.add("u", account.astype(str)),
                                                        (idx % 7).astype(str))),
                        "event": pa.array(names[rng.integers(0, len(names), n)]),
                        "timestamp": stamps,
                    }
                )
            )  # fmt: skip
    return path


def run(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MiB) of this child, and its stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run([str(BANSO), *args], env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if done.returncode != 0:
        raise SystemExit(f"banso {' '.join(args)} failed:\n{done.stderr}")
    # ru_maxrss of RUSAGE_CHILDREN is the largest child so far; children here grow in size.
    return elapsed, max(peak, before) / 1024, done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    options = parser.parse_args()
    sub_file = subscriptions_csv(options.subscriptions)
    ev_file = events_csv(options.events)
    with tempfile.TemporaryDirectory(prefix="banso-bench-") as home:
        env = {**os.environ, "BANSO_HOME": home, "BANSO_LANG": "en"}
        env.pop("BANSO_DATABASE_URL", None)
        run(["init"], env)
        for label, args in (
            (f"subscriptions {options.subscriptions:,} rows ({sub_file.stat().st_size >> 20} MiB)",
             ["import", "subscriptions", str(sub_file)]),
            ("subscriptions again (re-import, all unchanged)",
             ["import", "subscriptions", str(sub_file)]),
            (f"events {options.events:,} rows (CSV {ev_file.stat().st_size >> 20} MiB)",
             ["import", "events", str(ev_file)]),
        ):  # fmt: skip
            seconds, peak, out = run(args, env)
            print(f"{label}: {seconds:.1f} s, peak RSS {peak:.0f} MiB\n    {out}", flush=True)


if __name__ == "__main__":
    main()
