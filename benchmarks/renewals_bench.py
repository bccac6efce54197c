"""Benchmark: the renewal calendar (36 months) and the targets plan (one fiscal year), Banso's
code against a plain pandas version of the same calculation, side by side in one process.

Usage (from the repository root), on the 100,000-account revenue world (see README.md)::

    .venv/bin/python benchmarks/renewals_bench.py --home benchmarks/data/revenue [--repeat 5]

For each calculation, Banso then pandas, then Banso and pandas alternately ``--repeat`` more
times: the first call of each and the median of the warm ones (the CLI's start-up and module
imports excluded). Banso: ``renewals.calendar.renewal_calendar`` for the 36 months up to the last
complete month, and ``targets.plan.build_targets`` for the fiscal year holding that month (one
team of ten heads). pandas: ``renewals_pandas.pandas_calendar`` / ``pandas_plan_data`` (reading
the same SQLite file). Before timing anything is printed, the script asserts that pandas gives
exactly Banso's numbers: every month's ``lines_due``, ``accounts_due``, ``mrr_due``,
``mrr_lost`` and rate, and the plan's ``mrr_due``, planned rate and renewal target.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from renewals_pandas import pandas_calendar, pandas_plan_data  # noqa: E402

CALENDAR_KEYS = ("month", "lines_due", "accounts_due", "mrr_due", "mrr_lost", "renewal_churn_rate")
PLAN_KEYS = ("month", "mrr_due", "planned_renewal_churn_rate", "renewal_target")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--inputs-in-memory",
        action="store_true",
        help="compute only: both read the subscriptions once (Banso's Arrow read and pandas's "
        "read_sql are kept by this script) and only the calculation is timed",
    )
    args = parser.parse_args()
    os.environ["BANSO_HOME"] = str(args.home.resolve())
    db_path = args.home.resolve() / "banso.db"

    from banso.config import get_settings
    from banso.dates import last_complete_month
    from banso.db import session_scope
    from banso.renewals.calendar import renewal_calendar
    from banso.revenue.fiscal import fiscal_periods
    from banso.revenue.months import month_label
    from banso.targets.config import Targets, Team
    from banso.targets.plan import build_targets

    last = last_complete_month()
    last_idx = last.year * 12 + last.month - 1
    first_idx = last_idx - 35
    start, end = month_label(first_idx), month_label(last_idx)
    fy_start = get_settings().fiscal_year_start
    fiscal_year = last.year if last.month >= fy_start else last.year - 1
    ((_label, fy),) = [
        p for p in fiscal_periods(fiscal_year, None, fy_start) if p[0] == f"FY{fiscal_year}"
    ]
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

    def ours_calendar() -> list[dict[str, Any]]:
        with session_scope() as session:
            return renewal_calendar(session, start=start, end=end).rows

    def ours_plan() -> list[dict[str, Any]]:
        with session_scope() as session:
            return build_targets(session, fiscal_year, targets).rows

    def theirs_calendar() -> list[dict[str, Any]]:
        return pandas_calendar(db_path, first_idx, last_idx, last_idx)

    def theirs_plan() -> list[dict[str, Any]]:
        return pandas_plan_data(db_path, fy.first, fy.last, last_idx)

    if args.inputs_in_memory:
        _keep_inputs()

    print(
        f"world {args.home}: calendar {start}..{end}, plan FY{fiscal_year} "
        f"({month_label(fy.first)}..{month_label(fy.last)}), last complete month {end}; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    for name, ours, theirs, keys in (
        (f"renewals calendar {start}..{end}", ours_calendar, theirs_calendar, CALENDAR_KEYS),
        (f"targets build FY{fiscal_year}", ours_plan, theirs_plan, PLAN_KEYS),
    ):
        ours_s, theirs_s, ours_rows, theirs_rows = _alternate(ours, theirs, args.repeat)
        got = [{k: r[k] for k in keys} for r in ours_rows]
        want = [{k: r[k] for k in keys} for r in theirs_rows]
        assert got == want, f"{name}: pandas and Banso disagree"
        assert any(r["mrr_due"] for r in got), f"{name}: nothing due, nothing measured"
        ours_warm, theirs_warm = statistics.median(ours_s[1:]), statistics.median(theirs_s[1:])
        ours_cpu, theirs_cpu = (statistics.median(CPU[k][1:]) for k in ("banso", "pandas"))
        CPU["banso"].clear()
        CPU["pandas"].clear()
        print(
            f"{name}: {len(got)} rows, equal\n"
            f"  banso  first {ours_s[0]:5.2f} s  warm median {ours_warm:5.2f} s "
            f"(min {min(ours_s[1:]):.2f}, max {max(ours_s[1:]):.2f})\n"
            f"  pandas first {theirs_s[0]:5.2f} s  warm median {theirs_warm:5.2f} s "
            f"(min {min(theirs_s[1:]):.2f}, max {max(theirs_s[1:]):.2f})\n"
            f"  banso is {theirs_warm / ours_warm:.1f}x faster warm, "
            f"{theirs_s[0] / ours_s[0]:.1f}x on the first call; "
            f"CPU seconds warm (median): banso {ours_cpu:.2f}, pandas {theirs_cpu:.2f}"
        )
    # the dashboard's renewal tile: 4 months of the same calendar, kept per data version; timed
    # with its cache emptied before each call (a page after any write to the contracts)
    from banso.renewals import calendar as calendar_module

    tile = []
    for _ in range(args.repeat + 1):
        calendar_module._OUTLOOK.clear()
        began = time.perf_counter()
        with session_scope() as session:
            calendar_module.renewal_outlook(session)
        tile.append(time.perf_counter() - began)
    print(
        f"dashboard renewal tile (renewal_outlook, cache emptied): first {tile[0]:5.2f} s  "
        f"warm median {statistics.median(tile[1:]):5.2f} s"
    )
    print(f"load average at the end {os.getloadavg()[0]:.2f}")


def _keep_inputs() -> None:
    """Benchmark-only: read every whole table once per process on both sides, so the figures
    are of the calculation alone (Banso's engines.read_arrow and the baseline's read_lines are
    wrapped here; nothing in ``src`` changes)."""
    import renewals_pandas

    from banso.analytics import engines

    read_arrow = engines.read_arrow
    kept: dict[Any, Any] = {}

    def kept_arrow(app_db, columns, where=None):  # type: ignore[no-untyped-def]
        if where is not None:
            return read_arrow(app_db, columns, where)
        key = (str(app_db.url), tuple(str(c) for c in columns))
        if key not in kept:
            kept[key] = read_arrow(app_db, columns)
        return kept[key]

    engines.read_arrow = kept_arrow  # type: ignore[assignment]
    read_lines = renewals_pandas.read_lines
    lines: dict[Any, Any] = {}

    def kept_lines(db_path):  # type: ignore[no-untyped-def]
        if db_path not in lines:
            lines[db_path] = read_lines(db_path)
        return lines[db_path]

    renewals_pandas.read_lines = kept_lines  # type: ignore[assignment]
    print("inputs in memory: each side reads the subscriptions once, on its first call")


def _alternate(
    ours: Callable[[], list[dict[str, Any]]],
    theirs: Callable[[], list[dict[str, Any]]],
    repeat: int,
) -> tuple[list[float], list[float], list[dict[str, Any]], list[dict[str, Any]]]:
    """Seconds of 1 + ``repeat`` calls of each, alternating (first calls first), and the rows
    of the last call of each."""
    ours_s: list[float] = []
    theirs_s: list[float] = []
    ours_rows: list[dict[str, Any]] = []
    theirs_rows: list[dict[str, Any]] = []
    for _ in range(repeat + 1):
        began, cpu = time.perf_counter(), time.process_time()
        ours_rows = ours()
        ours_s.append(time.perf_counter() - began)
        CPU["banso"].append(time.process_time() - cpu)
        began, cpu = time.perf_counter(), time.process_time()
        theirs_rows = theirs()
        theirs_s.append(time.perf_counter() - began)
        CPU["pandas"].append(time.process_time() - cpu)
    return ours_s, theirs_s, ours_rows, theirs_rows


CPU: dict[str, list[float]] = {"banso": [], "pandas": []}
"""CPU seconds of the process (every thread) per call, beside the wall time: on a machine
shared with other jobs the wall time of DuckDB's threads follows the load far more than the
work done."""


if __name__ == "__main__":
    main()
