"""Import benchmark: 1,000,000 subscription rows and 10,000,000 events from CSV.

Usage: ``.venv/bin/python benchmarks/import_bench.py [--subscriptions N] [--events N]``

Generates deterministic CSV files into ``benchmarks/data/`` (git-ignored) when missing, then runs
``banso init`` and ``banso import ...`` as child processes on a fresh data directory (SQLite) and
prints wall time and peak resident memory of each import (``getrusage`` of the child).
"""

from __future__ import annotations

import argparse
import json
import os
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


_CHILD = """
import json, resource, sys, time
from pathlib import Path
started = time.perf_counter()
from banso.db import session_scope
from banso.ingest.importer import import_file
loaded = time.perf_counter()
usage = resource.getrusage(resource.RUSAGE_SELF)
cpu0 = usage.ru_utime + usage.ru_stime
with session_scope() as session:
    result = import_file(session, sys.argv[1], Path(sys.argv[2]))
done = time.perf_counter()
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"import_s": done - loaded, "startup_s": loaded - started, "rows": result.rows,
                  "cpu_s": usage.ru_utime + usage.ru_stime - cpu0,
                  "inserted": result.inserted, "unchanged": result.unchanged,
                  "peak_mib": usage.ru_maxrss / 1024}))
"""


def run(kind: str, path: Path, env: dict[str, str]) -> dict[str, float]:
    """One import in a fresh process: seconds inside ``import_file`` (read, validate, write,
    commit) and the CPU seconds they took (less sensitive to other jobs on the machine),
    interpreter start-up and imports, and the process's peak resident memory."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, kind, str(path)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"import {kind} {path} failed:\n{done.stderr}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["wall_s"] = time.perf_counter() - started
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000, help="0: skip the events")
    options = parser.parse_args()
    sub_file = subscriptions_csv(options.subscriptions)
    ev_file = events_csv(options.events) if options.events else None
    with tempfile.TemporaryDirectory(prefix="banso-bench-") as home:
        env = {**os.environ, "BANSO_HOME": home, "BANSO_LANG": "en"}
        env.pop("BANSO_DATABASE_URL", None)
        subprocess.run([str(BANSO), "init"], env=env, check=True, capture_output=True)
        runs = [
            ("subscriptions", "subscriptions", sub_file),
            ("subscriptions re-import (all unchanged)", "subscriptions", sub_file),
        ]
        if ev_file is not None:
            runs.append(("events", "events", ev_file))
        for label, kind, path in runs:
            f = run(kind, path, env)
            print(
                f"{label}: {f['rows']:,} rows ({path.stat().st_size >> 20} MiB CSV):"
                f" import {f['import_s']:.1f} s (+ start-up {f['startup_s']:.1f} s),"
                f" peak RSS {f['peak_mib']:.0f} MiB; {f['inserted']:,} new,"
                f" {f['unchanged']:,} unchanged; CPU {f['cpu_s']:.1f} s;"
                f" load average {os.getloadavg()[0]:.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
