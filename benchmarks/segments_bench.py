"""Benchmark: the daily segment evaluation (``banso run``'s segment step) on a world, in one
process (the CLI's start-up excluded).

Usage (from the repository root), on a world made by ``banso demo generate`` (e.g. 100,000
accounts, ``--event-scale 0``: the step reads no events)::

    .venv/bin/python benchmarks/segments_bench.py --home benchmarks/data/seg100k \
        --day 2026-10-31 [--days 3]

Evaluates ``--days`` consecutive days ending with ``--day`` (each its own transaction, as
``banso run`` does), then the last day again (nothing changes), then a dry run; prints the
seconds of each, the accounts that changed segment and touch model, the accounts per segment and
the process's peak RSS. The first day of a fresh world writes every account's history interval,
segment, touch model and audit entry; the next days only what changed.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from datetime import date, timedelta
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--day", type=date.fromisoformat, required=True)
    parser.add_argument("--days", type=int, default=3)
    args = parser.parse_args()
    os.environ["BANSO_HOME"] = str(args.home.resolve())

    from banso.db import session_scope
    from banso.segments import service

    rules = service.rule_set()
    days = [args.day - timedelta(days=n) for n in range(args.days - 1, -1, -1)]

    def run(day: date, label: str, write: bool = True) -> None:
        began = time.perf_counter()
        with session_scope() as session:
            result = service.evaluate(session, day, write=write, rules=rules)
        seconds = time.perf_counter() - began
        counts = ", ".join(f"{c.segment} {c.accounts:,}" for c in result.counts)
        print(
            f"{label:<22} {day}  {seconds:6.2f} s  changed {result.changed:,}, "
            f"touch {result.touch_changed:,}  ({counts})",
            flush=True,
        )

    for day in days:
        run(day, "evaluate")
    run(days[-1], "again (no change)")
    run(days[-1], "dry run", write=False)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
