"""The pandas baseline of ``benchmarks/renewals_bench.py`` computes what Banso computes.

The benchmark compares Banso's renewal calendar and targets plan with a plain pandas version
of the same calculation (``benchmarks/renewals_pandas.py``); a speed-up means something only if
both give the same numbers. The benchmark asserts it on its world; here on every worked example
of spec §5 and on the targets worked example, where Banso's figures are checked by hand
elsewhere (``test_renewal_calendar.py``, ``tests/targets/test_targets_build.py``).
"""

from __future__ import annotations

import csv
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings

from banso import schema
from banso.config import get_settings
from banso.db import dispose_engines, session_scope
from banso.ingest.importer import import_file
from banso.renewals.calendar import renewal_calendar
from banso.revenue.months import MonthRange, parse_month
from banso.revenue.service import renewal_months
from banso.targets.config import Targets, Team
from banso.targets.plan import build_targets

pytest.importorskip("pandas")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
from renewals_pandas import pandas_calendar, pandas_plan_data  # noqa: E402
from tests.revenue.test_properties import subscription_rows  # noqa: E402

EXAMPLES = ROOT / "tests" / "data" / "metrics" / "examples"
EXAMPLE_NAMES = sorted(p.name for p in EXAMPLES.iterdir() if (p / "subscriptions.csv").exists())
CALENDAR_KEYS = ("month", "lines_due", "accounts_due", "mrr_due", "mrr_renewed", "mrr_lost",
                 "renewal_churn_rate")  # fmt: skip


def _db() -> Path:
    return get_settings().home / "banso.db"


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_pandas_calendar_equals_banso_on_every_worked_example(
    cli, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BANSO_TODAY", "2025-06-15")
    assert cli("init").exit_code == 0
    assert cli("import", "subscriptions", str(EXAMPLES / name / "subscriptions.csv")).exit_code == 0
    # the examples' months, then a year of future months (notice given, open lines renewing)
    first, last, complete = "2023-01", "2026-06", parse_month("2025-05", "month")
    with session_scope() as session:
        ours = renewal_calendar(session, start=first, end=last).rows
    theirs = pandas_calendar(_db(), parse_month(first, "m"), parse_month(last, "m"), complete)
    assert [{k: r[k] for k in CALENDAR_KEYS} for r in ours] == theirs
    assert sum(r["mrr_due"] for r in theirs) > 0


PLAN_LINES = [
    # the worked example of docs/metrics.md "Targets" (annual lines)
    ("P", "P1", "2024-04-10", "", 1200000),
    ("Q", "Q1", "2024-06-01", "2025-06-01", 2400000),
    ("R", "R1", "2024-06-15", "", 600000),
    ("S", "S1", "2025-09-01", "", 3600000),
    ("U", "U1", "2025-12-01", "", 240000),
]


def test_pandas_plan_data_equals_banso_on_the_targets_worked_example(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BANSO_TODAY", "2026-12-01")
    path = tmp_path / "subscriptions.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["account_id", "subscription_id", "plan", "start_date", "end_date", "amount",
             "currency", "billing_period_months"]
        )  # fmt: skip
        for account, sid, start, end, amount in PLAN_LINES:
            writer.writerow([account, sid, "p", start, end, amount, "JPY", 12])
    assert cli("init").exit_code == 0
    assert cli("import", "subscriptions", str(path)).exit_code == 0
    targets = Targets(
        teams=[Team(name="CS", headcount=1, expansion_mrr_per_head=Decimal(1),
                    new_mrr_per_head=Decimal(1))]
    )  # fmt: skip
    complete = parse_month("2026-11", "m")
    for year in (2025, 2026):
        with session_scope() as session:
            ours = build_targets(session, year, targets).rows
        first = parse_month(f"{year}-04", "m")
        theirs = pandas_plan_data(_db(), first, first + 11, complete)
        keys = ("month", "mrr_due", "planned_renewal_churn_rate", "renewal_target")
        assert [{k: r[k] for k in keys} for r in ours] == [{k: r[k] for k in keys} for r in theirs]
    # FY2026: M−12 rate where something was due then (2025-04: 0, 2025-06: 0.8), else pooled
    assert [str(r["m_minus_12_rate"]) for r in theirs[:3]] == ["0", "None", "4/5"]
    assert theirs[0]["pooled_rate"] == pytest.approx(200000 / 350000)


@pytest.mark.slow
@settings(max_examples=15, deadline=None)
@given(rows=subscription_rows())
def test_calendar_equals_the_per_month_expansion_on_random_histories(
    rows: list[dict[str, str]],
) -> None:
    """Banso sums monthly lines by cumulative deltas and counts accounts over merged runs
    (``revenue.metrics.renewal_due_spans``); the pandas baseline lists every line's renewal
    dates one by one. Random histories (overlapping lines on one account, month-end starts,
    ends on and off renewal dates, replacements) give the same months, past and future, and
    the per-account rows (``by="account"``: runs keyed per account) add up to them; so do the
    rows of the owner of each month (``by="owner"``: runs spread month by month)."""
    first, last = parse_month("2023-03", "m"), parse_month("2026-02", "m")
    complete = parse_month("2025-05", "m")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'banso.db'}"
        schema.upgrade(url)
        path = Path(tmp) / "subscriptions.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        with session_scope(url) as session:
            import_file(session, "subscriptions", path)
        months = MonthRange(first, last)
        with session_scope(url) as session:
            total = renewal_months(session, months).rows
            per_account = renewal_months(session, months, by="account").rows
            per_owner = renewal_months(session, months, by="owner").rows
        dispose_engines()
        theirs = pandas_calendar(Path(tmp) / "banso.db", first, last, complete)
    assert [
        {"month": r["month"], "lines_due": r["lines_due"], "accounts_due": r["accounts_due"],
         "mrr_due": r["due"], "mrr_lost": r["lost"]}
        for r in total
    ] == [
        {k: r[k] for k in ("month", "lines_due", "accounts_due", "mrr_due", "mrr_lost")}
        for r in theirs
    ]  # fmt: skip
    for split in (per_account, per_owner):
        for month in total:
            parts = [r for r in split if r["month"] == month["month"]]
            assert sum(r["lines_due"] for r in parts) == month["lines_due"]
            assert sum(r["accounts_due"] for r in parts) == month["accounts_due"]
            assert sum(r["due"] for r in parts) == month["due"]
            assert sum(r["lost"] for r in parts) == month["lost"]
