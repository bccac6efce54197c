"""Usage features and the daily health score at scale, against baselines.

Runs each implementation in its own process (so peak memory is its own) on the event store of
an existing BANSO_HOME (e.g. the 100,000-account / 100,000,000-event demo world made by
benchmarks/generate_big.py) and prints seconds and peak RSS:

- bare: DuckDB ``SELECT account_id, count(*) FROM events GROUP BY 1`` over every file;
- banso: ``banso.usage.service.compute_features`` (the Ibis definition on DuckDB);
- polars / pandas: the same 28-day features written by hand with each library;
- score: ``banso health score --as-of`` (raw values for every measure, scoring, snapshot).

    .venv/bin/python benchmarks/usage_bench.py --home benchmarks/data/big --as-of 2026-10-31
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

IMPLEMENTATIONS = ("bare", "banso", "polars", "pandas", "score")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--as-of", type=date.fromisoformat, required=True)
    parser.add_argument("--only", choices=IMPLEMENTATIONS, action="append")
    parser.add_argument("--run", choices=IMPLEMENTATIONS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        _run_one(args.run, args.home, args.as_of)
        return
    results = {}
    for name in args.only or IMPLEMENTATIONS:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--home",
                str(args.home),
                "--as-of",
                args.as_of.isoformat(),
                "--run",
                name,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        results[name] = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{name:7s} {results[name]['seconds']:8.2f} s  peak {results[name]['peak_mb']:7.0f} MB"
            f"  rows {results[name]['rows']}",
            flush=True,
        )
    if "bare" in results and "banso" in results:
        print(f"banso / bare = {results['banso']['seconds'] / results['bare']['seconds']:.2f}")


def _run_one(name: str, home: Path, as_of: date) -> None:
    import os

    os.environ["BANSO_HOME"] = str(home)
    glob = str(home / "events" / "date=*" / "part-*.parquet")
    if name in ("banso", "score"):
        # module import is start-up, not the computation being measured
        import banso.health.service  # noqa: F401
        import banso.usage.service  # noqa: F401
    start = time.perf_counter()
    rows = globals()[f"_{name}"](glob, as_of)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "rows": rows}))


def _bare(glob: str, as_of: date) -> int:
    import duckdb

    q = f"SELECT account_id, count(*) FROM read_parquet('{glob}') GROUP BY 1"
    return len(duckdb.sql(q).fetchall())


def _banso(glob: str, as_of: date) -> int:
    from banso.usage.service import compute_features

    return compute_features(as_of).num_rows


def _window(as_of: date) -> tuple:  # type: ignore[type-arg]
    from banso.usage.metrics import UsageWindow

    w = UsageWindow(as_of, "Asia/Tokyo")
    return w.end, w.start(7), w.start(28), w.start(56), w.utc_offset_seconds


def _files_in_window(glob: str, as_of: date) -> list[str]:
    from glob import glob as find

    first = as_of - timedelta(days=57)
    return [
        f
        for f in find(glob)
        if first.isoformat() <= Path(f).parent.name.removeprefix("date=") <= as_of.isoformat()
    ]


def _polars(glob: str, as_of: date) -> int:
    import polars as pl

    end, s7, s28, s56, offset = _window(as_of)
    ev = pl.scan_parquet(glob).filter(pl.col("ts") < end)
    recent = ev.filter(pl.col("ts") >= s56).with_columns(
        day=((pl.col("ts").dt.epoch("s") + offset) // 86400),
        in7=pl.col("ts") >= s7,
        in28=pl.col("ts") >= s28,
        login=pl.col("event") == "login",
        adv=pl.col("event").is_in(["workflow.run", "api.call", "integration.sync"]),
    )
    prior = ~pl.col("in28")
    agg = recent.group_by("account_id").agg(
        active_users_7d=pl.col("user_id").filter(pl.col("in7")).n_unique(),
        active_users_28d=pl.col("user_id").filter(pl.col("in28")).n_unique(),
        active_users_prior=pl.col("user_id").filter(prior).n_unique(),
        active_days_7d=pl.col("day").filter(pl.col("in7")).n_unique(),
        active_days_28d=pl.col("day").filter(pl.col("in28")).n_unique(),
        active_days_prior=pl.col("day").filter(prior).n_unique(),
        logins_7d=(pl.col("login") & pl.col("in7")).sum(),
        logins_28d=(pl.col("login") & pl.col("in28")).sum(),
        logins_prior=(pl.col("login") & prior).sum(),
        events_28d=pl.col("in28").sum(),
        events_prior=prior.sum(),
        features_28d=pl.col("event").filter(pl.col("in28") & ~pl.col("login")).n_unique(),
        advanced_28d=pl.col("event").filter(pl.col("in28") & pl.col("adv")).n_unique(),
        advanced_events_28d=(pl.col("in28") & pl.col("adv")).sum(),
    )
    last = ev.group_by("account_id").agg(last_ts=pl.col("ts").max())
    out = last.join(agg, on="account_id", how="left").collect()
    return out.height


def _pandas(glob: str, as_of: date) -> int:
    from glob import glob as find

    import pandas as pd
    import pyarrow.parquet as pq

    end, s7, s28, s56, offset = _window(as_of)
    end, s7, s28, s56 = (pd.Timestamp(x) for x in (end, s7, s28, s56))
    frames = [pq.read_table(f).to_pandas() for f in _files_in_window(glob, as_of)]
    ev = pd.concat(frames, ignore_index=True)
    ev = ev[(ev.ts >= s56) & (ev.ts < end)]
    ev["day"] = (ev.ts.astype("int64") // 10**6 + offset) // 86400
    ev["in7"], ev["in28"] = ev.ts >= s7, ev.ts >= s28
    ev["login"] = ev.event == "login"
    w28, w7, prior = ev[ev.in28], ev[ev.in7], ev[~ev.in28]
    parts = [
        w7.groupby("account_id").user_id.nunique().rename("active_users_7d"),
        w28.groupby("account_id").user_id.nunique().rename("active_users_28d"),
        prior.groupby("account_id").user_id.nunique().rename("active_users_prior"),
        w7.groupby("account_id").day.nunique().rename("active_days_7d"),
        w28.groupby("account_id").day.nunique().rename("active_days_28d"),
        prior.groupby("account_id").day.nunique().rename("active_days_prior"),
        w28.groupby("account_id").login.sum().rename("logins_28d"),
        w28.groupby("account_id").size().rename("events_28d"),
        w28[~w28.login].groupby("account_id").event.nunique().rename("features_28d"),
    ]
    last = []
    for f in find(glob):
        t = pq.read_table(f, columns=["account_id", "ts"]).to_pandas()
        last.append(t[t.ts < end].groupby("account_id").ts.max())
    last_ts = pd.concat(last).groupby(level=0).max().rename("last_ts")
    out = pd.concat([last_ts, *parts], axis=1)
    return len(out)


def _score(glob: str, as_of: date) -> int:
    from banso.db import session_scope
    from banso.health import service

    with session_scope() as session:
        return service.score_days(session, [as_of])


if __name__ == "__main__":
    main()
