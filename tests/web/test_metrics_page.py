"""The Metrics page's cohort heatmap and its exports, on the spec's ``jpy_realistic`` example:
the CSV and xlsx cells are the spec's expected figures, the heatmap draws them, the page reads
in English and Japanese, and every signed-in role may download."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from banso.db import session_scope
from banso.revenue.routes import COHORT_COLUMNS, MONTH_COLUMNS
from banso.server.app import create_app
from banso.users.models import User
from revenue.revenue_examples import assert_matches, expected, load_example
from web.conftest import sign_in_as
from web.world import EMAILS, PASSWORD

EXAMPLE = "jpy_realistic"
FIRST, LAST = "2024-04", "2025-05"
"""The example's months: its expected revenue runs from April 2024 to May 2025."""
RANGE = {"start": FIRST, "end": LAST}
REVENUE_KEYS = ["month", *(key for key, _label, _kind in MONTH_COLUMNS)]
COHORT_KEYS = [key for key, _label, _kind in COHORT_COLUMNS]
BOM = b"\xef\xbb\xbf"


@lru_cache(maxsize=1)
def _hash() -> str:
    return PasswordHasher().hash(PASSWORD)


@pytest.fixture
def client() -> Iterator[TestClient]:
    """The app over the example's subscriptions, with one user of each role."""
    load_example(EXAMPLE)
    with session_scope() as session:
        for role, email in EMAILS.items():
            session.add(User(email=email, name=role.title(), role=role, password_hash=_hash()))
    with TestClient(create_app(), base_url="http://testserver") as c:
        yield c


def export(client: TestClient, table: str, fmt: str, lang: str = "en", **months: str) -> bytes:
    response = client.get(
        "/metrics/export",
        params={"table": table, "format": fmt, **(months or RANGE)},
        headers={"Accept-Language": lang},
    )
    assert response.status_code == 200, response.text
    return response.content


def csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(BOM)
    return list(csv.reader(io.StringIO(content[len(BOM) :].decode("utf-8"))))


def as_report(keys: list[str], rows: list[list[Any]]) -> list[dict[str, Any]]:
    """Exported cells back as the report's keys (empty cells are nulls; counts are integers),
    so that the spec's check can compare them."""

    def value(key: str, cell: Any) -> Any:
        if cell in ("", None):
            return None
        if key in ("month", "cohort"):
            return cell
        if key in ("age", "customers", "customers_end"):
            return int(cell)
        return float(cell)

    return [{k: value(k, c) for k, c in zip(keys, row, strict=True)} for row in rows]


def only(keys: list[str], rows: list[dict[str, object]]) -> list[dict[str, object]]:
    return [{k: row[k] for k in keys} for row in rows]


def test_revenue_csv_holds_the_spec_figures(client: TestClient) -> None:
    sign_in_as(client, EMAILS["viewer"])
    header, *rows = csv_rows(export(client, "revenue", "csv"))
    assert header == [
        "Month",
        "MRR (JPY)",
        "New (JPY)",
        "Expansion (JPY)",
        "Contraction (JPY)",
        "Churned (JPY)",
        "Customers",
        "Monthly MRR churn rate",
        "Monthly renewal churn rate",
        "NRR (12 months)",
        "GRR (12 months)",
    ]
    # October 2024: one quarterly customer leaves on its renewal date
    assert rows[6] == [
        "2024-10", "369400", "0", "0", "0", "28333.33", "6", "0.071237", "0.191787", "", ""
    ]  # fmt: skip
    assert_matches(as_report(REVENUE_KEYS, rows), only(REVENUE_KEYS, expected(EXAMPLE, "revenue")))


def test_cohort_csv_holds_the_spec_figures_with_japanese_headers(client: TestClient) -> None:
    sign_in_as(client, EMAILS["csm"])
    header, *rows = csv_rows(export(client, "cohorts", "csv", lang="ja"))
    assert header == ["コホート", "経過月数", "顧客数", "顧客継続率", "MRR (JPY)", "売上継続率"]
    assert rows[0] == ["2024-04", "0", "4", "1", "258133.33", "1"]
    assert rows[12] == ["2024-04", "12", "4", "0.5", "79600", "0.308368"]
    assert_matches(as_report(COHORT_KEYS, rows), expected(EXAMPLE, "cohorts"))


