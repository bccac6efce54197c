"""Churn reasons: recording (CLI, service, audit), the losses without a reason and lost MRR by
reason, segment and month, on the spec's worked examples (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import sys
from fractions import Fraction
from pathlib import Path

import pytest
from sqlalchemy import select, update

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "revenue"))
from revenue_examples import EXAMPLE_NAMES, load_example  # noqa: E402

from banso.accounts.models import Account  # noqa: E402
from banso.audit.models import AuditEntry  # noqa: E402
from banso.db import session_scope  # noqa: E402
from banso.retention import service  # noqa: E402
from banso.revenue import service as revenue  # noqa: E402


def _ids() -> dict[str, int]:
    with session_scope() as s:
        return {name: aid for name, aid in s.execute(select(Account.name, Account.id))}


def _segments(segments: dict[str, str]) -> None:
    with session_scope() as s:
        for name, segment in segments.items():
            s.execute(update(Account).where(Account.name == name).values(segment=segment))


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_per_account_losses_add_up_to_the_revenue_reports_churn_and_contraction(
    example: str, any_db: str
) -> None:
    """The per-account amounts come from the same movements as `metrics revenue`: every month,
    Σ churned and Σ contraction equal the report's churned_mrr and contraction_mrr exactly."""
    load_example(example)
    with session_scope() as s:
        report = revenue.revenue_report(s)
        first, last = report.rows[0]["month"], report.rows[-1]["month"]
        _months, _c, rows = revenue.lost_by_account(s, start=first, end=last)
    for month_row in report.rows:
        mine = [r for r in rows if r["month"] == month_row["month"]]
        assert sum((r["churned_mrr"] for r in mine), Fraction(0)) == month_row["churned_mrr"]
        assert (
            sum((r["contraction_mrr"] for r in mine), Fraction(0)) == month_row["contraction_mrr"]
        )
        assert len([r for r in mine if r["churned_mrr"]]) == month_row["churned_customers"]


def test_reasons_recorded_by_hand_split_lost_mrr_by_reason_and_segment(cli, any_db: str) -> None:
    # basic_monthly: Mar churn 20,000 (B); Apr contraction 10,000 (E); May churn 15,000 (D)
    load_example("basic_monthly")
    _segments({"B": "Enterprise", "D": "SMB", "E": "SMB"})
    before = cli("churn-reasons", "unreasoned", "--from", "2024-01", "--to", "2024-06",
                 "--format", "json")  # fmt: skip
    assert before.exit_code == 0, before.stderr
    assert [(r["month"], r["account_name"], r["kind"], r["lost_mrr"])
            for r in json.loads(before.stdout)] == [
        ("2024-03", "B", "churn", 20000.0),
        ("2024-04", "E", "contraction", 10000.0),
        ("2024-05", "D", "churn", 15000.0),
    ]  # fmt: skip
    done = cli("churn-reasons", "record", "D", "--month", "2024-05", "--reason", "roi")
    assert done.exit_code == 0, done.stderr
    # a second recording for the same month supersedes the first; both stay
    done = cli("churn-reasons", "record", "D", "--month", "2024-05",
               "--reason", "cheaper_competitor", "--note", "moved to a cheaper tool")  # fmt: skip
    assert done.exit_code == 0, done.stderr
    assert "Recorded cheaper_competitor for D in 2024-05." in done.stdout
    done = cli("churn-reasons", "record", str(_ids()["E"]), "--month", "2024-04",
               "--reason", "champion_left")  # fmt: skip
    assert done.exit_code == 0, done.stderr

    out = cli("churn-reasons", "report", "--from", "2024-01", "--to", "2024-06",
              "--by", "segment", "--format", "json")  # fmt: skip
    assert out.exit_code == 0, out.stderr
    assert json.loads(out.stdout) == [
        {"month": "2024-03", "segment": "Enterprise", "reason": "unreasoned",
         "reason_label": "No reason recorded", "accounts": 1, "churned_mrr": 20000.0,
         "contraction_mrr": 0.0, "lost_mrr": 20000.0},
        {"month": "2024-04", "segment": "SMB", "reason": "champion_left",
         "reason_label": "Champion left", "accounts": 1, "churned_mrr": 0.0,
         "contraction_mrr": 10000.0, "lost_mrr": 10000.0},
        {"month": "2024-05", "segment": "SMB", "reason": "cheaper_competitor",
         "reason_label": "Cheaper competitor", "accounts": 1, "churned_mrr": 15000.0,
         "contraction_mrr": 0.0, "lost_mrr": 15000.0},
    ]  # fmt: skip
    csv_out = cli("churn-reasons", "report", "--from", "2024-05", "--to", "2024-05",
                  "--format", "csv")  # fmt: skip
    assert csv_out.stdout.splitlines() == [
        "month,reason,reason_label,accounts,churned_mrr,contraction_mrr,lost_mrr",
        "2024-05,cheaper_competitor,Cheaper competitor,1,15000.0,0.0,15000.0",
    ]
    left = cli("churn-reasons", "unreasoned", "--from", "2024-01", "--to", "2024-06",
               "--format", "json")  # fmt: skip
    assert [r["account_name"] for r in json.loads(left.stdout)] == ["B"]
    with session_scope() as s:
        entries = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "churn_reason.record")
        ).all()
        assert len(entries) == 3
        assert json.loads(entries[1].detail)["reason"] == "cheaper_competitor"
        history = service.history(s, _ids()["D"])
        assert [h.code for h in history] == ["cheaper_competitor", "roi"]
        assert history[0].note == "moved to a cheaper tool"


