"""The monthly usage report on a small event world, against figures counted by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.campaigns.world import PASSWORD, mail_settings, parts, sign_in, smtp_server

from banso import schema
from banso.accounts.models import Account, Contact
from banso.campaigns import usage_report
from banso.campaigns.usage_report import FeatureUse, Measure
from banso.db import session_scope
from banso.flows.daily_run import run_pipeline
from banso.messaging import outbox
from banso.messaging.models import OutboxMessage, Suppression
from banso.revenue.models import Subscription
from banso.server.app import create_app
from banso.usage.store import EVENT_SCHEMA, append_events
from banso.users.service import create_user

JUNE = date(2025, 6, 1)


def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 3, tzinfo=UTC)  # 12:00 in Tokyo


def build_usage_world() -> None:
    """Accounts 1 and 3 are customers on 2025-06-30, 2 is not (its line ended in May).

    Account 1's events (the report's 28 days are 06-03..06-30, the 28 before 05-06..06-02):
    - before: u1 login + report.view on 05-10, u2 report.view on 05-20; and u9 on 05-01
      (outside both windows);
    - report: u1 login + report.view ×2 on 06-05, u2 export and u3 report.view on 06-10,
      u3 login on 06-20.
    By hand: active users 3 (before 2), days with activity 3 (before 2), sign-ins 2 (before 1);
    features: report.view 3 times by 2 people, export once by 1 person.
    """
    schema.upgrade()
    with session_scope() as s:
        s.add_all([Account(id=i, name=n, normalized_name=n.lower())
                   for i, n in ((1, "One"), (2, "Two"), (3, "Three"))])  # fmt: skip
        s.flush()
        s.add_all(
            [
                Subscription(account_id=1, source="t", external_id="s1", plan="pro",
                             start_date=date(2025, 1, 1), amount=50_000, currency="JPY",
                             billing_period_months=1),
                Subscription(account_id=2, source="t", external_id="s2", plan="pro",
                             start_date=date(2025, 1, 1), end_date=date(2025, 5, 31),
                             amount=50_000, currency="JPY", billing_period_months=1),
                Subscription(account_id=3, source="t", external_id="s3", plan="pro",
                             start_date=date(2025, 6, 15), amount=10_000, currency="JPY",
                             billing_period_months=1),
                Contact(id=1, account_id=1, source="t", external_id="c1", name="Ann",
                        email="ann@one.example", role="champion", language="en"),
                Contact(id=2, account_id=1, source="t", external_id="c2", name="伊藤",
                        email="ito@one.example", role="user", language="ja"),
                Contact(id=3, account_id=1, source="t", external_id="c3", name="Cho",
                        email="cho@one.example", role="admin", language="en"),
                Contact(id=4, account_id=2, source="t", external_id="c4", name="Two",
                        email="x@two.example", role="champion", language="en"),
                Contact(id=5, account_id=3, source="t", external_id="c5", name="三田",
                        email="mita@three.example", role="user", language="ja"),
            ]
        )  # fmt: skip
        s.add(Suppression(email="cho@one.example", reason="unsubscribed", contact_id=3))
    events = [
        ("u9", "login", date(2025, 5, 1)),
        ("u1", "login", date(2025, 5, 10)),
        ("u1", "report.view", date(2025, 5, 10)),
        ("u2", "report.view", date(2025, 5, 20)),
        ("u1", "login", date(2025, 6, 5)),
        ("u1", "report.view", date(2025, 6, 5)),
        ("u1", "report.view", date(2025, 6, 5)),
        ("u2", "export", date(2025, 6, 10)),
        ("u3", "report.view", date(2025, 6, 10)),
        ("u3", "login", date(2025, 6, 20)),
        ("x1", "export", date(2025, 6, 11)),  # account 2: not a customer, no report
    ]
    rows = [
        {"event_id": f"e{i}", "account_id": 2 if user == "x1" else 1, "user_id": user,
         "event": name, "ts": noon(day), "properties": None}
        for i, (user, name, day) in enumerate(events)
    ]  # fmt: skip
    append_events(pa.Table.from_pylist(rows, schema=EVENT_SCHEMA))


def test_the_figures_match_the_hand_count() -> None:
    build_usage_world()
    with session_scope() as s:
        one, three = usage_report.reports(s, JUNE)
    assert (one.account_id, one.as_of) == (1, date(2025, 6, 30))
    assert one.active_users == Measure(3, 2)
    assert one.active_days == Measure(3, 2)
    assert one.logins == Measure(2, 1)
    assert one.top_features == [FeatureUse("report.view", 3, 2), FeatureUse("export", 1, 1)]
    assert (three.account_id, three.active_users, three.top_features) == (3, Measure(0, 0), [])


def test_the_email_is_neutral_and_in_the_contacts_language() -> None:
    build_usage_world()
    with session_scope() as s:
        [one] = usage_report.reports(s, JUNE, account_id=1)
    subject, body = usage_report.render(one, "en", "Ann", "https://x/unsubscribe/t")
    assert subject == "One: your usage report for 2025-06"
    assert body.splitlines()[:9] == [
        "Hello Ann,",
        "",
        "Here is how One used the product in the 4 weeks to 2025-06-30, next to the 4 weeks "
        "before.",
        "",
        "- Active users: 3 (up 50% on the 4 weeks before)",
        "- Days with activity: 3 (up 50% on the 4 weeks before)",
        "- Sign-ins: 2 (up 100% on the 4 weeks before)",
        "",
        "Features used most:",
    ]
    assert "- report.view: 3 uses by 2 people" in body and "- export: 1 use by 1 person" in body
    ja_subject, ja_body = usage_report.render(one, "ja", "伊藤", "https://x/unsubscribe/t")
    assert ja_subject == "One 様: 2025-06 のご利用レポート"
    assert "- アクティブユーザー数: 3 (前の 4 週間から 50% 増)" in ja_body
    for text in (body, ja_body):
        assert "risk" not in text.lower() and "リスク" not in text
    assert "- report.view: 2 人が 3 回" in ja_body


def test_reports_go_once_to_the_chosen_contacts() -> None:
    build_usage_world()
    with smtp_server() as (box, port):
        with session_scope() as s:
            first = usage_report.queue(s, JUNE, mail=mail_settings(port, "https://b.example"))
        with session_scope() as s:
            again = usage_report.queue(s, JUNE, mail=mail_settings(port, "https://b.example"))
            assert usage_report.queued_before(s, JUNE)
            assert not usage_report.queued_before(s, date(2025, 5, 1))
        assert outbox.deliver(settings=mail_settings(port, "https://b.example")).sent == 2
    # One: the champion Ann (the admin Cho unsubscribed; the user 伊藤 is not chosen);
    # Three has no champion, decision maker or admin: its user 三田 gets it
    assert (first.accounts, first.emails, again.emails) == (2, 2, 0)
    assert box.to() == ["ann@one.example", "mita@three.example"]
    mita = next(m for m in box.messages if m["To"] == "mita@three.example")
    text, _html = parts(mita) if mita.is_multipart() else (mita.get_content(), "")
    assert "- アクティブユーザー数: 0 (どちらの期間もなし)" in text
    with session_scope() as s:
        keys = sorted(s.scalars(select(OutboxMessage.idempotency_key)))
    assert keys == ["usage-report/2025-06/1/1", "usage-report/2025-06/3/5"]


@pytest.mark.slow
def test_the_daily_run_queues_the_last_months_reports_once_when_switched_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    build_usage_world()
    monkeypatch.setenv("BANSO_TODAY", "2025-07-01")
    assert run_pipeline(date(2025, 6, 30), send=False).usage_reports is None  # off by default
    monkeypatch.setenv("BANSO_USAGE_REPORTS", "true")
    before = run_pipeline(date(2025, 6, 29), send=False)  # May's: no customer had events yet
    first = run_pipeline(date(2025, 6, 30), send=False)  # June is over on D
    again = run_pipeline(date(2025, 6, 30), send=False)
    assert before.usage_reports is not None and before.usage_reports.month == date(2025, 5, 1)
    assert first.usage_reports is not None
    assert (first.usage_reports.month, first.usage_reports.emails) == (JUNE, 2)
    assert again.usage_reports is None


def test_the_preview_page_shows_the_report_in_both_languages_and_its_recipients() -> None:
    build_usage_world()
    with session_scope() as s:
        create_user(s, "ops@vendor.example", name="Ops", role="ops", password=PASSWORD)
    with TestClient(create_app(), base_url="http://testserver") as client:
        sign_in(client, "ops@vendor.example")
        page = client.get("/campaigns/usage-report?account=1&month=2025-06")
        gone = client.get("/campaigns/usage-report?account=2&month=2025-06")
        bad = client.get("/campaigns/usage-report?account=1&month=2025-13")
    assert page.status_code == 200
    assert "One 様: 2025-06 のご利用レポート" in page.text
    assert "- Active users: 3 (up 50% on the 4 weeks before)" in page.text
    assert "Ann &lt;ann@one.example&gt;" in page.text and "cho@one.example" not in page.text
    assert 'data-testid="usage-report-none"' in gone.text
    assert bad.status_code == 422


def test_the_cli_prints_a_dry_run_and_refuses_a_bad_month(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    build_usage_world()
    dry = cli("campaigns", "usage-report", "--month", "2025-06", "--account", "1", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert "--- 1 One: your usage report for 2025-06" in dry.stdout
    assert "- Sign-ins: 2 (up 100% on the 4 weeks before)" in dry.stdout
    with session_scope() as s:
        assert s.scalars(select(OutboxMessage)).all() == []  # a dry run queues nothing
    bad = cli("campaigns", "usage-report", "--month", "2025-13")
    assert bad.exit_code == 2 and "--month must be a month written YYYY-MM" in bad.stderr
    no_subject = tmp_path / "t.txt"
    no_subject.write_text("Hello\n", encoding="utf-8")
    made = cli("campaigns", "create", "--name", "x", "--segment", "smb",
               "--template-ja", str(no_subject), "--template-en", str(no_subject))  # fmt: skip
    assert made.exit_code == 2
    assert f"{no_subject}:1: the first line must be “Subject: …”" in made.stderr