def test_xlsx_cells_are_numbers_with_money_and_percent_formats(client: TestClient) -> None:
    sign_in_as(client, EMAILS["ops"])
    cohorts = load_workbook(io.BytesIO(export(client, "cohorts", "xlsx"))).active
    assert cohorts.title == "Cohort retention"
    assert [c.value for c in cohorts[1]] == [
        "Cohort", "Age (months)", "Customers", "Logo retention", "MRR (JPY)", "Revenue retention"
    ]  # fmt: skip
    assert all(c.font.bold for c in cohorts[1])
    assert cohorts.freeze_panes == "B2"
    first = cohorts[2]
    assert [c.value for c in first] == ["2024-04", 0, 4, 1, 258133.33, 1]
    assert [c.number_format for c in first[1:]] == ["#,##0", "#,##0", "0.00%", "#,##0", "0.00%"]
    rows = [list(r) for r in cohorts.iter_rows(min_row=2, values_only=True)]
    assert_matches(as_report(COHORT_KEYS, rows), expected(EXAMPLE, "cohorts"))

    revenue = load_workbook(io.BytesIO(export(client, "revenue", "xlsx", lang="ja"))).active
    assert revenue.title == "月次の売上 KPI"
    assert revenue["A1"].value == "月" and revenue["B1"].value == "MRR (JPY)"
    october = revenue[8]
    assert [c.value for c in october] == [
        "2024-10", 369400, 0, 0, 0, 28333.33, 6, 0.071237, 0.191787, None, None
    ]  # fmt: skip
    assert october[5].number_format == "#,##0" and october[7].number_format == "0.00%"
    rows = [list(r) for r in revenue.iter_rows(min_row=2, values_only=True)]
    assert_matches(as_report(REVENUE_KEYS, rows), only(REVENUE_KEYS, expected(EXAMPLE, "revenue")))


def test_exports_follow_the_month_range(client: TestClient) -> None:
    sign_in_as(client, EMAILS["viewer"])
    _header, *rows = csv_rows(export(client, "cohorts", "csv", start="2024-05", end="2024-12"))
    want = [
        row
        for row in expected(EXAMPLE, "cohorts")
        if "2024-05" <= str(row["cohort"]) and str(row["cohort"]) <= "2024-12"
        and int(str(row["age"])) <= {"2024-05": 7, "2024-07": 5}[str(row["cohort"])]
    ]  # fmt: skip
    assert len(want) == 8 + 6
    assert_matches(as_report(COHORT_KEYS, rows), want)
    _header, *months = csv_rows(export(client, "revenue", "csv", start="2025-01", end="2025-03"))
    assert [m[0] for m in months] == ["2025-01", "2025-02", "2025-03"]
    response = client.get("/metrics/export", params={"table": "revenue", "format": "xlsx", **RANGE})
    assert response.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response.headers["content-disposition"] == (
        'attachment; filename="banso-revenue-2024-04-2025-05.xlsx"'
    )


def heatmap_of(page: str) -> dict[str, Any]:
    marker = '<script type="application/json" id="cohort-data">'
    start = page.index(marker) + len(marker)
    data: dict[str, Any] = json.loads(page[start : page.index("</script>", start)])
    return data


def test_heatmap_draws_the_cohort_figures(client: TestClient) -> None:
    sign_in_as(client, EMAILS["viewer"])
    page = client.get("/metrics", params=RANGE).text
    data = heatmap_of(page)
    assert data["cohorts"] == ["2024-04", "2024-05", "2024-07"]
    assert data["ages"] == list(range(14))
    assert (data["x_name"], data["y_name"]) == ("Months since start", "Cohort")
    logo = data["measures"]["logo_retention"]
    revenue = data["measures"]["revenue_retention"]
    assert (logo["label"], revenue["label"]) == ("Logo retention", "Revenue retention")
    assert len(logo["cells"]) == len(revenue["cells"]) == 14 + 13 + 11
    want = expected(EXAMPLE, "cohorts")
    positions = {"2024-04": 0, "2024-05": 1, "2024-07": 2}
    for key, cells in (("logo_retention", logo["cells"]), ("revenue_retention", revenue["cells"])):
        assert cells == [[row["age"], positions[str(row["cohort"])], row[key]] for row in want]
    assert [12, 1, 1.83612] in revenue["cells"]  # the May cohort doubled its MRR in a year
    assert [8, 0, 0.5] in logo["cells"]


