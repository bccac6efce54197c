"""Revenue reports beyond the worked examples: bad input, FX conversion, breakdowns, fiscal
periods, the table format, defaults and an outside data set (dbt Labs' MRR playbook)."""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from revenue_examples import EXAMPLES, insert_subscriptions, load_example

from banso.db import session_scope
from banso.revenue.fx import set_fx_rate

PLAYBOOK = EXAMPLES.parents[1] / "external" / "mrr_playbook" / "subscriptions.csv"


def _row(
    account: str,
    sid: str,
    start: str,
    end: str,
    amount: int,
    currency: str = "JPY",
    bpm: int = 1,
    plan: str = "basic",
) -> dict[str, str]:
    return {
        "account_id": account,
        "subscription_id": sid,
        "plan": plan,
        "start_date": start,
        "end_date": end,
        "amount": str(amount),
        "currency": currency,
        "billing_period_months": str(bpm),
    }


# --- bad input: one sentence, exit code 2 ---------------------------------------------------


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--from", "2024-06", "--to", "2024-01"], "--from 2024-06 is after --to 2024-01"),
        (["--from", "2024-13", "--to", "2024-12"], "--from must be a month written YYYY-MM"),
        (["--from", "2024/01"], "--from must be a month written YYYY-MM"),
        (["--to", "24-1"], "--to must be a month written YYYY-MM"),
        (["--engine", "oracle"], "Unknown engine oracle; choose one of duckdb, postgres, spark."),
        (
            ["--engine", "postgres"],
            "The postgres engine needs a PostgreSQL app database; this one is sqlite.",
        ),
        (["--by", "colour"], "Unknown breakdown colour"),
        (["--format", "xml"], "Unknown format xml"),
    ],
)
def test_bad_revenue_options_give_one_sentence_and_exit_2(
    cli, args: list[str], fragment: str
) -> None:  # type: ignore[no-untyped-def]
    load_example("basic_monthly")
    result = cli("metrics", "revenue", *args)
    assert result.exit_code == 2
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_empty_and_uninitialised_databases_are_explained(cli) -> None:  # type: ignore[no-untyped-def]
    before = cli("metrics", "revenue")
    assert before.exit_code == 2
    assert (
        before.stderr.strip() == "Error: The database is not initialised; run `banso init` first."
    )
    assert cli("init").exit_code == 0
    for command in (["revenue"], ["cohorts"], ["summary"], ["last-month"]):
        result = cli("metrics", *command)
        assert result.exit_code == 2, command
        assert result.stderr.strip() == (
            "Error: No subscriptions to report on; run `banso import subscriptions FILE`."
        )


def test_bad_fiscal_options(cli) -> None:  # type: ignore[no-untyped-def]
    load_example("jpy_realistic")
    result = cli("metrics", "summary", "--fiscal-year", "2024", "--quarter", "5")
    assert (result.exit_code, result.stderr.strip()) == (
        2,
        "Error: --quarter must be 1, 2, 3 or 4; got 5.",
    )
    later = cli("metrics", "summary", "--fiscal-year", "2030")
    assert later.exit_code == 2
    assert "Fiscal year 2030 starts after the last month with data (2025-05)." in later.stderr


# --- FX ---------------------------------------------------------------------------------------


