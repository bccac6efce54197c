"""``banso renewals calendar``: spec §5's renewal figures per month, past and future.

Past months must equal ``banso metrics revenue`` (the service function and the spec's expected
outputs) on every worked example and on a generated world; future months are checked against
values worked out by hand.
"""

from __future__ import annotations

import csv
import json
from fractions import Fraction
from pathlib import Path

import pytest

from banso.db import session_scope
from banso.renewals.calendar import renewal_calendar
from banso.revenue.service import revenue_report

EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "metrics" / "examples"
EXAMPLE_NAMES = sorted(p.name for p in EXAMPLES.iterdir() if (p / "subscriptions.csv").exists())


def _calendar(cli, *args: str) -> list[dict]:  # type: ignore[no-untyped-def]
    result = cli("renewals", "calendar", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_calendar_equals_metrics_revenue_on_every_worked_example(cli, name: str) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").exit_code == 0
    imported = cli("import", "subscriptions", str(EXAMPLES / name / "subscriptions.csv"))
    assert imported.exit_code == 0, imported.stderr
    want = json.loads((EXAMPLES / name / "expected_revenue.json").read_text(encoding="utf-8"))
    first, last = want[0]["month"], want[-1]["month"]
    rows = _calendar(cli, "--from", first, "--to", last)
    assert [r["month"] for r in rows] == [w["month"] for w in want]
    for got, spec in zip(rows, want, strict=True):
        # the spec's expected outputs, to the output contract's precision
        assert got["mrr_due"] == pytest.approx(spec["renewal_due_mrr"], abs=0.01)
        assert got["mrr_lost"] == pytest.approx(spec["renewal_churned_mrr"], abs=0.01)
        if spec["renewal_churn_rate"] is None:
            assert got["renewal_churn_rate"] is None
        else:
            assert got["renewal_churn_rate"] == pytest.approx(spec["renewal_churn_rate"], abs=1e-6)
        assert got["mrr_renewed"] == pytest.approx(got["mrr_due"] - got["mrr_lost"], abs=0.01)
        assert (got["lines_due"] == 0) == (got["mrr_due"] == 0 and got["accounts_due"] == 0)
    # and exactly the service function's exact values
    with session_scope() as session:
        report = revenue_report(session, start=first, end=last)
        calendar = renewal_calendar(session, start=first, end=last)
    for exact, row in zip(report.rows, calendar.rows, strict=True):
        assert row["mrr_due"] == exact["renewal_due_mrr"]
        assert row["mrr_lost"] == exact["renewal_churned_mrr"]
        assert row["renewal_churn_rate"] == exact["renewal_churn_rate"]


def test_calendar_equals_metrics_revenue_on_a_generated_world_by_owner_and_plan(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").exit_code == 0
    generated = cli(
        "demo", "generate", "--accounts", "150", "--months", "30",
        "--end", "2026-12-01", "--event-scale", "0",
    )  # fmt: skip
    assert generated.exit_code == 0, generated.stderr
    first, last = "2024-07", "2026-11"
    with session_scope() as session:
        report = revenue_report(session, start=first, end=last)
        calendar = renewal_calendar(session, start=first, end=last)
        due = [r["renewal_due_mrr"] for r in report.rows]
        assert sum(due) > 0 and sum(r["renewal_churned_mrr"] for r in report.rows) > 0
        assert [r["mrr_due"] for r in calendar.rows] == due
        assert [r["mrr_lost"] for r in calendar.rows] == [
            r["renewal_churned_mrr"] for r in report.rows
        ]
        assert [r["renewal_churn_rate"] for r in calendar.rows] == [
            r["renewal_churn_rate"] for r in report.rows
        ]
        for by in ("owner", "plan", "segment"):
            split = revenue_report(session, start=first, end=last, by=by)
            by_calendar = renewal_calendar(session, start=first, end=last, by=by)
            assert {
                (r["month"], r[by]): (r["renewal_due_mrr"], r["renewal_churned_mrr"])
                for r in split.rows
            } == {(r["month"], r[by]): (r["mrr_due"], r["mrr_lost"]) for r in by_calendar.rows}
        touch = renewal_calendar(session, start=first, end=last, by="touch")
        for month_row in calendar.rows:
            parts = [r for r in touch.rows if r["month"] == month_row["month"]]
            assert sum(r["mrr_due"] for r in parts) == month_row["mrr_due"]
            assert sum(r["lines_due"] for r in parts) == month_row["lines_due"]
            assert sum(r["accounts_due"] for r in parts) == month_row["accounts_due"]


FUTURE_LINES = [
    # account, id, start, end, amount, bpm
    ("年契約商事", "A1", "2025-12-24", "", 1200000, 12),  # open: renews 2026-12-24, 2027-12-24
    ("解約予告", "B1", "2026-01-15", "2027-01-15", 600000, 12),  # notice given for 2027-01-15
    ("月額工業", "C1", "2026-06-01", "", 30000, 1),  # due every month
    ("途中解約", "D1", "2026-02-10", "2026-12-20", 2400000, 12),  # ends before its renewal
    ("離脱済み", "E1", "2025-11-05", "2026-11-05", 1200000, 12),  # not renewed in November
]


@pytest.fixture
def future_world(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BANSO_TODAY", "2026-12-01")
    path = tmp_path / "subscriptions.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["account_id", "subscription_id", "plan", "start_date", "end_date", "amount",
             "currency", "billing_period_months"]
        )  # fmt: skip
        for account, sid, start, end, amount, bpm in FUTURE_LINES:
            writer.writerow([account, sid, "p", start, end, amount, "JPY", bpm])
    assert cli("init").exit_code == 0
    assert cli("import", "subscriptions", str(path)).exit_code == 0


def test_future_months_take_the_contracts_as_they_stand(cli, future_world: None) -> None:  # type: ignore[no-untyped-def]
    rows = _calendar(cli, "--from", "2026-11", "--to", "2027-02")
    assert rows == [
        # November is over: E1 not renewed (100,000 of 130,000 due), the rate is §5's
        {"month": "2026-11", "lines_due": 2, "accounts_due": 2, "mrr_due": 130000.0,
         "mrr_renewed": 30000.0, "mrr_lost": 100000.0, "renewal_churn_rate": 0.769231},
        # December is not over: A1 renews (open-ended), no rate yet
        {"month": "2026-12", "lines_due": 2, "accounts_due": 2, "mrr_due": 130000.0,
         "mrr_renewed": 130000.0, "mrr_lost": 0.0, "renewal_churn_rate": None,
         "complete": False},
        # January: B1's notice is the loss known today; D1 ends before its renewal date
        {"month": "2027-01", "lines_due": 2, "accounts_due": 2, "mrr_due": 80000.0,
         "mrr_renewed": 30000.0, "mrr_lost": 50000.0, "renewal_churn_rate": None,
         "complete": False},
        {"month": "2027-02", "lines_due": 1, "accounts_due": 1, "mrr_due": 30000.0,
         "mrr_renewed": 30000.0, "mrr_lost": 0.0, "renewal_churn_rate": None,
         "complete": False},
    ]  # fmt: skip
    terms = _calendar(cli, "--from", "2026-11", "--to", "2027-02", "--min-term-months", "12")
    assert [(r["mrr_due"], r["mrr_lost"], r["lines_due"]) for r in terms] == [
        (100000.0, 100000.0, 1),
        (100000.0, 0.0, 1),
        (50000.0, 50000.0, 1),
        (0.0, 0.0, 0),
    ]
    assert terms[0]["renewal_churn_rate"] == 1.0
    # the future months are what `metrics revenue` says of them too
    with session_scope() as session:
        report = revenue_report(session, start="2026-11", end="2027-02")
    assert [r["renewal_due_mrr"] for r in report.rows] == [
        Fraction(130000),
        Fraction(130000),
        Fraction(80000),
        Fraction(30000),
    ]
    assert [r["renewal_churned_mrr"] for r in report.rows] == [
        Fraction(100000),
        Fraction(0),
        Fraction(50000),
        Fraction(0),
    ]


def test_csv_and_table_formats(cli, future_world: None) -> None:  # type: ignore[no-untyped-def]
    out = cli("renewals", "calendar", "--from", "2026-11", "--to", "2026-12", "--format", "csv")
    assert out.exit_code == 0, out.stderr
    assert out.stdout.splitlines() == [
        "month,lines_due,accounts_due,mrr_due,mrr_renewed,mrr_lost,renewal_churn_rate",
        "2026-11,2,2,130000.0,30000.0,100000.0,0.769231",
        "2026-12,2,2,130000.0,130000.0,0.0,",
    ]
    table = cli("--lang", "ja", "renewals", "calendar", "--from", "2026-11", "--to", "2026-12")
    assert table.exit_code == 0, table.stderr
    assert "更新カレンダー" in table.stdout and "2026-12（途中）" in table.stdout
    assert "76.92%" in table.stdout and "￥130,000" in table.stdout
    by = _calendar(cli, "--from", "2026-12", "--to", "2026-12", "--by", "plan")
    assert by == [
        {"month": "2026-12", "plan": None, "lines_due": 2, "accounts_due": 2,
         "mrr_due": 130000.0, "mrr_renewed": 130000.0, "mrr_lost": 0.0,
         "renewal_churn_rate": None, "complete": False},
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--from", "2027-02", "--to", "2026-11"), "--from 2027-02 is after --to 2026-11"),
        (("--from", "2026-13", "--to", "2027-01"), "--from must be a month written YYYY-MM"),
        (("--from", "2026-11", "--to", "next"), "--to must be a month written YYYY-MM"),
        (("--from", "2026-11", "--to", "2026-12", "--by", "colour"), "Unknown breakdown colour"),
        (("--from", "2026-11", "--to", "2026-12", "--format", "xml"), "Unknown format xml"),
        (("--from", "2026-11", "--to", "2026-12", "--min-term-months", "0"),
         "--min-term-months must be 1 or more"),
    ],
)  # fmt: skip
def test_bad_input_is_one_sentence_and_exit_2(  # type: ignore[no-untyped-def]
    cli, future_world: None, args: tuple[str, ...], message: str
) -> None:
    result = cli("renewals", "calendar", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.postgres
@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_calendar_equals_metrics_revenue_on_postgres(cli, pg_url: str, name: str) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").exit_code == 0
    imported = cli("import", "subscriptions", str(EXAMPLES / name / "subscriptions.csv"))
    assert imported.exit_code == 0, imported.stderr
    want = json.loads((EXAMPLES / name / "expected_revenue.json").read_text(encoding="utf-8"))
    first, last = want[0]["month"], want[-1]["month"]
    with session_scope() as session:
        report = revenue_report(session, start=first, end=last, engine="postgres")
        calendar = renewal_calendar(session, start=first, end=last, engine="postgres")
        duck = renewal_calendar(session, start=first, end=last)
    assert calendar.rows == duck.rows
    for exact, row in zip(report.rows, calendar.rows, strict=True):
        assert (row["mrr_due"], row["mrr_lost"]) == (
            exact["renewal_due_mrr"],
            exact["renewal_churned_mrr"],
        )
