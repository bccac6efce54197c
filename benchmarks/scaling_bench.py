"""How the daily work grows: usage features, the health score and the revenue report measured on
demo worlds of three sizes, on DuckDB and on Spark (the figures behind docs/scaling.md).

Usage (from the repository root)::

    .venv/bin/python benchmarks/scaling_bench.py [--sizes 2000,6000,18000] [--months 14]
        [--event-scale 1.0]
        [--engines duckdb,spark] [--as-of 2026-10-31]

Each world is made once by ``benchmarks/generate_big.py --accounts N --months M --event-scale
S`` into ``benchmarks/data/scaling-N`` (git-ignored; reused when present). Every measurement
runs in its own child process, after the imports (the CLI's start-up is not counted):

- ``features``: ``usage.service.compute_features(as_of)`` on DuckDB (the 7/28/56-day usage
  features of every account; ``benchmarks/usage_bench.py --run banso``);
- ``score``: ``health.service.score_days([as_of], engine=…)`` (raw values of every measure, the
  usage measures on the engine, scoring, the snapshot), run twice in one process: the second,
  warm run is reported (the first pays the engine's start, e.g. the SparkSession);
- ``revenue``: ``revenue.service.revenue_report`` for the last 12 months, run twice in one process
  (the second, warm run is reported).

Prints one JSON line per world and a Markdown table with seconds per 1,000,000 events (features,
score) and per 1,000 accounts (revenue), and the growth exponent between sizes (log time / log
size: 1.0 is linear).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,6000,18000")
    parser.add_argument("--months", type=int, default=14)
    parser.add_argument("--event-scale", default="1.0")
    parser.add_argument("--engines", default="duckdb,spark")
    parser.add_argument("--as-of", default="2026-10-31")
    parser.add_argument("--run-revenue", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--run-score", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_revenue:
        _revenue(Path(args.run_revenue[0]), args.run_revenue[1])
        return
    if args.run_score:
        _score(Path(args.run_score[0]), args.run_score[1], date.fromisoformat(args.run_score[2]))
        return
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        home = ROOT / "benchmarks" / "data" / f"scaling-{size}"
        if not (home / "banso.db").exists():
            subprocess.run(
                [
                    PY,
                    str(ROOT / "benchmarks" / "generate_big.py"),
                    "--accounts",
                    str(size),
                    "--months",
                    str(args.months),
                    "--event-scale",
                    args.event_scale,
                    "--home",
                    str(home),
                ],
                check=True,
            )
        row: dict[str, object] = {"accounts": size, "events": _events(home)}
        out = _child(
            [
                PY,
                str(ROOT / "benchmarks" / "usage_bench.py"),
                "--home",
                str(home),
                "--as-of",
                args.as_of,
                "--run",
                "banso",
            ],
            home,
        )
        row["features"] = round(out["seconds"], 2)
        for engine in args.engines.split(","):
            out = _child([PY, __file__, "--run-score", str(home), engine, args.as_of], home)
            row[f"score_{engine}"] = round(out["seconds"], 2)
            out = _child([PY, __file__, "--run-revenue", str(home), engine], home)
            row[f"revenue_{engine}"] = round(out["seconds"], 2)
        print(json.dumps(row), flush=True)
        rows.append(row)
    _table(rows, args.engines.split(","))


def _child(command: list[str], home: Path) -> dict:  # type: ignore[type-arg]
    env = {**os.environ, "BANSO_HOME": str(home), "BANSO_LANG": "en"}
    out = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _events(home: Path) -> int:
    files = str(home / "events" / "date=*" / "*.parquet")
    return int(duckdb.sql(f"SELECT count(*) FROM read_parquet('{files}')").fetchall()[0][0])


def _score(home: Path, engine: str, day: date) -> None:
    """The day's health score twice in one process; the second (warm) run is reported."""
    import time

    os.environ["BANSO_HOME"] = str(home)
    from banso.db import session_scope
    from banso.health import service

    times = []
    for _ in range(2):
        started = time.perf_counter()
        with session_scope() as session:
            service.score_days(session, [day], engine=engine)
        times.append(time.perf_counter() - started)
    print(json.dumps({"seconds": times[-1], "first": times[0]}))


def _revenue(home: Path, engine: str) -> None:
    import time

    os.environ["BANSO_HOME"] = str(home)
    from banso.db import session_scope
    from banso.revenue import render, service
    from banso.revenue.months import default_last_month, month_label, parse_month

    with session_scope() as session:
        last = default_last_month(session)
    first = month_label(parse_month(last, "--to") - 11)
    times = []
    for _ in range(2):
        started = time.perf_counter()
        with session_scope() as session:
            report = service.revenue_report(session, start=first, end=last, engine=engine)
        render.revenue_json(report)
        times.append(time.perf_counter() - started)
    print(json.dumps({"seconds": times[-1], "first": times[0]}))


def _table(rows: list[dict], engines: list[str]) -> None:  # type: ignore[type-arg]
    head = ["accounts", "events", "features s (duckdb)", "s / 1M events"]
    head += [f"score {e} s (warm)" for e in engines]
    head += [f"s / 1M events ({e})" for e in engines]
    head += [f"revenue {e} s (warm)" for e in engines]
    head += [f"s / 1,000 accounts ({e})" for e in engines]
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    for r in rows:
        ev = int(r["events"]) / 1e6  # type: ignore[call-overload]
        acc = int(r["accounts"]) / 1e3  # type: ignore[call-overload]
        cells = [
            f"{r['accounts']:,}",
            f"{r['events']:,}",
            f"{r['features']}",
            f"{float(r['features']) / ev:.2f}",  # type: ignore[arg-type]
        ]
        cells += [f"{r[f'score_{e}']}" for e in engines]
        cells += [f"{float(r[f'score_{e}']) / ev:.2f}" for e in engines]  # type: ignore[arg-type]
        cells += [f"{r[f'revenue_{e}']}" for e in engines]
        cells += [f"{float(r[f'revenue_{e}']) / acc:.3f}" for e in engines]  # type: ignore[arg-type]
        print("| " + " | ".join(cells) + " |")
    for a, b in zip(rows, rows[1:], strict=False):
        grow = math.log(int(b["accounts"]) / int(a["accounts"]))  # type: ignore[call-overload]
        parts = [
            f"{k} {math.log(float(b[k]) / float(a[k])) / grow:.2f}"  # type: ignore[arg-type]
            for k in ("features", *(f"{m}_{e}" for m in ("score", "revenue") for e in engines))
            if float(a[k]) > 0  # type: ignore[arg-type]
        ]
        print(f"growth exponent {a['accounts']:,} -> {b['accounts']:,}: " + ", ".join(parts))


if __name__ == "__main__":
    main()
