"""The pages as a browser without JavaScript sees them: sign-in, roles, CSRF, accounts, 360."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient
from sqlalchemy import select

from banso.activities.models import Activity
from banso.db import session_scope
from banso.users.models import User
from web.conftest import csrf_of
from web.world import EMAILS, World


def test_pages_need_sign_in_and_keep_the_target(client: TestClient) -> None:
    response = client.get("/accounts?plan=Pro", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?next=%2Faccounts%3Fplan%3DPro"


def test_wrong_password_is_refused_on_the_page(client: TestClient) -> None:
    token = csrf_of(client)
    form = {"email": EMAILS["ops"], "password": "not-it", "csrf_token": token}
    response = client.post("/sign-in", data=form)
    assert response.status_code == 401
    assert "Wrong e-mail address or password." in response.text
    assert client.get("/accounts", follow_redirects=False).status_code == 303


def test_sign_in_cookie_is_httponly_and_samesite_lax(client: TestClient) -> None:
    token = csrf_of(client)
    form = {"email": EMAILS["ops"], "password": "correct-horse-1", "csrf_token": token}
    response = client.post("/sign-in", data=form, follow_redirects=False)
    cookie = response.headers["set-cookie"].lower()
    assert "banso_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie


def test_five_wrong_passwords_slow_the_web_sign_in_down(client: TestClient) -> None:
    token = csrf_of(client)
    for _attempt in range(5):
        client.post(
            "/sign-in", data={"email": EMAILS["csm"], "password": "x" * 9, "csrf_token": token}
        )
    response = client.post(
        "/sign-in",
        data={"email": EMAILS["csm"], "password": "correct-horse-1", "csrf_token": token},
    )
    assert response.status_code == 429
    assert response.headers["retry-after"] in ("1", "2")
    assert "Too many failed sign-ins; try again in" in response.text


def test_sign_in_does_not_redirect_off_site(client: TestClient) -> None:
    # browsers read a backslash as a slash, and drop tabs and newlines inside a URL
    for target in ("https://evil.example/", "//evil.example", "/\\evil.example",
                   "\\\\evil.example", "/\t/evil.example", "/\n/evil.example"):  # fmt: skip
        form = {
            "email": EMAILS["ops"],
            "password": "correct-horse-1",
            "csrf_token": csrf_of(client),
            "next": target,
        }
        response = client.post("/sign-in", data=form, follow_redirects=False)
        assert response.headers["location"] == "/", target
    form = {**form, "csrf_token": csrf_of(client), "next": "/accounts?band=red"}
    response = client.post("/sign-in", data=form, follow_redirects=False)
    assert response.headers["location"] == "/accounts?band=red"


def test_sign_in_without_csrf_token_is_rejected(client: TestClient) -> None:
    client.get("/sign-in")
    form = {"email": EMAILS["ops"], "password": "correct-horse-1"}
    response = client.post("/sign-in", data=form, follow_redirects=False)
    assert response.status_code == 403
    assert "reload the page" in response.text


def test_sign_out_ends_the_session(client: TestClient, sign_in) -> None:  # type: ignore[no-untyped-def]
    token = sign_in("viewer")
    assert client.get("/accounts").status_code == 200
    client.post("/sign-out", data={"csrf_token": token})
    assert client.get("/accounts", follow_redirects=False).status_code == 303


def test_accounts_list_pages_sorts_and_counts(client: TestClient, sign_in, world: World) -> None:  # type: ignore[no-untyped-def]
    sign_in("viewer")
    first = client.get("/accounts")
    # Acme has churned: left out unless asked for
    assert "59 accounts" in first.text and "Page 1 of 2" in first.text
    assert "60 accounts" in client.get("/accounts?churned=true").text
    by_mrr = client.get("/accounts?sort=mrr&desc=true")
    assert by_mrr.text.index("株式会社山田製作所") < by_mrr.text.index("みどり商事株式会社")
    assert "¥130,000" in by_mrr.text and "¥50,000" in by_mrr.text
    partial = client.get("/accounts?plan=Pro", headers={"HX-Request": "true"})
    assert "<html" not in partial.text and "1 account" in partial.text  # Acme has churned
    owner = client.get(f"/accounts?owner={world.sato_member}").text
    assert f'<option value="{world.sato_member}" selected>佐藤 花子</option>' in owner
    assert f'<option value="{world.tanaka_member}">田中 一郎</option>' in owner
    assert "1 account" in owner  # 山田; Acme has churned


def test_csv_export_is_the_current_view(client: TestClient, sign_in) -> None:  # type: ignore[no-untyped-def]
    sign_in("viewer")
    response = client.get("/accounts/export.csv?plan=Pro&sort=mrr&desc=true&churned=true")
    assert response.text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["Account", "Kana", "Domain"]
    assert [r[0] for r in rows[1:]] == ["株式会社山田製作所", "Acme Japan K.K."]
    assert rows[0][6:10] == ["Lifecycle stage", "Health score", "Health band", "MRR"]
    assert rows[1][9] == "130000"


def test_account_360_shows_header_contacts_and_timeline(
    client: TestClient,
    sign_in,
    world: World,  # type: ignore[no-untyped-def]
) -> None:
    sign_in("viewer")
    page = client.get(f"/accounts/{world.yamada}").text
    assert "¥130,000" in page and "佐藤 花子" in page and "Add-on, Pro" in page
    assert "山田 太郎" in page and "<td>Champion</td>" in page
    assert "四半期ビジネスレビューを実施" in page
    assert "CSV export is slow" in page and "NPS answer: 9" in page
    assert "Subscription started: Pro" in page
    assert 'id="log-activity"' not in page
    churned = client.get(f"/accounts/{world.acme}").text
    assert "Subscription ended: Pro" in churned


def test_csm_logs_a_note_on_own_account_only(
    client: TestClient,
    sign_in,
    world: World,  # type: ignore[no-untyped-def]
) -> None:
    token = sign_in("csm")
    own = client.post(
        f"/accounts/{world.yamada}/activities",
        data={"kind": "note", "summary": "更新の打診をした", "csrf_token": token},
    )
    assert own.status_code == 200 and "更新の打診をした" in own.text
    other = client.post(
        f"/accounts/{world.midori}/activities",
        data={"kind": "note", "summary": "x", "csrf_token": token},
    )
    assert other.status_code == 403
    assert 'id="log-activity"' not in client.get(f"/accounts/{world.midori}").text
    with session_scope() as s:
        notes = s.scalars(select(Activity).where(Activity.source == "banso")).all()
        assert [(n.account_id, n.member_id, n.summary) for n in notes] == [
            (world.yamada, world.sato_member, "更新の打診をした")
        ]


def test_viewer_cannot_log_and_ops_can_log_anywhere(
    client: TestClient,
    sign_in,
    world: World,  # type: ignore[no-untyped-def]
) -> None:
    token = sign_in("viewer")
    denied = client.post(
        f"/accounts/{world.midori}/activities",
        data={"kind": "call", "summary": "x", "csrf_token": token},
    )
    assert denied.status_code == 403 and "Your role does not allow this." in denied.text
    client.post("/sign-out", data={"csrf_token": token})
    token = sign_in("ops")
    done = client.post(
        f"/accounts/{world.midori}/activities",
        data={"kind": "call", "summary": "導入支援の電話", "csrf_token": token},
    )
    assert done.status_code == 200 and "導入支援の電話" in done.text


def test_post_without_or_with_a_wrong_csrf_token_changes_nothing(
    client: TestClient,
    sign_in,
    world: World,  # type: ignore[no-untyped-def]
) -> None:
    sign_in("admin")
    url = f"/accounts/{world.yamada}/activities"
    missing = client.post(url, data={"kind": "note", "summary": "forged"})
    wrong = client.post(url, data={"kind": "note", "summary": "forged", "csrf_token": "abc"})
    assert missing.status_code == 403 and wrong.status_code == 403
    with session_scope() as s:
        assert s.scalar(select(Activity).where(Activity.summary == "forged")) is None


def test_language_follows_browser_then_the_switch_and_is_remembered(
    client: TestClient,
    sign_in,  # type: ignore[no-untyped-def]
) -> None:
    token = sign_in("csm")
    english = client.get("/accounts", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "<h1>Accounts</h1>" in english.text
    japanese = client.get("/accounts", headers={"Accept-Language": "ja,en;q=0.5"})
    assert '<html lang="ja">' in japanese.text and "<h1>顧客</h1>" in japanese.text
    client.post("/language", data={"lang": "ja", "next": "/accounts", "csrf_token": token})
    switched = client.get("/accounts", headers={"Accept-Language": "en"})
    assert "<h1>顧客</h1>" in switched.text
    with session_scope() as s:
        assert s.scalar(select(User.language).where(User.email == EMAILS["csm"])) == "ja"


def test_dashboard_tiles_and_renewals(client: TestClient, sign_in) -> None:  # type: ignore[no-untyped-def]
    sign_in("viewer")
    page = client.get("/").text
    # End of this month: 山田 1,200,000/12 + 30,000 + みどり 50,000; Acme left 135 days ago.
    assert "¥180,000" in page and "¥2,160,000" in page
    assert page.count('data-testid="chart"') == 3
    renewals = page[page.index("Renewals in the next 90 days") :]
    assert "株式会社山田製作所" not in renewals  # its renewal is 165 days away
    assert "No renewal is due in the next 90 days." in renewals


def test_dashboard_without_subscriptions_says_so(client: TestClient, sign_in) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import delete

    from banso.revenue.models import Subscription

    with session_scope() as s:
        s.execute(delete(Subscription))
    sign_in("viewer")
    page = client.get("/")
    assert page.status_code == 200
    assert "No subscriptions to report on" in page.text


def test_csm_sets_the_pulse_on_own_account_and_a_viewer_cannot(
    client: TestClient,
    sign_in,  # type: ignore[no-untyped-def]
    world: World,
) -> None:
    from banso.health.models import CsmPulse

    token = sign_in("csm")
    page = client.get(f"/accounts/{world.yamada}").text
    assert "No health score yet" in page and 'id="set-pulse"' in page
    saved = client.post(
        f"/accounts/{world.yamada}/pulse",
        data={"rating": "2", "comment": "決裁者が交代", "csrf_token": token},
    )
    assert saved.status_code == 200 and "Pulse saved." in saved.text
    other = client.post(
        f"/accounts/{world.midori}/pulse", data={"rating": "5", "csrf_token": token}
    )
    assert other.status_code == 403
    with session_scope() as s:
        pulses = s.scalars(select(CsmPulse)).all()
        assert [
            (p.account_id, p.rating, p.comment, (p.expires_on - p.rated_on).days) for p in pulses
        ] == [(world.yamada, 2, "決裁者が交代", 30)]


def test_metrics_page_tables(client: TestClient, sign_in) -> None:  # type: ignore[no-untyped-def]
    sign_in("viewer")
    page = client.get("/metrics").text
    rows = page[page.index('id="monthly-kpis"') : page.index('id="fiscal-periods"')]
    assert rows.count("<tr>") == 13  # header + 12 months
    assert '<td class="num">180,000</td>' in rows  # MRR at the end of this month
    assert "FY" in page[page.index('id="fiscal-periods"') :]
    bad = client.get("/metrics?end=2026-13").text
    assert "end: Give a month written YYYY-MM, such as 2024-04." in bad
    assert "--to" not in bad  # the page's parameter is named, not the command-line flag


def test_dashboard_period_picker_takes_fiscal_quarters_and_years(
    client: TestClient,
    sign_in,  # type: ignore[no-untyped-def]
) -> None:
    from banso.dates import today as company_today

    today = company_today()
    fiscal_year = today.year if today.month >= 4 else today.year - 1
    sign_in("viewer")
    year = client.get(f"/?period=FY{fiscal_year}").text
    # the running fiscal year is not over: marked "to date" in the picker and the chart title
    label = f"FY{fiscal_year} (to date)"
    assert f'<option value="FY{fiscal_year}" selected>{label}</option>' in year
    assert f"MRR movements in {label}" in year
    assert 'data-testid="to-date-note"' in year
    assert "¥180,000" in year  # MRR at the end of the period so far
    quarter = (today.month - 4) % 12 // 3 + 1
    q = client.get(f"/?period=FY{fiscal_year}-Q{quarter}").text
    assert f"MRR movements in FY{fiscal_year} Q{quarter} (to date)" in q
    future = client.get(f"/?period=FY{fiscal_year + 5}").text
    assert f"FY{fiscal_year + 5} starts after the last month with data." in future
