"""``banso team scorecard``: the worked example of docs/team.md ("Evaluation"), by hand; and
``evaluation.yaml`` problems named with file, line and field."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from banso.db import session_scope

LINES = [
    # account, id, start, end, amount a month (JPY, monthly lines)
    ("A", "A1", "2024-01-01", "2025-05-01", 100000),  # churns in May 2025 on a renewal date
    ("B", "B1", "2024-01-01", "", 200000),
    ("B", "B2", "2025-06-01", "", 50000),  # add-on: expansion 50,000 in June 2025
    ("C", "C1", "2024-01-01", "", 100000),
    ("D", "D1", "2024-01-01", "", 50000),  # Bob's book
]

EVALUATION_YAML = """\
evaluations:
  - team: "*"
    job_title: "*"
    weights: {churn: 40, expansion: 20, strategic: 10, qualitative: 30}
    churn: {measure: gross_mrr_churn_rate, target: 0.05}
    expansion: {target_per_month: 20000}
    strategic: {kpi: nps, target: 20}
    qualitative: {target: 80}
  - team: SMB
    job_title: trainee
    weights: {churn: 0, expansion: 30, strategic: 30, qualitative: 40}
    churn: {measure: renewal_churn_rate, target: 0.02}
    expansion: {target_per_month: 10000}
    strategic: {kpi: nps, target: 30}
    qualitative: {target: 80}
"""


@pytest.fixture
def world(  # type: ignore[no-untyped-def]
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, banso_home: Path, any_db: str
) -> dict[str, int]:
    """The worked example's data on SQLite and on PostgreSQL."""
    from banso.accounts.models import Account
    from banso.surveys.models import SurveyResponse
    from banso.team.models import TeamMember

    monkeypatch.setenv("BANSO_TODAY", "2025-07-15")
    path = tmp_path / "subscriptions.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["account_id", "subscription_id", "plan", "start_date", "end_date", "amount",
             "currency", "billing_period_months"]
        )  # fmt: skip
        for account, sid, start, end, amount in LINES:
            writer.writerow([account, sid, "p", start, end, amount, "JPY", 1])
    assert cli("init").exit_code == 0
    assert cli("import", "subscriptions", str(path)).exit_code == 0
    (banso_home / "config").mkdir(parents=True, exist_ok=True)
    (banso_home / "config" / "evaluation.yaml").write_text(EVALUATION_YAML, encoding="utf-8")
    with session_scope() as session:
        alice = TeamMember(name="Alice", email="alice@example.com", team="Enterprise",
                           job_title="associate")  # fmt: skip
        bob = TeamMember(name="Bob", email="bob@example.com", team="SMB", job_title="trainee")
        session.add_all([alice, bob])
        session.flush()
        ids = {a.name: a.id for a in session.scalars(select(Account))}
        for name in ("A", "B", "C"):
            session.get(Account, ids[name]).owner_id = alice.id  # type: ignore[union-attr]
        session.get(Account, ids["D"]).owner_id = bob.id  # type: ignore[union-attr]
        # Alice's book answers NPS in the quarter: 10, 9 promoters, 7 passive, 3 detractor;
        # an answer of March (before the quarter) and one of Bob's account do not count
        answers = [("A", 10, 4), ("B", 9, 5), ("C", 7, 6), ("B", 3, 6), ("C", 0, 3), ("D", 10, 5)]
        for n, (name, score, month) in enumerate(answers):
            session.add(
                SurveyResponse(account_id=ids[name], source="test", external_id=str(n),
                               survey_type="nps", score=score,
                               answered_at=datetime(2025, month, 10, 3, tzinfo=UTC))
            )  # fmt: skip
        return {"alice": alice.id, "bob": bob.id}


