"""Goals (goals.yaml): each goal's value, trend and status from the revenue report, checked on
the spec's basic_monthly example as of 2024-07-15 (last complete month 2024-06)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "revenue"))
from revenue_examples import load_example  # noqa: E402

GOALS = """\
goals:
  - name: "月次更新解約率 ≤ 2 %"
    kpi: renewal_churn_rate
    comparison: "<="
    target: 2%
    due: FY2024
    drivers: [renewal_due_mrr, renewal_churned_mrr]
  - name: MRR 300k by March 2025
    kpi: mrr_end
    comparison: ">="
    target: 300000
    due: 2025-03
  - name: MRR 1.5M by March 2025
    kpi: mrr_end
    comparison: ">="
    target: 1500000
    due: 2025-03
  - name: MRR 300k by March 2024
    kpi: mrr_end
    comparison: ">="
    target: 300000
    due: 2024-03
  - name: NRR ≥ 115 % at FY2026 end
    kpi: nrr_12m
    comparison: ">="
    target: 115%
    due: FY2026
"""


def _write(home: Path, text: str) -> Path:
    config = home / "config"
    config.mkdir(parents=True, exist_ok=True)
    path = config / "goals.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_goal_status_from_the_revenue_report(
    cli, banso_home: Path, any_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BANSO_TODAY", "2024-07-15")
    monkeypatch.setenv("COLUMNS", "250")
    load_example("basic_monthly")
    _write(banso_home, GOALS)
    out = cli("goals", "status", "--format", "json")
    assert out.exit_code == 0, out.stderr
    goals = json.loads(out.stdout)
    assert [(g["goal"], g["month"], g["due"], g["value"], g["status"]) for g in goals] == [
        ("月次更新解約率 ≤ 2 %", "2024-06", "2025-03", 0.0, "met"),
        # 215,000 now, 0 in 2023-07: the line reaches 215,000 + 215,000/11 × 9 = 390,909 by
        # 2025-03, over 300,000 and short of 1,500,000
        ("MRR 300k by March 2025", "2024-06", "2025-03", 215000.0, "on_track"),
        ("MRR 1.5M by March 2025", "2024-06", "2025-03", 215000.0, "off_track"),
        ("MRR 300k by March 2024", "2024-06", "2024-03", 215000.0, "missed"),
        ("NRR ≥ 115 % at FY2026 end", "2024-06", "2027-03", None, "no_data"),
    ]
    renewal = goals[0]
    assert renewal["target"] == 0.02
    # the same values as `metrics revenue` for those months (basic_monthly's expected output)
    assert [t["value"] for t in renewal["trend"]][-5:] == [0.0, 0.16, 0.095238, 0.130435, 0.0]
    assert [t["month"] for t in renewal["trend"]] == [
        "2023-07", "2023-08", "2023-09", "2023-10", "2023-11", "2023-12",
        "2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06",
    ]  # fmt: skip
    assert [d["kpi"] for d in renewal["drivers"]] == ["renewal_due_mrr", "renewal_churned_mrr"]
    assert [t["value"] for t in goals[1]["trend"]][-6:] == [
        110000.0,
        225000.0,
        205000.0,
        215000.0,
        200000.0,
        215000.0,
    ]
    revenue = cli("metrics", "revenue", "--from", "2023-07", "--to", "2024-06")
    wanted = json.loads(revenue.stdout)
    assert [t["value"] for t in renewal["trend"]] == [r["renewal_churn_rate"] for r in wanted]
    assert [t["value"] for t in renewal["drivers"][0]["trend"]] == [
        r["renewal_due_mrr"] for r in wanted
    ]
    table = cli("--lang", "ja", "goals", "status")
    assert table.exit_code == 0, table.stderr
    for word in ("達成", "順調", "遅れ", "未達", "データなし"):
        assert word in table.stdout


def test_a_bad_goals_file_is_file_line_field_reason_and_exit_2(cli, banso_home: Path) -> None:
    load_example("basic_monthly")
    missing = cli("goals", "status")
    assert missing.exit_code == 2
    assert "No goals file: write the company's goals in" in missing.stderr
    path = _write(
        banso_home,
        "goals:\n  - name: x\n    kpi: nrr\n    comparison: '=='\n    target: abc\n"
        "    due: 2024-13\n    drivers: [arpa, ltvv]\n",
    )
    out = cli("goals", "status")
    assert out.exit_code == 2
    lines = out.stderr.strip().removeprefix("Error: ").splitlines()
    assert lines[0].startswith(f"{path}:3: goals.0.kpi: unknown KPI nrr; use one of")
    assert f"{path}:4: goals.0.comparison: use one of >=, <=, >, < (or ≥, ≤)" in lines
    assert (
        f"{path}:5: goals.0.target: write a number such as 0.02 or a percentage such as 115%"
        in lines
    )
    assert (
        f"{path}:6: goals.0.due: write a month YYYY-MM such as 2027-03, or a fiscal year such "
        "as FY2026" in lines
    )
    assert any(line.startswith(f"{path}:7: goals.0.drivers.1: unknown KPI ltvv") for line in lines)
    _write(banso_home, "goals: [\n")
    out = cli("goals", "status")
    assert out.exit_code == 2
    assert "not valid YAML" in out.stderr
    assert "Traceback" not in out.stderr