def test_japanese_labels_and_a_configured_list(cli, banso_home: Path) -> None:
    load_example("basic_monthly")
    config = banso_home / "config"
    config.mkdir(parents=True)
    (config / "churn_reasons.yaml").write_text(
        "reasons:\n"
        "  - code: budget_cut\n    en: Budget cut\n    ja: 予算削減\n"
        "  - code: roi\n    en: ROI not justified\n    ja: 費用対効果が合わない\n",
        encoding="utf-8",
    )
    assert cli("churn-reasons", "record", "B", "--month", "2024-03",
               "--reason", "budget_cut").exit_code == 0  # fmt: skip
    out = cli("--lang", "ja", "churn-reasons", "report", "--from", "2024-03", "--to", "2024-04",
              "--format", "json")  # fmt: skip
    assert out.exit_code == 0, out.stderr
    rows = json.loads(out.stdout)
    assert [(r["month"], r["reason"], r["reason_label"], r["lost_mrr"]) for r in rows] == [
        ("2024-03", "budget_cut", "予算削減", 20000.0),
        ("2024-04", "unreasoned", "理由未記録", 10000.0),
    ]
    listed = cli("--lang", "ja", "churn-reasons", "list")
    assert listed.stdout.splitlines() == ["budget_cut\t予算削減", "roi\t費用対効果が合わない"]
    # a default code the file no longer lists is refused
    bad = cli("churn-reasons", "record", "B", "--month", "2024-03", "--reason", "graduation")
    assert bad.exit_code == 2
    assert "Unknown churn reason 'graduation'; use one of: budget_cut, roi." in bad.stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["record", "B", "--month", "2024-13", "--reason", "roi"],
         "--month must be a month written YYYY-MM"),
        (["record", "B", "--month", "2024-03", "--reason", "bored"],
         "Unknown churn reason 'bored'"),
        (["record", "Nobody", "--month", "2024-03", "--reason", "roi"], "No account 'Nobody'"),
        (["report", "--from", "2024-06", "--to", "2024-01"], "--from 2024-06 is after --to"),
        (["report", "--by", "plan"], "Unknown breakdown plan; choose one of segment."),
        (["report", "--format", "xml"], "Unknown format xml"),
        (["unreasoned", "--from", "24-1"], "--from must be a month written YYYY-MM"),
    ],
)  # fmt: skip
def test_bad_input_is_one_sentence_and_exit_2(cli, args: list[str], fragment: str) -> None:
    load_example("basic_monthly")
    out = cli("churn-reasons", *args)
    assert out.exit_code == 2
    assert fragment in out.stderr
    assert "Traceback" not in out.stderr


def test_a_bad_reasons_file_names_file_line_and_field(cli, banso_home: Path) -> None:
    load_example("basic_monthly")
    config = banso_home / "config"
    config.mkdir(parents=True)
    path = config / "churn_reasons.yaml"
    path.write_text(
        "reasons:\n  - code: ok\n    en: OK\n    ja: OK\n  - code: Bad Code\n    en: x\n"
        "  - code: ok\n    en: again\n    ja: again\n",
        encoding="utf-8",
    )
    out = cli("churn-reasons", "list")
    assert out.exit_code == 2
    assert f"{path}:5: reasons.1.code: a code is lower-case letters" in out.stderr
    assert f"{path}:5: reasons.1.ja: Field required" in out.stderr
    path.write_text("reasons: [\n", encoding="utf-8")
    out = cli("churn-reasons", "list")
    assert out.exit_code == 2
    assert f"{path}:2: not valid YAML" in out.stderr
