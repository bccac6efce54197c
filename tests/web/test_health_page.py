"""Health on the pages: band counts and trend, the 360 score, the empty state before scoring."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from fastapi.testclient import TestClient

from banso.dates import today as company_today
from banso.db import session_scope
from banso.health import service as health_service
from web.conftest import sign_in_as
from web.world import EMAILS, World


def test_before_scoring_the_health_page_says_how_to_score(
    client: TestClient,
    sign_in,  # type: ignore[no-untyped-def]
) -> None:
    sign_in("viewer")
    page = client.get("/health")
    assert page.status_code == 200
    assert "it appears after `banso health score` has run" in page.text


def test_scored_accounts_show_their_band_everywhere(
    client: TestClient,
    sign_in,  # type: ignore[no-untyped-def]
    world: World,
) -> None:
    yesterday = company_today() - timedelta(days=1)
    with session_scope() as s:
        # The two accounts with a live subscription are scored: 山田 healthy, みどり caution.
        assert health_service.score_days(s, [yesterday - timedelta(days=7), yesterday]) == 4
    sign_in("viewer")
    page = client.get("/health").text
    assert 'data-testid="band-green">1<' in page
    assert 'data-testid="band-yellow">1<' in page
    assert 'data-testid="band-red">0<' in page
    assert "No account is at risk." in page
    # the weekly chart's series: in band order with their band, whatever the names sort to
    raw = page.split('id="bands-data">', 1)[1].split("</script>", 1)[0]
    series = json.loads(raw)["series"]
    assert [(s["band"], s["name"], s["data"][-1]) for s in series] == [
        ("green", "Healthy", 1),
        ("yellow", "Caution", 1),
        ("red", "At risk", 0),
    ]
    account = client.get(f"/accounts/{world.yamada}").text
    assert 'data-testid="health-score">89<' in account and ">Healthy<" in account
    assert "Why it changed" in account
    api = client.get(f"/api/accounts/{world.midori}/health").json()
    assert (round(api["score"]), api["band"], api["day"]) == (72, "yellow", str(yesterday))
    assert 'id="health-bands"' in client.get("/").text


def test_accounts_list_filters_and_sorts_by_health_in_both_languages(
    client: TestClient,
    sign_in,  # type: ignore[no-untyped-def]
    world: World,
) -> None:
    with session_scope() as s:
        health_service.score_days(s, [company_today() - timedelta(days=1)])
    sign_in("viewer")
    green = client.get("/accounts?band=green", headers={"Accept-Language": "en"}).text
    assert "1 account" in green and "株式会社山田製作所" in green and "みどり" not in green
    assert '<span class="band-green">89 Healthy</span>' in green
    assert '<option value="green" selected>Healthy</option>' in green
    yellow = client.get("/accounts?band=yellow", headers={"Accept-Language": "ja"}).text
    assert '<span class="band-yellow">72 注意</span>' in yellow
    assert '<option value="none" >スコアなし</option>' in yellow
    by_score = client.get("/accounts?sort=score&desc=true&churned=true").text
    assert by_score.index("株式会社山田製作所") < by_score.index("みどり商事株式会社")
    assert by_score.index("みどり商事株式会社") < by_score.index("Acme Japan K.K.")
    assert "58 accounts" in client.get("/accounts?band=none&churned=true").text
    assert "57 accounts" in client.get("/accounts?band=none").text  # Acme has churned
    api = client.get("/api/accounts", params={"band": "yellow"}).json()
    assert [(i["name"], round(i["health_score"]), i["health_band"]) for i in api["items"]] == [
        ("みどり商事株式会社", 72, "yellow")
    ]
    one = client.get(f"/api/accounts/{world.yamada}").json()["account"]
    assert (round(one["health_score"]), one["health_band"]) == (89, "green")
    export = client.get("/accounts/export.csv?band=green").text.lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(export)))
    assert rows[0][7:9] == ["Health score", "Health band"]
    assert [r[0] for r in rows[1:]] == ["株式会社山田製作所"]
    assert rows[1][6:9] == ["adoption", str(round(one["health_score"], 1)), "green"]


TWO_MEASURES = """\
# Enterprise card <b>reviewed</b> & signed off
name: enterprise
label: {en: Enterprise, ja: エンタープライズ}
priority: 10
applies_to: {segment: [Enterprise], touch_model: [high]}
groups:
  usage:
    label: {en: Product usage, ja: 利用状況}
    weight: 1
    measures:
      active_days_28d: {weight: 2, linear: [[2, 0], [20, 100]]}
      days_since_last_activity:
        weight: 1
        thresholds: [{max: 3, score: 100}, {min: 4, max: 7, score: 70}, {score: 0}]
