"""The renewal pipeline on a hand-worked world (docs/metrics.md §5b), SQLite and PostgreSQL.

Today is 2026-01-10. Ten "green" accounts G1-G10 and two "red" ones R1, R2 renewed (or not) on
2025-03-15, their band read from the health snapshot of 2024-12-15 (90 days before):

- G1-G10 pay ¥1,200,000 a year from 2024-03-15 (MRR 100,000); G9 and G10 end on 2025-03-15;
  G8's line ends then too and is replaced the same day by a ¥600,000 plan (MRR 50,000), so
  it loses 50,000. Green: due 1,000,000, lost 250,000, rate 0.75 over 10 renewals.
- R1, R2 pay ¥600,000 a year (MRR 50,000); R1 ends on 2025-03-15. Red: 2 renewals, fewer than
  MIN_SAMPLE (10), so red accounts get the overall rate: (1,100,000 − 300,000) / 1,100,000 =
  8/11 = 0.727273 over 12 renewals.
- G3 took a ¥120,000-a-year add-on (MRR 10,000) from 2025-03-15; M1 pays ¥30,000 a month
  (monthly lines are no account renewals).

Renewals of 2026-03-15 (today's health: G1 green, G2 green, R2 red; the others not scored):
G1 commit (0.95) → 95,000; G2 green 0.75 → 75,000; G3 110,000 × 8/11 = 80,000; G4-G7 100,000 ×
8/11 = 72,727.27 each; G8 and R2 50,000 × 8/11 = 36,363.64 each. Σ due 810,000, Σ expected
170,000 + 610,000 × 8/11 = 613,636.36.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pyarrow as pa
import pytest
from sqlalchemy import select

from banso import schema
from banso.accounts.models import Account
from banso.audit.models import AuditEntry
from banso.db import session_scope
from banso.health import snapshots
from banso.health.models import HealthCurrent
from banso.renewals import pipeline
from banso.revenue.models import Subscription
from banso.revenue.service import revenue_report
from banso.team.models import TeamMember

TODAY = date(2026, 1, 10)
START = date(2024, 3, 15)
RENEWED = date(2025, 3, 15)
NEXT = date(2026, 3, 15)


def _world(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    monkeypatch.setenv("BANSO_TODAY", TODAY.isoformat())
    from banso import config

    config.get_settings.cache_clear()
    schema.upgrade()
    ids: dict[str, int] = {}
    with session_scope() as s:
        sato = TeamMember(name="佐藤 花子", email="sato@example.jp")
        s.add(sato)
        s.flush()
        n = 0

        def line(account: str, start: date, end: date | None, amount: int, months: int) -> None:
            nonlocal n
            n += 1
            s.add(
                Subscription(
                    account_id=ids[account],
                    source="billing",
                    external_id=f"S-{n}",
                    start_date=start,
                    end_date=end,
                    amount=amount,
                    currency="JPY",
                    billing_period_months=months,
                )
            )

        for name in [f"G{i}" for i in range(1, 11)] + ["R1", "R2", "M1"]:
            a = Account(name=name, normalized_name=name, owner_id=sato.id)
            s.add(a)
            s.flush()
            ids[name] = a.id
        for i in range(1, 11):
            ends = RENEWED if i in (8, 9, 10) else None
            line(f"G{i}", START, ends, 1_200_000, 12)
        line("G8", RENEWED, None, 600_000, 12)
        line("G3", RENEWED, None, 120_000, 12)
        line("R1", START, RENEWED, 600_000, 12)
        line("R2", START, None, 600_000, 12)
        line("M1", date(2025, 9, 1), None, 30_000, 1)
        for name, score, band in (("G1", 80.0, "green"), ("G2", 75.0, "green"),
                                  ("R2", 30.0, "red")):  # fmt: skip
            s.add(
                HealthCurrent(
                    account_id=ids[name], day=TODAY, scorecard="default", score=score, band=band
                )
            )
        ids["sato"] = sato.id
    before = RENEWED - timedelta(days=pipeline.BAND_LOOKBACK_DAYS)
    scored = {ids[f"G{i}"]: "green" for i in range(1, 11)} | {ids["R1"]: "red", ids["R2"]: "red"}
    snapshots.write_day(
        before,
        pa.table(
            {
                "account_id": pa.array(list(scored), pa.int64()),
                "day": pa.array([before] * len(scored), pa.date32()),
                "score": pa.array([70.0 if b == "green" else 20.0 for b in scored.values()]),
                "band": pa.array(list(scored.values()), pa.string()),
            }
        ),
    )
    return ids


def test_past_rates_by_band_follow_section_5(any_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _world(monkeypatch)
    with session_scope() as s:
        rates = pipeline.past_rates(s, TODAY)
        green = rates.by_band["green"]
        assert (green.due, green.renewed, green.sample) == (1_000_000, 750_000, 10)
        assert (rates.by_band["red"].sample, rates.by_band["red"].value) == (2, 0.5)
        assert (rates.overall.value, rates.overall.sample) == (pytest.approx(8 / 11), 12)
        assert rates.for_band("red") == (rates.overall.value, "overall", 12)
        assert rates.for_band("green") == (0.75, "band:green", 10)
        # the same due and lost as the KPI (§5) for that month: one definition
        kpis = revenue_report(s, start="2025-03", end="2025-03").rows[0]
        outcomes = pipeline.outcomes(s, date(2025, 3, 1), date(2025, 3, 31))
        assert sum(o.due for o in outcomes) == kpis["renewal_due_mrr"] == 1_100_000
        assert sum(o.lost for o in outcomes) == kpis["renewal_churned_mrr"] == 300_000


def test_list_forecast_and_month_summary(any_db: str, monkeypatch: pytest.MonkeyPatch, cli) -> None:  # type: ignore[no-untyped-def]
    ids = _world(monkeypatch)
    done = cli("renewals", "forecast", str(ids["G1"]), "2026-03-15", "--status", "likely")
    assert done.exit_code == 0, done.stderr
    done = cli(
        "renewals", "forecast", str(ids["G1"]), "2026-03-15", "--status", "commit",
        "--note", "PO signed",
    )  # fmt: skip
    assert done.exit_code == 0, done.stderr
    assert "Commit" in done.stdout
    out = cli("renewals", "list", "--from", "2026-01-01", "--to", "2026-06-30", "--format", "json")
    assert out.exit_code == 0, out.stderr
    rows = {r["account_name"]: r for r in json.loads(out.stdout)}
    assert sorted(rows) == ["G1", "G2", "G3", "G4", "G5", "G6", "G7", "G8", "R2"]
    g1, g2, g3, g8, r2 = rows["G1"], rows["G2"], rows["G3"], rows["G8"], rows["R2"]
    assert {r["renewal_date"] for r in rows.values()} == {"2026-03-15"}
    assert (g1["forecast"], g1["forecast_note"], g1["probability"], g1["expected_mrr"]) == (
        "commit", "PO signed", 0.95, 95_000.0,
    )  # fmt: skip
    assert (g1["owner"], g1["health_band"], g1["health_score"]) == ("佐藤 花子", "green", 80.0)
    assert (g2["probability"], g2["probability_source"], g2["probability_sample"]) == (
        0.75, "band:green", 10,
    )  # fmt: skip
    assert g2["expected_mrr"] == 75_000.0
    assert (g3["mrr_due"], len(g3["subscription_ids"]), g3["expected_mrr"]) == (
        110_000.0, 2, 80_000.0,
    )  # fmt: skip
    assert (g8["mrr_due"], g8["expected_mrr"]) == (50_000.0, 36_363.64)
    assert (r2["health_band"], r2["probability"], r2["probability_source"]) == (
        "red", 0.727273, "overall",
    )  # fmt: skip
    assert rows["G4"]["expected_mrr"] == 72_727.27
    monthly = cli(
        "renewals", "list", "--from", "2025-03-01", "--to", "2026-06-30", "--by-month",
        "--format", "json",
    )  # fmt: skip
    assert monthly.exit_code == 0, monthly.stderr
    by_month = {m["month"]: m for m in json.loads(monthly.stdout)}
    march26 = by_month["2026-03"]
    assert (march26["renewals"], march26["mrr_due"], march26["expected_mrr"]) == (
        9, 810_000.0, 613_636.36,
    )  # fmt: skip
    assert march26["actual_mrr"] is None  # not over yet
    march25 = by_month["2025-03"]
    # 2025-03 (over): renewed 800,000; expected G1, G2 at green's 0.75 (150,000), the other ten
    # (900,000 due) at 8/11: 150,000 + 654,545.45 = 804,545.45
    assert (march25["mrr_due"], march25["actual_mrr"], march25["expected_mrr"]) == (
        1_100_000.0, 800_000.0, 804_545.45,
    )  # fmt: skip
    assert march25["variance"] == -4_545.45
    # per band of today (G1, G2 green; R2 red; the rest not scored), March 2025 is over
    banded = cli(
        "renewals", "list", "--from", "2025-03-01", "--to", "2025-03-31", "--by-month",
        "--by", "band", "--format", "json",
    )  # fmt: skip
    assert banded.exit_code == 0, banded.stderr
    assert [
        (m["band"], m["renewals"], m["mrr_due"], m["expected_mrr"], m["actual_mrr"])
        for m in json.loads(banded.stdout)
    ] == [
        ("green", 2, 200_000.0, 150_000.0, 200_000.0),
        ("red", 1, 50_000.0, 36_363.64, 50_000.0),
        # G3-G10 and R1: 850,000 × 8/11; renewed G3-G7 500,000 + G8 50,000
        (None, 9, 850_000.0, 618_181.82, 550_000.0),
    ]
    owners = cli(
        "renewals", "list", "--from", "2025-03-01", "--to", "2025-03-31", "--by-month",
        "--by", "owner", "--format", "table",
    )  # fmt: skip
    assert owners.exit_code == 0 and "佐藤 花子" in owners.stdout
    with session_scope() as s:
        history = pipeline.forecast_history(s, ids["G1"], NEXT)
        assert [h.status for h in history] == ["likely", "commit"]
        assert all(h.set_by.startswith("cli:") for h in history)
        audited = s.scalars(select(AuditEntry).where(AuditEntry.action == "renewal.forecast")).all()
        assert len(audited) == 2
        assert s.get(Account, ids["G1"]) is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("list", "--from", "2026-06-30", "--to", "2026-01-01"), "--from (2026-06-30) is after"),
        (("list", "--from", "2026-01-01", "--to", "2026-06-30", "--format", "xml"), "--format"),
        (("forecast", "G1", "2026-03-15", "--status", "maybe"), "a forecast is one of"),
        (("list", "--from", "2026-01-01", "--to", "2026-06-30", "--by", "band"), "--by-month"),
        (
            ("list", "--from", "2026-01-01", "--to", "2026-06-30", "--by-month", "--by", "x"),
            "--by must be one of owner, band",
        ),
        (("forecast", "G1", "2026-03-14", "--status", "likely"), "next renewal is on 2026-03-15"),
        (("forecast", "999999", "2026-03-15", "--status", "likely"), "No account with id"),
        (
            ("forecast", "G1", "2026-03-15", "--status", "likely", "--reason", "roi"),
            "Give a churn reason only with the forecast lost.",
        ),
        (
            ("forecast", "G1", "2026-03-15", "--status", "lost", "--reason", "bored"),
            "Unknown churn reason 'bored'",
        ),
    ],
)
def test_bad_input_is_one_sentence_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, cli, args: tuple[str, ...], message: str
) -> None:  # type: ignore[no-untyped-def]
    ids = _world(monkeypatch)
    args = tuple(str(ids["G1"]) if a == "G1" else a for a in args)
    done = cli("renewals", *args)
    assert done.exit_code == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_merge_moves_the_forecasts(monkeypatch: pytest.MonkeyPatch) -> None:
    from banso.flows.merge import merge_accounts

    ids = _world(monkeypatch)
    with session_scope() as s:
        pipeline.set_forecast(s, ids["G2"], NEXT, "at_risk", "予算削減")
    with session_scope() as s:
        merge_accounts(s, ids["G1"], ids["G2"])
    with session_scope() as s:
        assert [f.status for f in pipeline.forecast_history(s, ids["G1"], NEXT)] == ["at_risk"]


def test_a_lost_forecast_records_its_churn_reason_for_the_renewal_month(
    monkeypatch: pytest.MonkeyPatch, cli
) -> None:  # type: ignore[no-untyped-def]
    ids = _world(monkeypatch)
    done = cli(
        "renewals", "forecast", str(ids["G4"]), "2026-03-15", "--status", "lost",
        "--reason", "cheaper_competitor", "--note", "他社に乗り換え",
    )  # fmt: skip
    assert done.exit_code == 0, done.stderr
    out = cli("renewals", "list", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "json")
    rows = {r["account_name"]: r for r in json.loads(out.stdout)}
    assert (rows["G4"]["forecast"], rows["G4"]["churn_reason"], rows["G4"]["expected_mrr"]) == (
        "lost", "cheaper_competitor", 0.0,
    )  # fmt: skip
    assert rows["G5"]["churn_reason"] is None
    from banso.retention import service as churn_reasons

    with session_scope() as s:
        recorded = churn_reasons.history(s, ids["G4"])
        assert [(r.month, r.code, r.note) for r in recorded] == [
            ("2026-03", "cheaper_competitor", "他社に乗り換え")
        ]
        audited = s.scalars(
            select(AuditEntry.action).where(AuditEntry.target == f"account:{ids['G4']}")
        ).all()
        assert sorted(audited) == ["churn_reason.record", "renewal.forecast"]