def test_the_worked_example_of_the_docs(cli, world: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    entered = cli("team", "qualitative", "alice@example.com", "--period", "FY2025Q1",
                  "--score", "90", "--note", "Led the renewal review")  # fmt: skip
    assert entered.exit_code == 0, entered.stderr
    assert cli("team", "qualitative", str(world["bob"]), "--period", "FY2025-Q1",
               "--score", "40").exit_code == 0  # fmt: skip
    result = cli("team", "scorecard", "--period", "FY2025Q1", "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["period"], report["from"], report["to"], report["complete"]) == (
        "FY2025-Q1", "2025-04", "2025-06", True,
    )  # fmt: skip
    alice, bob = report["scorecards"]
    assert alice["rule"] == {"team": "*", "job_title": "*"}
    assert alice["accounts"] == 3
    # book: 400,000 at the start; May loses A (100,000); June B grows by 50,000
    assert alice["book"]["mrr_start"] == 400000.0
    assert alice["book"]["mrr_end"] == 350000.0
    assert alice["book"]["expansion_mrr"] == 50000.0
    # monthly gross MRR churn 0, 100,000 / 400,000, 0 → mean 1/12
    assert alice["book"]["avg_monthly_gross_mrr_churn_rate"] == 0.083333
    # renewal churn: 100,000 lost of 400,000 + 400,000 + 300,000 due
    assert alice["book"]["renewal_churn_rate"] == round(1 / 11, 6)
    axes = {a["axis"]: a for a in alice["axes"]}
    # churn: lower is better, 0.05 / (1/12) = 0.6
    assert (axes["churn"]["actual"], axes["churn"]["attainment"]) == (0.083333, 0.6)
    # expansion: 50,000 against 3 × 20,000
    assert axes["expansion"]["target"] == 60000.0
    assert axes["expansion"]["attainment"] == 0.833333
    # NPS: (2 promoters − 1 detractor) / 4 answers = 25 against 20
    assert (axes["strategic"]["actual"], axes["strategic"]["attainment"]) == (25.0, 1.25)
    assert (axes["qualitative"]["actual"], axes["qualitative"]["attainment"]) == (90.0, 1.125)
    # (40 × 0.6 + 20 × 5/6 + 10 × 1.25 + 30 × 1.125) / 100 = 86.916666… %
    assert alice["total"] == 0.869167
    assert alice["missing"] == []
    assert alice["qualitative_note"] == "Led the renewal review"

    assert bob["rule"] == {"team": "SMB", "job_title": "trainee"}
    bob_axes = {a["axis"]: a for a in bob["axes"]}
    assert bob_axes["churn"]["weight"] == 0.0
    assert bob_axes["expansion"]["attainment"] == 0.0  # nothing grew against 30,000
    # Bob's one answer (10, in May): NPS 100 against 30, capped at 150 %
    assert (bob_axes["strategic"]["actual"], bob_axes["strategic"]["attainment"]) == (100.0, 1.5)
    assert bob_axes["qualitative"]["attainment"] == 0.5  # 40 / 80
    assert bob["missing"] == []
    # (0 × churn + 30 × 0 + 30 × 1.5 + 40 × 0.5) / 100
    assert bob["total"] == 0.65


def test_a_missing_axis_is_left_out_of_the_total(cli, world: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    result = cli("team", "scorecard", "--period", "FY2025Q1", "--format", "json")
    bob = json.loads(result.stdout)["scorecards"][1]
    # no qualitative score yet: (30 × 0 + 30 × 1.5) / 60 = 0.75
    assert bob["missing"] == ["qualitative"]
    assert bob["total"] == 0.75


def test_a_month_and_a_fiscal_year(cli, world: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    may = json.loads(cli("team", "scorecard", "--period", "2025-05", "--format", "json").stdout)
    alice = may["scorecards"][0]
    assert (may["from"], may["to"]) == ("2025-05", "2025-05")
    assert alice["book"]["gross_mrr_churn_rate"] == 0.25
    # 0.05 / 0.25
    assert {a["axis"]: a["attainment"] for a in alice["axes"]}["churn"] == 0.2
    year = json.loads(cli("team", "scorecard", "--period", "FY2025", "--format", "json").stdout)
    assert (year["from"], year["to"], year["complete"]) == ("2025-04", "2026-03", False)


def test_bad_periods_and_members_are_one_sentence(cli, world: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    bad = cli("team", "scorecard", "--period", "2025Q1")
    assert bad.exit_code == 2 and "FY2025Q1" in bad.stderr
    ancient = cli("team", "scorecard", "--period", "FY0001")
    assert ancient.exit_code == 2 and "1990" in ancient.stderr
    nobody = cli("team", "qualitative", "nobody@example.com", "--period", "FY2025", "--score", "5")
    assert nobody.exit_code == 2 and "nobody@example.com" in nobody.stderr
    high = cli("team", "qualitative", "alice@example.com", "--period", "FY2025", "--score", "101")
    assert high.exit_code == 2


def test_the_table_names_each_csm(cli, world: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    result = cli("team", "scorecard", "--period", "FY2025Q1")
    assert result.exit_code == 0, result.stderr
    assert "Alice" in result.stdout and "Bob" in result.stdout


WEIGHTS_90 = """\
evaluations:
  - team: "*"
    job_title: "*"
    weights: {churn: 40, expansion: 20, strategic: 10, qualitative: 20}
    churn: {target: 0.05}
    expansion: {target_per_month: 20000}
    strategic: {kpi: nps, target: 20}
    qualitative: {target: 80}
  - team: SMB
    job_title: boss
    weights: {churn: 0, expansion: 30, strategic: 30, qualitative: 40}
    churn: {target: 0.05}
    expansion: {target_per_month: 20000}
    strategic: {kpi: onboarding, target: 20}
    qualitative: {target: 80}
"""


def test_weights_not_adding_up_to_100_are_rejected_with_file_and_line(
    cli, world: dict[str, int], banso_home: Path
) -> None:  # type: ignore[no-untyped-def]
    path = banso_home / "config" / "evaluation.yaml"
    path.write_text(WEIGHTS_90, encoding="utf-8")
    result = cli("team", "scorecard", "--period", "FY2025Q1")
    assert result.exit_code == 2
    lines = [line.removeprefix("Error: ") for line in result.stderr.strip().splitlines()]
    assert f"{path}:4: evaluations.0.weights: the weights add up to 90 %, not 100 %" in lines
    assert any(line.startswith(f"{path}:10: evaluations.1.job_title: use one of") for line in lines)
    assert any(line.startswith(f"{path}:14: evaluations.1.strategic.kpi:") for line in lines)


def test_the_packaged_default_validates() -> None:
    from banso.evaluation.config import DEFAULT_EVALUATION, load_evaluation

    loaded = load_evaluation(DEFAULT_EVALUATION).model
    assert loaded.for_member("Anything", "trainee") is not None


def test_one_members_card_equals_their_card_among_all(cli, world: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    """One book's own report (only its lines read) and the report split by book agree."""
    args = ("team", "scorecard", "--period", "FY2025Q1", "--format", "json")
    every = json.loads(cli(*args).stdout)["scorecards"]
    for member in ("alice@example.com", str(world["bob"])):
        (alone,) = json.loads(cli(*args, "--member", member).stdout)["scorecards"]
        assert alone == next(c for c in every if c["member_id"] == alone["member_id"])
