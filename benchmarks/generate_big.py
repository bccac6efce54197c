"""Generate the big benchmark world: 100,000 accounts, 36 months, about 100,000,000 events.

Usage (from the repository root)::

    .venv/bin/python benchmarks/generate_big.py [--accounts 100000] [--event-scale 0.36]

Runs ``banso init`` and ``banso demo generate --replace`` as a child process with
``BANSO_HOME=benchmarks/data/big`` (git-ignored), then prints the wall time, the child's peak
resident memory and what was written (rows per table, events, Parquet size). The end date is
fixed so that every run generates the same world.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
END = "2026-11-01"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--event-scale", type=float, default=0.36)
    parser.add_argument("--home", type=Path, default=ROOT / "benchmarks" / "data" / "big")
    args = parser.parse_args()
    env = {**os.environ, "BANSO_HOME": str(args.home), "BANSO_LANG": "en"}
    banso = str(ROOT / ".venv" / "bin" / "banso")
    subprocess.run([banso, "init"], env=env, check=True)
    started = time.perf_counter()
    subprocess.run(
        [
            banso,
            "demo",
            "generate",
            "--accounts",
            str(args.accounts),
            "--months",
            str(args.months),
            "--event-scale",
            str(args.event_scale),
            "--end",
            END,
            "--replace",
        ],
        env=env,
        check=True,
    )
    seconds = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    files = list((args.home / "events").glob("date=*/part-*.parquet"))
    size_gib = sum(f.stat().st_size for f in files) / 2**30
    glob = str(args.home / "events" / "date=*" / "part-*.parquet")
    events, accounts = 0, 0  # --event-scale 0 writes no event file for read_parquet to find
    if files:
        events, accounts = (
            duckdb.connect()
            .execute(f"SELECT count(*), count(DISTINCT account_id) FROM read_parquet('{glob}')")
            .fetchone()
        )
    print(f"accounts={args.accounts} months={args.months} event_scale={args.event_scale}")
    print(f"wall={seconds:.0f}s peak_rss={peak_mib:.0f}MiB")
    print(
        f"events={events} accounts_with_events={accounts} files={len(files)} "
        f"parquet={size_gib:.2f}GiB"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
