"""Reports default to the last complete month; a month not yet over is shown only when asked for,
marked "to date". ``BANSO_TODAY`` fixes the day, as a test or a demo needs."""

from __future__ import annotations

import json
from datetime import date

import pytest
from revenue_examples import insert_subscriptions

from banso import config, dates, schema
from banso.db import session_scope
from banso.revenue.months import data_months, default_last_month, month_text


def _today(monkeypatch: pytest.MonkeyPatch, day: str) -> None:
    monkeypatch.setenv("BANSO_TODAY", day)
    config.get_settings.cache_clear()


def _load() -> None:
    """One account paying 10,000 a month from January 2025 to the end of 2027."""
    schema.upgrade()
    insert_subscriptions(
        [
            {
                "account_id": "A",
                "subscription_id": "s1",
                "plan": "basic",
                "start_date": "2025-01-01",
                "end_date": "2027-12-31",
                "amount": "10000",
                "currency": "JPY",
                "billing_period_months": "1",
            }
        ]
    )


def test_banso_today_fixes_the_day_and_the_last_complete_month(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _today(monkeypatch, "2026-12-01")
    assert dates.today() == date(2026, 12, 1)
    assert dates.yesterday() == date(2026, 11, 30)
    assert dates.last_complete_month() == date(2026, 11, 1)
    assert dates.month_over(date(2026, 11, 1)) and not dates.month_over(date(2026, 12, 1))
    _today(monkeypatch, "2026-12-31")
    assert dates.last_complete_month() == date(2026, 11, 1)
    _today(monkeypatch, "2027-01-01")
    assert dates.last_complete_month() == date(2026, 12, 1)


@pytest.mark.parametrize("value", ["2026-13-01", "2026-02-30", "01/12/2026", "20261201", "soon"])
def test_a_bad_banso_today_is_one_clear_sentence(
    cli,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
    value: str,
) -> None:
    monkeypatch.setenv("BANSO_TODAY", value)
    result = cli("metrics", "last-month")
    assert result.exit_code == 2
    assert "BANSO_TODAY" in result.stderr and value in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_default_month_is_the_last_complete_one(monkeypatch: pytest.MonkeyPatch) -> None:
    _load()
    _today(monkeypatch, "2026-12-01")
    with session_scope() as session:
        months = data_months(session)
        assert default_last_month(session) == "2026-11"
    # the contract runs to 2027: the newest month offered is the current one, not later
    assert (months.first, months.newest, months.default) == (
        2025 * 12 + 0,
        2026 * 12 + 11,
        2026 * 12 + 10,
    )
    assert month_text("2026-11") == "2026-11"
    assert month_text("2026-12") == "2026-12 (to date)"


def test_cli_defaults_to_the_last_complete_month_and_marks_the_current_one(
    cli,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _load()
    _today(monkeypatch, "2026-12-01")
    assert cli("metrics", "last-month").stdout.strip() == "2026-11"
    default = cli("metrics", "revenue")
    rows = json.loads(default.stdout)
    assert [rows[0]["month"], rows[-1]["month"], len(rows)] == ["2025-12", "2026-11", 12]
    assert not any("complete" in row for row in rows)  # the output contract's keys, exactly
    assert default.stderr == ""

    asked = cli("metrics", "revenue", "--from", "2026-11", "--to", "2026-12")
    assert asked.exit_code == 0
    november, december = json.loads(asked.stdout)
    assert "complete" not in november and december["complete"] is False
    assert set(december) - set(november) == {"complete"}
    assert december["mrr_end"] == 10000.0
    assert asked.stderr.strip() == "Note: 2026-12 is not over yet; its figures are to date."

    table = cli("metrics", "revenue", "--from", "2026-11", "--to", "2026-12", "--format", "table")
    assert "2026-12 (to date)" in table.stdout and "2026-11 (to date)" not in table.stdout
    ja = cli(
        "--lang", "ja", "metrics", "revenue", "--from", "2026-12", "--to", "2026-12",
        "--format", "table",
    )  # fmt: skip
    assert "2026-12（途中）" in ja.stdout
    assert "2026-12 はまだ終わっていません" in ja.stderr

    cohorts = cli("metrics", "cohorts", "--to", "2026-12")
    assert cohorts.exit_code == 0 and "2026-12 is not over yet" in cohorts.stderr

    _today(monkeypatch, "2027-01-01")
    assert cli("metrics", "last-month").stdout.strip() == "2026-12"
