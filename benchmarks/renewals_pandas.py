"""The renewal calendar and the data part of the targets plan written in plain pandas, as the
baseline ``renewals_bench.py`` times Banso against (issue 14: "≥ 2× faster than a pandas version
of the same calculation").

Same definitions as ``docs/metrics.md`` §5 and ``banso.revenue.metrics.renewal_due_lines`` /
``renewals`` / ``renewal_counts``, read straight from the SQLite file with ``pandas.read_sql``:

- renewal date k of a line falls in month ``start + k × bpm`` on day ``min(start day, days in
  that month)``; the line is due there when ``end_date`` is open or on/after that date, and not
  renewed when ``end_date`` is that date;
- per account and month, lost = max(0, not renewed − MRR of the account's lines starting on a
  date one of its not-renewed lines ended);
- the rate is lost ÷ due for months that are over (``complete`` and before), else None.

One currency only (the benchmark worlds and the worked examples are JPY): no FX conversion.
Money comes back exact (``Fraction`` of the currency's major unit) so callers can compare it
with Banso's exact rows. Benchmark-only code: pandas is not a runtime dependency of Banso's own
code (it arrives with ``ibis-framework[duckdb]``), and nothing under ``src/`` imports this file.
"""

from __future__ import annotations

import sqlite3
from fractions import Fraction
from math import lcm
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

MINOR_EXPONENT = {"JPY": 0, "KRW": 0, "USD": 2, "EUR": 2, "GBP": 2}


