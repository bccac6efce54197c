"""The dashboard's renewal tile: MRR due in the current month and the two after it, the part
whose notice is given, and the last complete month's 月次更新解約率, the same figures as
``banso renewals calendar`` (both come from ``renewals.calendar``), linked to the calendar."""

from __future__ import annotations

import csv
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

LINES = [
    # account, id, start, end, amount, bpm; with today 2026-12-01
    ("解約予告", "T1", "2026-01-15", "2027-01-15", 600000, 12),  # 50,000 due and lost 2027-01
    ("年契約", "T2", "2025-11-10", "", 1200000, 12),  # 100,000 renewed 2026-11
    ("離脱", "T3", "2025-11-20", "2026-11-20", 2400000, 12),  # 200,000 lost 2026-11
    ("月額", "T4", "2026-06-01", "", 30000, 1),  # 30,000 due every month
]


@pytest.fixture
def today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANSO_TODAY", "2026-12-01")


@pytest.fixture
def lines(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "subscriptions.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            ["account_id", "subscription_id", "plan", "start_date", "end_date", "amount",
             "currency", "billing_period_months"]
        )  # fmt: skip
        for account, sid, start, end, amount, bpm in LINES:
            writer.writerow([account, sid, "p", start, end, amount, "JPY", bpm])
    imported = cli("import", "subscriptions", str(path))
    assert imported.exit_code == 0, imported.stderr


def _figure(html: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}">([^<]*)<', html)
    assert found is not None, testid
    return found.group(1)


def _yen(value: float) -> str:
    return f"¥{Decimal(str(value)).quantize(Decimal(1)):,}"


def test_the_tile_shows_the_calendars_figures(
    today: None,
    client: TestClient,
    lines: None,
    cli,  # type: ignore[no-untyped-def]
    sign_in,  # type: ignore[no-untyped-def]
) -> None:
    result = cli("renewals", "calendar", "--from", "2026-11", "--to", "2027-02", "--format", "json")
    assert result.exit_code == 0, result.stderr
    last, *ahead = json.loads(result.stdout)
    # by hand: the web world's monthly 30,000 and 50,000 lines (started in November) and T4
    # are due each month ahead, T1's notice falls in January; November lost T3 of 330,000
    assert [(r["month"], r["mrr_due"], r["mrr_lost"]) for r in ahead] == [
        ("2026-12", 110000.0, 0.0),
        ("2027-01", 160000.0, 50000.0),
        ("2027-02", 110000.0, 0.0),
    ]
    assert (last["month"], last["mrr_due"], last["mrr_lost"]) == ("2026-11", 330000.0, 200000.0)
    assert last["renewal_churn_rate"] == 0.606061

    sign_in("viewer")
    page = client.get("/dashboard", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    html = page.text
    tile = html[html.index('data-testid="renewal-tile"') :]
    tile = tile[: tile.index("</section>")]
    assert _figure(tile, "renewal-due") == _yen(sum(r["mrr_due"] for r in ahead)) == "¥380,000"
    assert _figure(tile, "renewal-lost") == _yen(sum(r["mrr_lost"] for r in ahead)) == "¥50,000"
    rate = Decimal(str(last["renewal_churn_rate"])) * 100
    assert _figure(tile, "renewal-rate") == f"{rate.quantize(Decimal('0.01'))}%" == "60.61%"
    assert "Renewals in the next 3 months" in tile
    assert "MRR due for renewal, 2026-12 to 2027-02" in tile
    assert "Monthly renewal churn rate, 2026-11" in tile
    cells = re.findall(r'<td class="num">([^<]*)</td>', tile)
    assert cells == [_yen(v) for r in ahead for v in (r["mrr_due"], r["mrr_lost"])]
    assert 'href="/renewals/calendar"' in tile

    ja = client.get("/dashboard", headers={"Accept-Language": "ja"}).text
    ja_tile = ja[ja.index('data-testid="renewal-tile"') :]
    assert "今後3か月の更新" in ja_tile and "月次更新解約率（2026-11）" in ja_tile
    assert "うち更新解約（通知済み）" in ja_tile and "￥380,000" in ja_tile


def test_the_tile_follows_new_contracts(
    today: None,
    client: TestClient,
    lines: None,
    cli,  # type: ignore[no-untyped-def]
    sign_in,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    # the outlook is kept per revenue data version: a new line shows at once
    sign_in("viewer")
    before = client.get("/dashboard", headers={"Accept-Language": "en"}).text
    assert _figure(before, "renewal-due") == "¥380,000"
    path = tmp_path / "more.csv"
    path.write_text(
        "account_id,subscription_id,plan,start_date,end_date,amount,currency,"
        "billing_period_months\n月額,T5,p,2026-10-05,,10000,JPY,1\n",
        encoding="utf-8",
    )
    assert cli("import", "subscriptions", str(path)).exit_code == 0
    after = client.get("/dashboard", headers={"Accept-Language": "en"}).text
    assert _figure(after, "renewal-due") == "¥410,000"  # 10,000 due in each of 3 months
    assert _figure(after, "renewal-rate") == "58.82%"  # November: 200,000 / 340,000
