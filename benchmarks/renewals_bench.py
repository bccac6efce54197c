"""Benchmark: the renewal calendar (36 months) and the targets plan (one fiscal year) on a world,
first call and warm calls in one process (the CLI's start-up excluded).

Usage (from the repository root), on a world made by ``benchmarks/generate_big.py``::

    .venv/bin/python benchmarks/renewals_bench.py --home benchmarks/data/big [--repeat 5]

Prints the seconds of the first call and the median of the warm ones for
``renewals.calendar.renewal_calendar`` (36 months up to the last complete month) and
``targets.plan.build_targets`` (the fiscal year that holds that month, one team of ten heads).
Not yet here: the pandas version of the same calculations the issue asks to compare against.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from decimal import Decimal
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    os.environ["BANSO_HOME"] = str(args.home.resolve())

    from banso.config import get_settings
    from banso.dates import last_complete_month
    from banso.db import session_scope
    from banso.renewals.calendar import renewal_calendar
    from banso.revenue.months import month_label
    from banso.targets.config import Targets, Team
    from banso.targets.plan import build_targets

    last = last_complete_month()
    last_idx = last.year * 12 + last.month - 1
    start, end = month_label(last_idx - 35), month_label(last_idx)
    fy_start = get_settings().fiscal_year_start
    fiscal_year = last.year if last.month >= fy_start else last.year - 1
    targets = Targets(
        teams=[
            Team(
                name="CS",
                headcount=10,
                expansion_mrr_per_head=Decimal(200_000),
                new_mrr_per_head=Decimal(100_000),
            )
        ]
    )

    def timed(label: str, work) -> None:  # type: ignore[no-untyped-def]
        seconds = []
        for _ in range(args.repeat + 1):
            with session_scope() as session:
                began = time.perf_counter()
                rows = work(session)
                seconds.append(time.perf_counter() - began)
        warm = statistics.median(seconds[1:])
        print(f"{label:<40} rows {rows:>4}  first {seconds[0]:6.2f} s  warm median {warm:6.2f} s")

    timed(
        f"renewals calendar {start}..{end}",
        lambda s: len(renewal_calendar(s, start=start, end=end).rows),
    )
    timed(
        f"targets build FY{fiscal_year}",
        lambda s: len(build_targets(s, fiscal_year, targets).rows),
    )


if __name__ == "__main__":
    main()
