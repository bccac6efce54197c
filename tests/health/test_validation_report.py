"""The stored validation report: ``banso health validate`` writes it, ``banso run`` recomputes it
weekly, and the Health page shows its figures, on the small hand-made world of
``test_validation`` (ROC AUC 19/24, red churn 75 %, green churn 1/6)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from banso.db import get_engine, session_scope
from banso.flows.daily_run import run_pipeline
from banso.health import validation_report
from banso.health.scorecard import load_scorecards
from banso.server.app import create_app
from banso.users.models import User
from health.test_validation import LAST, D, world  # noqa: F401  (the fixture)
from playbooks.world import build_world as build_playbook_world
from web.conftest import sign_in_as
from web.world import EMAILS, _hash

AS_OF = LAST + timedelta(days=1)


@pytest.fixture
def client(world: None) -> Iterator[TestClient]:  # noqa: F811
    with session_scope() as s:
        for role, email in EMAILS.items():
            s.add(User(email=email, name=role, role=role, password_hash=_hash(), failed_attempts=0))
    with TestClient(create_app(), base_url="http://testserver") as c:
        yield c


def test_cli_validate_stores_the_report_and_every_role_sees_its_figures(
    client: TestClient,
    cli,  # type: ignore[no-untyped-def]
) -> None:
    before = datetime.now(UTC)
    result = cli("health", "validate", "--format", "json")
    assert result.exit_code == 0, result.stderr
    stored = json.loads(validation_report.report_path().read_text(encoding="utf-8"))
    assert stored["report"] == json.loads(result.stdout)
    assert (stored["horizon_days"], stored["from"], stored["to"]) == (90, None, None)
    assert stored["scorecard"] == "default"
    assert before <= datetime.fromisoformat(stored["computed_at"]) <= datetime.now(UTC)
    assert stored["report"]["roc_auc"] == 0.791667  # 19/24, rounded to 6 places
    assert not list(validation_report.report_path().parent.glob(".*tmp"))

    for role in ("viewer", "csm", "ops", "admin"):
        client.cookies.clear()
        sign_in_as(client, EMAILS[role])
        page = client.get("/health", headers={"Accept-Language": "en"})
        assert page.status_code == 200, role
        text = page.text
        assert 'data-testid="roc-auc">0.792<' in text
        assert 'data-testid="lift">2.50<' in text
        assert 'data-testid="lost-share-red">75.0%<' in text
        assert 'data-testid="expansion-share-green">100.0%<' in text
        assert "over scored days 2024-01-01 to 2024-01-01: 10 account-days of 10 accounts" in text
        assert "outcomes 90 days later" in text
        assert "`banso health validate`" in text
    rows = _band_rows(text)
    # band, accounts, account-days, churn, renewal, contraction, expansion, lost, expansion MRR
    assert rows["red"] == ["At risk", "4", "4", "75.0%", "25.0%", "0.0%", "0.0%", "75.0%", "0.0%"]
    assert rows["yellow"] == ["Caution", "0", "0", "—", "—", "—", "—", "0.0%", "0.0%"]
    assert rows["green"] == [
        "Healthy", "6", "6", "16.7%", "83.3%", "0.0%", "16.7%", "25.0%", "100.0%",
    ]  # fmt: skip
    assert '<td>Latest NPS</td><td class="num">0.792</td>' in text
    chart = json.loads(text.split('id="validation-data">')[1].split("</script>")[0])
    assert chart["measures"] == {
        "title": "ROC AUC of each measure against churn",
        "labels": ["Latest NPS"],
        "values": [0.791667],
    }
    assert chart["bands"]["labels"] == ["At risk", "Caution", "Healthy"]
    assert chart["bands"]["series"][0] == {"name": "Churn", "data": [0.75, None, 0.166667]}

    ja = client.get("/health", headers={"Accept-Language": "ja"}).text
    assert (
        "検証レポート" in ja
        and "<td>最新の NPS</td>" in ja
        and "解約・縮小した MRR のうち危険の割合" in ja
    )


def test_cli_validate_stores_its_window_and_horizon(
    world: None,  # noqa: F811
    cli,  # type: ignore[no-untyped-def]
) -> None:
    result = cli(
        "health", "validate", "--from", str(D), "--to", "2024-02-01", "--horizon-days", "60"
    )
    assert result.exit_code == 0, result.stderr
    stored = validation_report.latest()
    assert stored is not None
    assert (stored.start, stored.end, stored.horizon_days) == (D, date(2024, 2, 1), 60)
    assert stored.report["first_day"] == stored.report["last_day"] == "2024-01-01"
    # sixty days on, the same three red and one green accounts have left
    assert stored.report["churn_rate"] == 0.4


def test_without_a_report_the_page_says_how_to_make_one(client: TestClient) -> None:
    sign_in_as(client, EMAILS["viewer"])
    text = client.get("/health").text
    assert 'data-testid="no-validation"' in text
    assert "Make one with `banso health validate`" in text
    assert 'id="validation-data"' not in text


def test_run_leaves_a_fresh_report_and_recomputes_an_eight_day_old_one(
    world: None,  # noqa: F811
) -> None:
    now = datetime.now(UTC)
    cards = load_scorecards(None)
    fresh = validation_report.StoredReport(
        now - timedelta(days=6), 90, None, None, "default", {"marker": "six days old"}
    )
    validation_report.save(fresh)
    summary = run_pipeline(AS_OF, send=False)
    assert summary.validation_computed is False
    assert validation_report.latest() == fresh

    old = validation_report.StoredReport(
        now - timedelta(days=8), 90, None, None, "default", {"marker": "eight days old"}
    )
    validation_report.save(old)
    summary = run_pipeline(AS_OF, send=False)
    assert summary.validation_computed is True
    stored = validation_report.latest()
    assert stored is not None and stored.computed_at >= now
    assert (stored.horizon_days, stored.start, stored.end) == (90, None, None)
    assert stored.report["roc_auc"] == 0.791667
    assert stored.report["bands"][0]["churn_rate"] == 0.75
    # just recomputed: the next run leaves it alone
    assert validation_report.refresh_if_stale(get_engine(), cards) is None


def test_run_makes_a_missing_report_and_keeps_the_stored_horizon(world: None) -> None:  # noqa: F811
    cards = load_scorecards(None)
    made = validation_report.refresh_if_stale(get_engine(), cards)
    assert made is not None and made.horizon_days == 90 and made.report["observations"] == 10
    week_on = made.computed_at + timedelta(days=8)
    validation_report.save(
        validation_report.StoredReport(made.computed_at, 60, None, None, "default", made.report)
    )
    again = validation_report.refresh_if_stale(get_engine(), cards, now=week_on)
    assert again is not None and again.horizon_days == 60 and again.computed_at == week_on


def test_without_a_complete_horizon_run_skips_quietly(cli) -> None:  # type: ignore[no-untyped-def]
    build_playbook_world()  # events from 2025-05 only: one month of scores has no 90-day horizon
    result = cli("run", "--as-of", "2025-06-17", "--no-send")
    assert result.exit_code == 0, result.stderr
    assert "validation report" not in result.stdout
    assert not validation_report.report_path().exists()


def test_an_unreadable_report_is_a_sentence_on_the_page_not_a_500(client: TestClient) -> None:
    path = validation_report.report_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json", encoding="utf-8")
    sign_in_as(client, EMAILS["viewer"])
    page = client.get("/health")
    assert page.status_code == 200
    assert "cannot be read" in page.text and "`banso health validate` replaces it" in page.text


def _band_rows(html: str) -> dict[str, list[str]]:
    import re

    table = html.split('id="validation-bands"')[1].split("</table>")[0]
    rows = {}
    for band, body in re.findall(r'<tr data-band="(\w+)">(.*?)</tr>', table, re.S):
        rows[band] = [
            re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>.*?</td>", body, re.S)
        ]
    return rows
