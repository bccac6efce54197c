"""Stripe and Zendesk against a local server in their published shapes; one company arriving
from HubSpot, Stripe and Zendesk under three ids becomes one account, with the spec's MRR."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from tests.connectors.replay import World, iso_ms, serve

from banso import db
from banso.accounts.models import Account, AccountIdentity, Contact
from banso.revenue.models import Subscription
from banso.support.models import Ticket
from banso.surveys.models import SurveyResponse


def _ts(day: date) -> int:
    """Noon UTC of ``day``: the same calendar day in Tokyo (21:00)."""
    return int(datetime(day.year, day.month, day.day, 12, tzinfo=UTC).timestamp())


def _sub(sid: str, customer: str, unit: int, interval: str, count: int, qty: int, start: date,
         **extra: object) -> dict:  # fmt: skip
    item = {"id": f"si_{sid}", "object": "subscription_item", "quantity": qty,
            "price": {"id": f"price_{sid}", "object": "price", "currency": "jpy",
                      "unit_amount": unit, "nickname": f"plan-{sid}",
                      "recurring": {"interval": interval, "interval_count": count}}}  # fmt: skip
    return {"id": f"sub_{sid}", "object": "subscription", "customer": customer,
            "status": "active", "start_date": _ts(start), "trial_end": None, "ended_at": None,
            "cancel_at": None, "cancel_at_period_end": False,
            "current_period_end": _ts(start + timedelta(days=30)),
            "items": {"object": "list", "data": [item]}, **extra}  # fmt: skip


def _stripe_world() -> World:
    w = World()
    w.stripe_customers = [
        {"id": "cus_A", "object": "customer", "name": "Alpha株式会社", "email": "ap@alpha.example"},
        {"id": "cus_B", "object": "customer", "name": "Beta合同会社", "email": "b@beta.example"},
    ]  # fmt: skip
    w.stripe_subscriptions = [
        _sub("1", "cus_A", 10000, "month", 1, 3, date(2026, 1, 10)),
        _sub("2", "cus_A", 120000, "year", 1, 1, date(2026, 3, 1)),
        _sub("3", "cus_B", 30000, "month", 3, 1, date(2026, 1, 15), status="trialing",
             trial_end=_ts(date(2026, 2, 1))),
        _sub("4", "cus_B", 5000, "month", 1, 1, date(2026, 6, 20), cancel_at_period_end=True,
             current_period_end=_ts(date(2026, 11, 20))),
        _sub("5", "cus_B", 9000, "month", 1, 1, date(2026, 10, 1), status="incomplete_expired"),
    ]
    w.stripe_event("customer.created", w.stripe_customers[0], _ts(date(2026, 11, 25)))
    return w


def _revenue(cli, month: str) -> dict:
    result = cli("metrics", "revenue", "--from", month, "--to", month, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    rows = data["rows"] if isinstance(data, dict) else data
    return rows[0]


def _count(model: type) -> int:
    with db.session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_stripe_items_become_contract_lines_with_the_spec_mrr(cli, monkeypatch) -> None:
    monkeypatch.setenv("STRIPE_KEY", "sk_test_x")
    monkeypatch.setenv("BANSO_TODAY", "2026-11-30")
    world = _stripe_world()
    world.faults["/v1/subscriptions"].append((500, {}))
    cli("init")
    with serve(world) as base:
        assert cli("connect", "add", "stripe", "--kind", "stripe", "--base-url", base,
                   "--secret-env", "STRIPE_KEY").exit_code == 0  # fmt: skip
        first = cli("connect", "sync", "stripe")
        assert first.exit_code == 0, first.stderr
        with db.session_scope() as session:
            lines = {s.external_id: s for s in session.scalars(select(Subscription))}
        assert set(lines) == {"si_1", "si_2", "si_3", "si_4"}  # the never-paid one is left out
        assert (lines["si_1"].amount, lines["si_1"].billing_period_months) == (30000, 1)
        assert (lines["si_2"].amount, lines["si_2"].billing_period_months) == (120000, 12)
        assert lines["si_3"].start_date == date(2026, 2, 1)  # paying starts after the trial
        assert lines["si_4"].end_date == date(2026, 11, 20)  # cancelled at period end
        # spec MRR at the end of November: 30,000 + 120,000/12 + 30,000/3 (si_4 has ended)
        assert int(_revenue(cli, "2026-11")["mrr_end"]) == 50000

        # an update of sub 1 and a new weekly subscription arrive as events
        upgraded = _sub("1", "cus_A", 10000, "month", 1, 4, date(2026, 1, 10))
        weekly = _sub("6", "cus_B", 2000, "week", 1, 1, date(2026, 11, 26))
        world.stripe_event("customer.subscription.updated", upgraded, _ts(date(2026, 11, 26)))
        world.stripe_event("customer.subscription.created", weekly, _ts(date(2026, 11, 26)) + 1)
        world.requests.clear()
        rejected = cli("connect", "sync", "stripe", "--object", "subscriptions")
        assert rejected.exit_code == 1
        assert "stripe:subscriptions:si_6: price.recurring.interval: a week interval" in (
            rejected.stderr)
        assert {p for _m, p, _q, _b in world.requests} == {"/v1/events"}
        with db.session_scope() as session:
            assert session.scalar(select(Subscription.amount).where(
                Subscription.external_id == "si_1")) == 30000  # fmt: skip
        # the customer moves it to monthly billing: the newest snapshot of each object counts
        monthly = _sub("6", "cus_B", 2000, "month", 1, 1, date(2026, 11, 26))
        world.stripe_event("customer.subscription.updated", monthly, _ts(date(2026, 11, 27)))
        again = cli("connect", "sync", "stripe", "--object", "subscriptions", "--format", "json")
        assert again.exit_code == 0, again.stderr
        [result] = json.loads(again.stdout)
        assert (result["records_in"], result["inserted"], result["updated"]) == (2, 1, 1)
        assert _count(Subscription) == 5
        with db.session_scope() as session:
            assert session.scalar(select(Subscription.amount).where(
                Subscription.external_id == "si_1")) == 40000  # fmt: skip


def _zendesk_world() -> World:
    w = World()
    t = 1_780_000_000
    w.zendesk_organizations = [
        {"id": 11, "name": "Alpha株式会社", "domain_names": ["alpha.example"], "_ts": t},
        {"id": 12, "name": "Beta合同会社", "domain_names": [], "_ts": t + 1},
        {"id": 13, "name": "Gamma", "domain_names": ["gamma.example"], "_ts": t + 2},
    ]
    w.zendesk_users = [
        {"id": 21, "name": "山田 太郎", "email": "taro@alpha.example", "organization_id": 11,
         "role": "end-user", "locale": "ja", "_ts": t},
        {"id": 22, "name": "Agent", "email": "agent@vendor.example", "organization_id": None,
         "role": "agent", "locale": "en-US", "_ts": t},
        {"id": 23, "name": "Jo", "email": "jo@beta.example", "organization_id": 12,
         "role": "end-user", "locale": "en-US", "_ts": t + 1},
    ]  # fmt: skip
    w.zendesk_tickets = [
        {"id": 31, "subject": "ログインできない", "status": "hold", "priority": "urgent",
         "organization_id": 11, "type": "incident", "created_at": "2026-11-02T01:00:00Z",
         "updated_at": "2026-11-03T01:00:00Z", "_ts": t},
        {"id": 32, "subject": "CSV export", "status": "solved", "priority": "normal",
         "organization_id": 12, "type": "question", "created_at": "2026-11-04T01:00:00Z",
         "updated_at": "2026-11-05T01:00:00Z", "_ts": t + 1},
        {"id": 33, "subject": "no org", "status": "open", "priority": None,
         "organization_id": None, "type": None, "created_at": "2026-11-06T01:00:00Z",
         "updated_at": "2026-11-06T01:00:00Z", "_ts": t + 2},
    ]  # fmt: skip
    w.zendesk_ratings = [
        {"id": 41, "score": "good", "ticket_id": 32, "organization_id": 12, "requester_id": 23,
         "comment": "速い", "created_at": "2026-11-05T02:00:00Z"},
        {"id": 42, "score": "bad", "ticket_id": 31, "organization_id": 11, "requester_id": 21,
         "comment": None, "created_at": "2026-11-05T03:00:00Z"},
        {"id": 43, "score": "offered", "ticket_id": 33, "organization_id": None,
         "requester_id": 21, "comment": None, "created_at": "2026-11-06T03:00:00Z"},
    ]  # fmt: skip
    return w


def test_zendesk_organizations_users_tickets_and_ratings(cli, monkeypatch) -> None:
    monkeypatch.setenv("ZENDESK", "agent@vendor.example/token:abc")
    world = _zendesk_world()
    world.faults["/api/v2/incremental/tickets/cursor.json"].append((429, {"Retry-After": "1"}))
    cli("init")
    with serve(world) as base:
        cli("connect", "add", "zendesk", "--kind", "zendesk", "--base-url", base,
            "--secret-env", "ZENDESK")  # fmt: skip
        assert cli("connect", "test", "zendesk").exit_code == 0
        first = cli("connect", "sync", "zendesk")
        assert first.exit_code == 0, first.stderr
        assert world.authorization[-1].startswith("Basic ")
        assert (_count(Account), _count(Contact), _count(Ticket), _count(SurveyResponse)) == (
            3, 2, 2, 2)
        with db.session_scope() as session:
            tickets = {t.external_id: t for t in session.scalars(select(Ticket))}
            assert (tickets["31"].status, tickets["31"].priority) == ("pending", "high")
            assert tickets["32"].closed_at is not None and tickets["31"].closed_at is None
            scores = dict(session.execute(select(SurveyResponse.external_id,
                                                 SurveyResponse.score)).all())  # fmt: skip
            assert scores == {"rating-41": 5, "rating-42": 1}
        world.zendesk_tickets.append(
            {"id": 34, "subject": "請求書", "status": "new", "priority": "low",
             "organization_id": 13, "type": "question", "created_at": "2026-11-07T01:00:00Z",
             "updated_at": "2026-11-07T01:00:00Z", "_ts": 1_780_000_100})  # fmt: skip
        world.requests.clear()
        second = cli("connect", "sync", "zendesk", "--object", "tickets", "--format", "json")
        [result] = json.loads(second.stdout)
        assert (result["records_in"], result["inserted"]) == (1, 1)
        assert _count(Ticket) == 3
        # a malformed ticket (a status Zendesk does not have) and a 500 on the way
        world.zendesk_tickets.append(
            {"id": 35, "subject": "x", "status": "archived", "priority": "low",
             "organization_id": 13, "type": None, "created_at": "2026-11-08T01:00:00Z",
             "updated_at": "2026-11-08T01:00:00Z", "_ts": 1_780_000_200})  # fmt: skip
        world.faults["/api/v2/incremental/tickets/cursor.json"].append((500, {}))
        bad = cli("connect", "sync", "zendesk", "--object", "tickets")
        assert bad.exit_code == 1
        assert "zendesk:tickets:35: status: unknown ticket status 'archived'" in bad.stderr
        assert _count(Ticket) == 3


def test_one_company_from_three_services_is_one_account(cli, monkeypatch) -> None:
    monkeypatch.setenv("TOKEN", "t")
    monkeypatch.setenv("BANSO_TODAY", "2026-11-30")
    w = World()
    at = datetime(2026, 11, 1, tzinfo=UTC)
    w.hubspot_companies = [{"id": "9001", "archived": False, "properties": {
        "name": "ＡＢＣホールディングス㈱", "domain": "example.co.jp",
        "hs_lastmodifieddate": iso_ms(at)}}]  # fmt: skip
    w.stripe_customers = [{"id": "cus_ABC", "object": "customer", "name": None,
                           "email": "keiri@sales.example.co.jp"}]  # fmt: skip
    w.stripe_subscriptions = [_sub("9", "cus_ABC", 600000, "year", 1, 2, date(2026, 4, 1))]
    w.zendesk_organizations = [
        {"id": 77, "name": "ABCホールディングス株式会社", "domain_names": [], "_ts": 1},
        {"id": 78, "name": "ABC商事株式会社", "domain_names": ["abc-shoji.example"], "_ts": 2},
    ]
    cli("init")
    with serve(w) as base:
        for name, kind in (("hubspot", "hubspot"), ("stripe", "stripe"), ("zendesk", "zendesk")):
            cli("connect", "add", name, "--kind", kind, "--base-url", base, "--secret-env",
                "TOKEN")  # fmt: skip
            result = cli("connect", "sync", name)
            assert result.exit_code == 0, result.stderr
    with db.session_scope() as session:
        identities = session.execute(
            select(AccountIdentity.source, AccountIdentity.external_id, AccountIdentity.account_id)
        ).all()  # fmt: skip
    by_source = {(s, e): a for s, e, a in identities}
    abc = by_source[("hubspot", "9001")]
    assert by_source[("stripe", "cus_ABC")] == abc  # by the registered domain of the e-mail
    assert by_source[("zendesk", "77")] == abc  # by the name, full-width and ㈱ folded
    assert by_source[("zendesk", "78")] != abc  # 商事 is another company
    assert _count(Account) == 2
    # MRR of the annual line: 600,000 x 2 seats / 12 months
    assert int(_revenue(cli, "2026-11")["mrr_end"]) == 100000