def read_lines(db_path: Path) -> tuple[pd.DataFrame, int, int]:
    """The subscriptions as month indices and ``unit`` = amount × (lcm / bpm); returns the lines,
    the lcm of the billing periods and the currency's minor-unit exponent."""
    with sqlite3.connect(db_path) as conn:
        s = pd.read_sql(
            "SELECT account_id, start_date, end_date, amount, currency,"
            " billing_period_months AS bpm FROM subscriptions",
            conn,
        )
    currencies = s.currency.unique()
    if len(currencies) > 1:
        raise ValueError(f"the pandas baseline handles one currency, not {sorted(currencies)}")
    exponent = MINOR_EXPONENT[currencies[0]] if len(currencies) else 0
    start = pd.to_datetime(s.start_date, format="%Y-%m-%d")
    end = pd.to_datetime(s.end_date, format="%Y-%m-%d")
    period_lcm = lcm(1, *map(int, s.bpm.unique()))
    lines = pd.DataFrame(
        {
            "account_id": s.account_id.astype("int64"),
            "bpm": s.bpm.astype("int64"),
            "s_idx": (start.dt.year * 12 + start.dt.month - 1).astype("int64"),
            "s_day": start.dt.day.astype("int64"),
            "e_idx": (end.dt.year * 12 + end.dt.month - 1).fillna(10**9).astype("int64"),
            "e_day": end.dt.day.fillna(0).astype("int64"),
            "unit": s.amount.astype("int64") * (period_lcm // s.bpm.astype("int64")),
        }
    )
    return lines, period_lcm, exponent


def calendar(
    lines: pd.DataFrame, period_lcm: int, exponent: int, first: int, last: int, complete: int
) -> list[dict[str, Any]]:
    """Rows ``month, lines_due, accounts_due, mrr_due, mrr_renewed, mrr_lost,
    renewal_churn_rate`` for the month indices ``first``..``last`` (``complete``: the last month
    that is over)."""
    # the renewal dates k = k_lo..k_hi of each line that fall in first..last, at or before its end
    bpm = lines.bpm.to_numpy()
    s_idx = lines.s_idx.to_numpy()
    e_idx = lines.e_idx.to_numpy()
    k_lo = np.maximum(1, -((s_idx - first) // bpm))  # ceil((first - start) / bpm)
    k_hi = (np.minimum(e_idx, last) - s_idx) // bpm
    n = np.clip(k_hi - k_lo + 1, 0, None)
    rows = np.repeat(np.arange(len(lines)), n)
    k = np.repeat(k_lo, n) + np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    month = s_idx[rows] + k * bpm[rows]
    span = pd.period_range(
        f"{first // 12}-{first % 12 + 1:02d}", periods=last - first + 1, freq="M"
    )
    days_in = span.days_in_month.to_numpy()[month - first]
    due = pd.DataFrame(
        {
            "account_id": lines.account_id.to_numpy()[rows],
            "m": month,
            "b_day": np.minimum(lines.s_day.to_numpy()[rows], days_in),
            "e_idx": e_idx[rows],
            "e_day": lines.e_day.to_numpy()[rows],
            "unit": lines.unit.to_numpy()[rows],
        }
    )
    due = due[(due.e_idx > due.m) | (due.e_day >= due.b_day)]
    ended = due[(due.e_idx == due.m) & (due.e_day == due.b_day)]

    per_month = due.groupby("m").agg(
        lines_due=("unit", "size"), accounts_due=("account_id", "nunique"), due=("unit", "sum")
    )
    # lost: per account and month, not renewed less what starts the day a not-renewed line ended
    not_renewed = ended.groupby(["account_id", "m"], as_index=False).unit.sum()
    ends = ended[["account_id", "m", "e_day"]].drop_duplicates()
    replaced = (
        lines.merge(
            ends,
            left_on=["account_id", "s_idx", "s_day"],
            right_on=["account_id", "m", "e_day"],
        )
        .groupby(["account_id", "m"], as_index=False)
        .unit.sum()
        .rename(columns={"unit": "replaced"})
    )
    net = not_renewed.merge(replaced, on=["account_id", "m"], how="left").fillna({"replaced": 0})
    net["lost"] = (net.unit - net.replaced).clip(lower=0)
    lost_m = net.groupby("m").lost.sum()

    scale = period_lcm * 10**exponent
    out = []
    for m in range(first, last + 1):
        if m in per_month.index:
            got = per_month.loc[m]
            lines_due, accounts_due, due_units = (
                int(got.lines_due),
                int(got.accounts_due),
                int(got.due),
            )
        else:
            lines_due = accounts_due = due_units = 0
        lost_units = int(lost_m.get(m, 0))
        out.append(
            {
                "month": f"{m // 12:04d}-{m % 12 + 1:02d}",
                "lines_due": lines_due,
                "accounts_due": accounts_due,
                "mrr_due": Fraction(due_units, scale),
                "mrr_renewed": Fraction(due_units - lost_units, scale),
                "mrr_lost": Fraction(lost_units, scale),
                "renewal_churn_rate": (
                    Fraction(lost_units, due_units) if m <= complete and due_units else None
                ),
            }
        )
    return out


def pandas_calendar(db_path: Path, first: int, last: int, complete: int) -> list[dict[str, Any]]:
    """The renewal calendar of ``first``..``last`` (month indices), read from ``db_path``."""
    lines, period_lcm, exponent = read_lines(db_path)
    return calendar(lines, period_lcm, exponent, first, last, complete)


def pandas_plan_data(
    db_path: Path, fy_first: int, fy_last: int, complete: int
) -> list[dict[str, Any]]:
    """The data part of the targets plan of the fiscal year ``fy_first``..``fy_last``: per month
    ``mrr_due``, the actual renewal churn rate of M−12 (None when nothing was due then or that
    month is not over), the pooled rate of the 12 complete months before the year, the planned
    rate (M−12's, else pooled, else 0) and ``renewal_target`` = due × (1 − planned rate)."""
    lines, period_lcm, exponent = read_lines(db_path)
    pool_last = min(fy_first - 1, complete)
    pool_first = pool_last - 11
    first = min(pool_first, fy_first - 12)
    rows = {r["month"]: r for r in calendar(lines, period_lcm, exponent, first, fy_last, complete)}

    def label(m: int) -> str:
        return f"{m // 12:04d}-{m % 12 + 1:02d}"

    pool = [rows[label(m)] for m in range(pool_first, pool_last + 1)]
    pooled_due = sum((r["mrr_due"] for r in pool), Fraction(0))
    pooled = sum((r["mrr_lost"] for r in pool), Fraction(0)) / pooled_due if pooled_due else None
    out = []
    for m in range(fy_first, fy_last + 1):
        due = rows[label(m)]["mrr_due"]
        before = rows[label(m - 12)]["renewal_churn_rate"]
        planned = before if before is not None else (pooled if pooled is not None else Fraction(0))
        out.append(
            {
                "month": label(m),
                "mrr_due": due,
                "m_minus_12_rate": before,
                "pooled_rate": pooled,
                "planned_renewal_churn_rate": planned,
                "renewal_target": due * (1 - planned),
            }
        )
    return out