def test_page_shows_the_heatmap_as_text_tables_and_export_links(client: TestClient) -> None:
    sign_in_as(client, EMAILS["csm"])
    page = client.get("/metrics", params=RANGE).text
    assert '<script src="/static/vendor/echarts.min.js" defer></script>' in page
    assert '<div class="chart heatmap" id="chart-cohorts"' in page
    revenue_at = page.index('id="cohort-revenue-retention"')
    logo = page[page.index('id="cohort-logo-retention"') : revenue_at]
    assert "<caption>Logo retention by cohort and months since start</caption>" in logo
    assert logo.count('<tr><th scope="row" class="date">') == 3
    assert '<th scope="row" class="date">2024-04</th><td class="num">4</td>' in logo
    # shaded on the scale of the figures themselves (as the heatmap), not 0-100 %:
    # logo retention spans 50 %..100 %, revenue retention 30.84 %..183.61 %
    assert heatmap_of(page)["measures"]["logo_retention"]["range"] == [0.5, 1.0]
    assert '<td class="num heat-0">50.00%</td>' in logo  # April cohort at 8 months, the lowest
    assert '<td class="num heat-5">75.00%</td>' in logo
    assert '<td class="num heat-10">100.00%</td>' in logo
    revenue = page[revenue_at:]
    assert heatmap_of(page)["measures"]["revenue_retention"]["range"] == [0.308368, 1.83612]
    assert '<td class="num heat-10">183.61%</td>' in revenue
    assert '<td class="num heat-5">107.75%</td>' in revenue
    assert '<td class="num heat-0">30.84%</td>' in revenue
    for table in ("revenue", "cohorts"):
        for fmt in ("csv", "xlsx"):
            link = (
                f"/metrics/export?table={table}&amp;format={fmt}&amp;start={FIRST}&amp;end={LAST}"
            )
            assert f'<a href="{link}" download>' in page
    assert "Download CSV" in page and "Download Excel (.xlsx)" in page


def test_page_in_japanese(client: TestClient) -> None:
    sign_in_as(client, EMAILS["admin"])
    page = client.get("/metrics", params=RANGE, headers={"Accept-Language": "ja"}).text
    assert '<html lang="ja">' in page
    assert "<h2>コホート継続率</h2>" in page
    assert "<legend>ヒートマップの色分け</legend>" in page
    assert "<caption>売上継続率（コホート別・開始からの経過月数別）</caption>" in page
    assert "CSV をダウンロード" in page and "Excel（.xlsx）をダウンロード" in page
    data = heatmap_of(page)
    assert (data["x_name"], data["y_name"]) == ("開始からの経過月数", "コホート")
    assert data["measures"]["logo_retention"]["label"] == "顧客継続率"


def test_a_range_without_cohorts_says_so(client: TestClient) -> None:
    sign_in_as(client, EMAILS["viewer"])
    page = client.get("/metrics", params={"start": "2025-01", "end": "2025-05"}).text
    assert "No cohort starts in these months." in page
    assert 'id="cohort-data"' not in page
    _header, *rows = csv_rows(export(client, "cohorts", "csv", start="2025-01", end="2025-05"))
    assert rows == []


@pytest.mark.parametrize("role", ["admin", "ops", "csm", "viewer"])
def test_every_signed_in_role_may_export(client: TestClient, role: str) -> None:
    sign_in_as(client, EMAILS[role])
    header, *rows = csv_rows(export(client, "revenue", "csv"))
    assert len(rows) == 14 and rows[-1][0] == "2025-05"


def test_export_needs_a_sign_in_and_known_choices(client: TestClient) -> None:
    anonymous = client.get(
        "/metrics/export", params={"table": "revenue", "format": "csv"}, follow_redirects=False
    )
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == (
        "/sign-in?next=%2Fmetrics%2Fexport%3Ftable%3Drevenue%26format%3Dcsv"
    )
    sign_in_as(client, EMAILS["viewer"])
    wrong = client.get("/metrics/export", params={"table": "accounts", "format": "pdf"})
    assert wrong.status_code == 400
    assert "Choose table revenue or cohorts and format csv or xlsx; got accounts and pdf." in (
        wrong.text
    )
    bad_month = client.get("/metrics/export", params={"table": "revenue", "end": "2025-13"})
    assert bad_month.status_code == 422
    assert "Give a month written YYYY-MM, such as 2024-04." in bad_month.text
    assert "<code>end</code>" in bad_month.text