def test_foreign_currency_is_converted_with_the_month_rate(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").exit_code == 0
    insert_subscriptions(
        [
            _row("Acme", "S1", "2024-01-01", "", 10000),
            # 12,000.00 USD a year = 1,000 USD a month, in cents
            _row("Globex", "S2", "2024-01-15", "2024-03-15", 1200000, "USD", 12),
        ]
    )
    result = cli("metrics", "revenue", "--from", "2024-01", "--to", "2024-03")
    assert result.exit_code == 2
    assert "No FX rate for USD in 2024-01" in result.stderr
    for month, rate in (("2024-01", "150.25"), ("2024-02", "149.5"), ("2024-03", "151.125")):
        assert cli("metrics", "fx-rate", "usd", month, rate).exit_code == 0
    rows = json.loads(cli("metrics", "revenue", "--from", "2024-01", "--to", "2024-03").stdout)
    assert [r["mrr_end"] for r in rows] == [160250.0, 159500.0, 10000.0]
    # the rate moves the converted MRR: a contraction of 750 in February, churn at February's rate
    assert rows[1]["contraction_mrr"] == 750.0
    assert rows[2]["churned_mrr"] == 149500.0
    assert rows[2]["renewal_due_mrr"] == 10000.0  # the annual line has no renewal date yet


def test_fx_rate_must_be_positive(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").exit_code == 0
    for bad in ("0", "abc"):
        result = cli("metrics", "fx-rate", "USD", "2024-01", bad)
        assert (result.exit_code, result.stderr.strip()) == (
            2,
            f"Error: The FX rate must be a positive number; got '{bad}'.",
        )
    with session_scope() as session:
        stored = set_fx_rate(session, "EUR", "2024-02", Decimal("161.0401"))
        assert (stored.currency, stored.month, stored.rate) == (
            "EUR",
            "2024-02",
            Decimal("161.0401"),
        )


def test_usd_report_of_the_mrr_playbook(cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """dbt Labs' sample data (USD cents): movements add up every month; figures checked by hand
    from the CSV (month-end sums of the active lines)."""
    monkeypatch.setenv("BANSO_REPORTING_CURRENCY", "USD")
    assert cli("init").exit_code == 0
    assert cli("import", "subscriptions", str(PLAYBOOK)).exit_code == 0
    result = cli("metrics", "revenue", "--from", "2018-01", "--to", "2019-12")
    rows = {r["month"]: r for r in json.loads(result.stdout)}
    assert len(rows) == 24
    for r in rows.values():
        moved = r["new_mrr"] + r["reactivation_mrr"] + r["expansion_mrr"]
        moved -= r["contraction_mrr"] + r["churned_mrr"]
        assert r["mrr_end"] == pytest.approx(r["mrr_start"] + moved, abs=0.005), r["month"]
    assert (rows["2018-06"]["mrr_end"], rows["2018-06"]["customers_end"]) == (235.0, 4)
    assert (rows["2019-03"]["mrr_end"], rows["2019-03"]["customers_end"]) == (660.0, 14)
    assert rows["2018-09"]["reactivation_mrr"] == 50.0
    december = rows["2019-12"]
    assert (december["mrr_end"], december["customers_end"], december["churned_customers"]) == (
        1255.0,
        28,
        17,
    )
    assert december["logo_churn_rate"] == 0.404762  # 17 / 42


# --- breakdowns, defaults, fiscal periods, tables -------------------------------------------


def test_breakdown_by_plan_splits_each_month(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").exit_code == 0
    assert (
        cli(
            "import", "subscriptions", str(EXAMPLES / "basic_monthly" / "subscriptions.csv")
        ).exit_code
        == 0
    )
    with session_scope() as session:
        from banso.accounts.models import Account

        for account in session.query(Account):
            account.plan = "large" if account.name in ("C", "E", "G") else "small"
    total = json.loads(cli("metrics", "revenue", "--from", "2024-01", "--to", "2024-06").stdout)
    split = json.loads(
        cli("metrics", "revenue", "--from", "2024-01", "--to", "2024-06", "--by", "plan").stdout
    )
    assert [(r["month"], r["plan"]) for r in split[:4]] == [
        ("2024-01", "large"),
        ("2024-01", "small"),
        ("2024-02", "large"),
        ("2024-02", "small"),
    ]
    for whole in total:
        parts = [r for r in split if r["month"] == whole["month"]]
        for key in ("mrr_end", "new_mrr", "churned_mrr", "renewal_due_mrr", "customers_end"):
            assert sum(p[key] for p in parts) == pytest.approx(whole[key]), (whole["month"], key)
    march_small = next(r for r in split if r["month"] == "2024-03" and r["plan"] == "small")
    # B (20,000) left; the small plan held A, B, D: 45,000 at the end of February
    assert march_small["mrr_churn_rate"] == float(round(20000 / 45000, 6))


def test_default_range_is_twelve_months_to_the_last_month_with_data(cli) -> None:  # type: ignore[no-untyped-def]
    load_example("jpy_realistic")
    assert cli("metrics", "last-month").stdout.strip() == "2025-05"
    rows = json.loads(cli("metrics", "revenue").stdout)
    assert [rows[0]["month"], rows[-1]["month"], len(rows)] == ["2024-06", "2025-05", 12]
    # from 2024-07 on only こだま's cohort (July 2024) starts; ages 0..10 run to 2025-05
    cohorts = json.loads(cli("metrics", "cohorts", "--from", "2024-07").stdout)
    assert [(c["cohort"], c["age"]) for c in cohorts] == [("2024-07", k) for k in range(11)]
    assert {c["mrr"] for c in cohorts} == {49800.0, 59800.0}


def test_fiscal_quarter_figures_of_the_realistic_example(cli) -> None:  # type: ignore[no-untyped-def]
    """FY2024 Q3 = Oct–Dec 2024 of jpy_realistic: たちばな churns in October (28,333.33), ふじ精機
    in December (100,000), こだま's add-on is not renewed in December (10,000)."""
    load_example("jpy_realistic")
    result = cli("metrics", "summary", "--fiscal-year", "2024", "--quarter", "3")
    assert result.exit_code == 0, result.stderr
    (q3,) = json.loads(result.stdout)
    assert (q3["period"], q3["from"], q3["to"], q3["complete"]) == (
        "FY2024 Q3",
        "2024-10",
        "2024-12",
        True,
    )
    assert (q3["mrr_start"], q3["mrr_end"]) == (397733.33, 259400.0)
    assert (q3["customers_start"], q3["customers_end"], q3["churned_customers"]) == (7, 5, 2)
    assert q3["churned_mrr"] == 128333.33
    assert q3["contraction_mrr"] == 10000.0
    # period MRR churn on the period-start base: 128,333.33 / 397,733.33
    assert q3["mrr_churn_rate"] == float(round(Fraction(385000, 3) / Fraction(1193200, 3), 6))
    assert q3["logo_churn_rate"] == float(round(2 / 7, 6))
    # renewal churn over the quarter: (28,333.33 + 10,000) / (147,733.33 + 119,400 + 119,400)
    assert q3["renewal_churn_rate"] == float(round(Fraction(115000, 3) / Fraction(1159600, 3), 6))
    # the mean of October's 0.071237, November's 0 and December's 0.270709
    avg = (Fraction(85000, 1193200) + Fraction(100000, 369400)) / 3
    assert q3["avg_monthly_mrr_churn_rate"] == float(round(avg, 6))


def test_fiscal_year_summary_defaults_to_the_latest_year(cli) -> None:  # type: ignore[no-untyped-def]
    load_example("jpy_realistic")
    periods = json.loads(cli("metrics", "summary").stdout)
    # the last data month 2025-05 lies in FY2025 (April 2025 - March 2026): Q1 so far, and the year
    assert [(p["period"], p["from"], p["to"], p["complete"]) for p in periods] == [
        ("FY2025 Q1", "2025-04", "2025-05", False),
        ("FY2025", "2025-04", "2025-05", False),
    ]
    year = periods[1]
    assert year["nrr_12m"] == 0.595722 and year["mrr_end"] == 239200.0


def test_tables_are_for_people_in_japanese(cli) -> None:  # type: ignore[no-untyped-def]
    load_example("basic_monthly")
    result = cli(
        "--lang",
        "ja",
        "metrics",
        "revenue",
        "--from",
        "2024-02",
        "--to",
        "2024-05",
        "--format",
        "table",
    )
    assert result.exit_code == 0, result.stderr
    assert "月次解約率" in result.stdout and "月次更新解約率" in result.stdout
    assert "￥225,000" in result.stdout  # February's MRR (CLDR's ja_JP yen sign is full width)
    assert "8.89%" in result.stdout  # March's 月次解約率 0.088889
    summary = cli("--lang", "ja", "metrics", "summary", "--format", "table")
    assert summary.exit_code == 0, summary.stderr
    assert "FY2024" in summary.stdout
    cohorts = cli("metrics", "cohorts", "--format", "table")
    assert "Logo retention" in cohorts.stdout and "81.82%" in cohorts.stdout


def test_csv_has_the_json_keys(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    load_example("basic_monthly")
    out = cli(
        "metrics", "revenue", "--from", "2024-01", "--to", "2024-02", "--format", "csv"
    ).stdout
    header, january, february = out.strip().splitlines()
    assert header.startswith("month,mrr_start,mrr_end,new_mrr,")
    assert january.startswith("2024-01,0.0,110000.0,110000.0,")
    assert february.split(",")[header.split(",").index("renewal_churn_rate")] == "0.0"