"""


def _measure_cells(page: str, measure: str) -> list[str]:
    import re

    row = page.split(f'<tr data-measure="{measure}">')[1].split("</tr>")[0]
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td.*?</td>", row, re.S)]


def test_every_role_sees_the_scorecards_with_normalised_weights_and_the_yaml(
    client: TestClient,
    banso_home,  # type: ignore[no-untyped-def]
) -> None:
    folder = banso_home / "config" / "scorecards"
    folder.mkdir(parents=True)
    (folder / "enterprise.yaml").write_text(TWO_MEASURES, encoding="utf-8")
    for role in ("viewer", "csm", "ops", "admin"):
        client.cookies.clear()
        sign_in_as(client, EMAILS[role])
        page = client.get("/health", headers={"Accept-Language": "en"})
        assert page.status_code == 200, role
    text = page.text
    # group, group share, measure, weight, share in group, share of score, rule
    assert _measure_cells(text, "active_days_28d") == [
        "Product usage", "100.0%", "Active days (28 days) active_days_28d", "2", "66.7%", "66.7%",
        "linear 2 → 0, 20 → 100 (value → score; flat beyond the ends)",
    ]  # fmt: skip
    assert _measure_cells(text, "days_since_last_activity") == [
        "Product usage", "100.0%", "Days since last activity days_since_last_activity", "1",
        "33.3%", "33.3%", "first that holds: ≤ 3 → 100; 4–7 → 70; otherwise → 0",
    ]  # fmt: skip
    assert "<dd>Segment: Enterprise; Touch model: High touch</dd>" in text
    assert "<dd>At risk 0–49 · Caution 50–74 · Healthy 75–100</dd>" in text
    assert f"<code>{folder / 'enterprise.yaml'}</code>" in text
    assert (
        "# Enterprise card &lt;b&gt;reviewed&lt;/b&gt; &amp; signed off\nname: enterprise" in text
    )
    assert "<b>reviewed</b>" not in text
    ja = client.get("/health", headers={"Accept-Language": "ja"}).text
    assert _measure_cells(ja, "active_days_28d")[:3] == [
        "利用状況", "100.0%", "利用日数（28日） active_days_28d",
    ]  # fmt: skip
    assert "エンタープライズ" in ja
    assert "<dd>セグメント: Enterprise; タッチモデル: ハイタッチ</dd>" in ja


def test_without_config_the_packaged_default_is_shown(
    client: TestClient,
    sign_in,  # type: ignore[no-untyped-def]
) -> None:
    sign_in("viewer")
    text = client.get("/health").text
    assert "the packaged default; copy it into" in text
    # usage is 45 of 100 group weight; active days 3 of its 9
    assert _measure_cells(text, "active_days_28d")[1:6] == [
        "45.0%", "Active days (28 days) active_days_28d", "3", "33.3%", "15.0%",
    ]  # fmt: skip
    assert "<dd>every account</dd>" in text


def test_a_broken_scorecard_shows_file_and_line_as_check_config_does(
    client: TestClient,
    sign_in,  # type: ignore[no-untyped-def]
    banso_home,  # type: ignore[no-untyped-def]
    cli,  # type: ignore[no-untyped-def]
) -> None:
    from markupsafe import escape

    folder = banso_home / "config" / "scorecards"
    folder.mkdir(parents=True)
    broken = TWO_MEASURES.replace("days_since_last_activity:", "days_since_lunch:")
    (folder / "enterprise.yaml").write_text(broken, encoding="utf-8")
    check = cli("health", "check-config")
    assert check.exit_code == 2
    problem = f"{folder / 'enterprise.yaml'}:12: groups.usage.measures.days_since_lunch.[key]: "
    assert problem in check.stderr
    sign_in("viewer")
    page = client.get("/health")
    assert page.status_code == 200
    line = next(x for x in check.stderr.splitlines() if problem in x)
    assert f"<li>{escape(line[line.index(str(folder)) :])}</li>" in page.text
    assert "This scorecard cannot be loaded" in page.text
    assert "days_since_lunch:" in page.text  # its YAML is still there to read
