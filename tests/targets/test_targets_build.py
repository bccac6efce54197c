"""``banso targets build``: the worked example of docs/metrics.md ("Targets"), by hand."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

LINES = [
    # account, id, start, end, amount a year (JPY, annual lines)
    ("P", "P1", "2024-04-10", "", 1200000),  # MRR 100,000, due every April, renews
    ("Q", "Q1", "2024-06-01", "2025-06-01", 2400000),  # 200,000 not renewed in June 2025
    ("R", "R1", "2024-06-15", "", 600000),  # 50,000 due every June
    ("S", "S1", "2025-09-01", "", 3600000),  # 300,000 first due in September 2026
    ("U", "U1", "2025-12-01", "", 240000),  # 20,000 first due in December 2026
]

TARGETS_YAML = """\
teams:
  - name: Enterprise
    headcount: 2
    headcount_by_month: {"2026-10": 3}
    products: 2
    expansion_mrr_per_head: 10000
    new_mrr_per_head: 5000
    seasonal_weights: {3: 1.5}
  - name: SMB
    headcount: 1
    products: 1
    expansion_mrr_per_head: 4000
    new_mrr_per_head: 2500
planned_renewal_churn_rate:
  "2026-12": 0.1
"""


@pytest.fixture
def world(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, banso_home: Path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BANSO_TODAY", "2026-12-01")
    path = tmp_path / "subscriptions.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["account_id", "subscription_id", "plan", "start_date", "end_date", "amount",
             "currency", "billing_period_months"]
        )  # fmt: skip
        for account, sid, start, end, amount in LINES:
            writer.writerow([account, sid, "p", start, end, amount, "JPY", 12])
    assert cli("init").exit_code == 0
    assert cli("import", "subscriptions", str(path)).exit_code == 0
    (banso_home / "config").mkdir(parents=True, exist_ok=True)
    (banso_home / "config" / "targets.yaml").write_text(TARGETS_YAML, encoding="utf-8")


# June 2025 lost 200,000 of the 350,000 due in 2025-04..2026-03 (the pooled months)
POOLED = round(200000 / 350000, 6)


def _row(month, due, rate, basis, renewal, expansion, new):  # type: ignore[no-untyped-def]
    return {
        "month": month,
        "mrr_due": due,
        "planned_renewal_churn_rate": rate,
        "renewal_target": renewal,
        "expansion_target": expansion,
        "new_target": new,
        "total_target": round(renewal + expansion + new, 2),
        "rate_basis": basis,
    }


def test_the_worked_example_of_the_docs(cli, world: None) -> None:  # type: ignore[no-untyped-def]
    result = cli("targets", "build", "--fiscal-year", "2026", "--format", "json")
    assert result.exit_code == 0, result.stderr
    plain = (44000.0, 22500.0)
    assert json.loads(result.stdout) == [
        # M−12 (2025-04) had P due and renewed: rate 0
        _row("2026-04", 100000.0, 0.0, "m_minus_12", 100000.0, *plain),
        # nothing due in 2025-05: the pooled rate of 2025-04..2026-03, 200,000 / 350,000
        _row("2026-05", 0.0, POOLED, "pooled", 0.0, *plain),
        # 2025-06: 250,000 due, Q's 200,000 lost: 0.8
        _row("2026-06", 50000.0, 0.8, "m_minus_12", 10000.0, *plain),
        _row("2026-07", 0.0, POOLED, "pooled", 0.0, *plain),
        _row("2026-08", 0.0, POOLED, "pooled", 0.0, *plain),
        # S's first renewal; nothing was due in 2025-09: 300,000 × 3/7 = 128,571.43
        _row("2026-09", 300000.0, POOLED, "pooled", 128571.43, *plain),
        # Enterprise has 3 heads in October: 3 × 10,000 × 2 + 4,000; 3 × 5,000 × 2 + 2,500
        _row("2026-10", 0.0, POOLED, "pooled", 0.0, 64000.0, 32500.0),
        _row("2026-11", 0.0, POOLED, "pooled", 0.0, *plain),
        # overridden in targets.yaml: 20,000 × 0.9
        _row("2026-12", 20000.0, 0.1, "override", 18000.0, *plain),
        _row("2027-01", 0.0, POOLED, "pooled", 0.0, *plain),
        _row("2027-02", 0.0, POOLED, "pooled", 0.0, *plain),
        # March weighs 1.5 for Enterprise: 2 × 10,000 × 2 × 1.5 + 4,000
        _row("2027-03", 0.0, POOLED, "pooled", 0.0, 64000.0, 32500.0),
    ]


def test_nothing_ever_due_plans_no_churn(cli, world: None) -> None:  # type: ignore[no-untyped-def]
    # FY2025: nothing was due in 2024-04..2025-03 (M−12 and the pooled months): rate 0
    result = cli("targets", "build", "--fiscal-year", "2025", "--format", "json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["month"] for r in rows] == [f"2025-{m:02d}" for m in range(4, 13)] + [
        f"2026-{m:02d}" for m in range(1, 4)
    ]
    assert {(r["planned_renewal_churn_rate"], r["rate_basis"]) for r in rows} == {(0.0, "none")}
    assert [(r["month"], r["mrr_due"], r["renewal_target"]) for r in rows if r["mrr_due"]] == [
        ("2025-04", 100000.0, 100000.0),
        ("2025-06", 250000.0, 250000.0),
    ]


def test_table_in_japanese(cli, world: None) -> None:  # type: ignore[no-untyped-def]
    result = cli("--lang", "ja", "targets", "build", "--fiscal-year", "2026")
    assert result.exit_code == 0, result.stderr
    assert "目標 FY2026" in result.stdout and "更新目標" in result.stdout
    assert "前年同月" in result.stdout and "￥128,571" in result.stdout


def test_a_year_without_data_and_a_bad_file_exit_2(cli, world: None, banso_home: Path) -> None:  # type: ignore[no-untyped-def]
    early = cli("targets", "build", "--fiscal-year", "2020")
    assert early.exit_code == 2
    assert "Fiscal year 2020 (2020-04 to 2021-03) has no contract data" in early.stderr
    late = cli("targets", "build", "--fiscal-year", "2040")
    assert late.exit_code == 2 and "Fiscal year 2040" in late.stderr
    path = banso_home / "config" / "targets.yaml"
    path.write_text(TARGETS_YAML.replace("headcount: 1", "headcount: -1"), encoding="utf-8")
    bad = cli("targets", "build", "--fiscal-year", "2026")
    assert bad.exit_code == 2
    assert f"{path}:10: teams.1.headcount: Input should be greater than or equal to 0" in (
        bad.stderr
    )
    path.write_text(TARGETS_YAML.replace('"2026-12": 0.1', '"2026-13": 0.1'), encoding="utf-8")
    month = cli("targets", "build", "--fiscal-year", "2026")
    assert month.exit_code == 2 and "planned_renewal_churn_rate" in month.stderr
    assert "YYYY-MM" in month.stderr
    path.unlink()
    missing = cli("targets", "build", "--fiscal-year", "2026")
    assert missing.exit_code == 2 and "No targets file at" in missing.stderr


def test_plan_vs_actual_by_month_and_team(cli, world: None) -> None:  # type: ignore[no-untyped-def]
    result = cli("targets", "actual", "--fiscal-year", "2025", "--format", "json")
    assert result.exit_code == 0, result.stderr
    rows = {r["month"]: r for r in json.loads(result.stdout)}
    assert len(rows) == 12
    # June 2025: 250,000 due (plan: nothing was ever due before, rate 0), Q's 200,000 lost
    assert rows["2025-06"] == {
        "month": "2025-06",
        "renewal_target": 250000.0,
        "renewal_actual": 50000.0,
        "expansion_target": 44000.0,
        "expansion_actual": 0.0,
        "new_target": 22500.0,
        "new_actual": 0.0,
        "total_target": 316500.0,
        "total_actual": 50000.0,
        "attainment": 0.157978,
    }
    # September 2025: S is new business (§3 new_mrr 300,000)
    assert rows["2025-09"]["new_actual"] == 300000.0
    assert rows["2025-09"]["attainment"] == 4.511278
    assert rows["2026-03"]["expansion_target"] == 64000.0  # the March weight
    by_team = cli("targets", "actual", "--fiscal-year", "2025", "--by", "team", "--format", "json")
    assert by_team.exit_code == 0, by_team.stderr
    june = [r for r in json.loads(by_team.stdout) if r["month"] == "2025-06"]
    assert [(r["team"], r["expansion_target"], r["renewal_actual"]) for r in june] == [
        ("Enterprise", 40000.0, 0.0),
        ("SMB", 4000.0, 0.0),
        (None, 0.0, 50000.0),  # no owner is in a team in this world
    ]
    assert sum(r["total_target"] for r in june) == 316500.0
    future = cli("targets", "actual", "--fiscal-year", "2027")
    assert future.exit_code == 2
    assert "No month of fiscal year 2027 is over yet" in future.stderr


def test_bad_input_is_one_sentence_and_exit_2(cli, world: None, banso_home: Path) -> None:  # type: ignore[no-untyped-def]
    for command in ("build", "actual"):
        old = cli("targets", command, "--fiscal-year", "1990")
        assert old.exit_code == 2, (command, old.stdout)
        assert old.stderr.strip().splitlines() == [
            "Error: Fiscal year 1990 (1990-04 to 1991-03) has no contract data: the "
            "subscriptions start in 2024-04, and plans reach at most to 2036-12."
        ]
        word = cli("targets", command, "--fiscal-year", "next")
        assert word.exit_code == 2
        assert "--fiscal-year must be a whole number, not 'next'." in word.stderr
    path = banso_home / "config" / "targets.yaml"
    path.write_text("teams: [\n", encoding="utf-8")
    broken = cli("targets", "build", "--fiscal-year", "2026")
    assert broken.exit_code == 2
    assert broken.stderr.strip().splitlines() == [
        f"Error: {path}:2: not valid YAML: expected the node content, but found '<stream end>'"
    ]
