"""One next renewal and one MRR for every page, trigger and report (issue 12).

The accounts list, the account 360, the dashboard's renewals due, the ``renewal_in`` playbook
trigger and ``banso metrics revenue`` all take an account's next renewal and MRR from
``banso.revenue.contracts``. These tests give them the same worlds and check that they agree,
including an open-ended annual contract (¥1.2M a year from 2025-12-24: next renewal 2026-12-24 on
2026-12-01) and an account billed in yen and dollars.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, timedelta
from fractions import Fraction

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

from banso import dates, schema
from banso.account_views import account360
from banso.account_views import accounts_list as views
from banso.accounts.models import Account
from banso.dashboard.routes import RENEWAL_WINDOW_DAYS, dashboard
from banso.db import get_engine, session_scope
from banso.playbooks.config import DEFAULT_PLAYBOOKS, Conditions, Playbook, RenewalIn
from banso.playbooks.triggers import PlaybookData
from banso.revenue import contracts
from banso.revenue import service as revenue
from banso.revenue.models import FxRate, Subscription
from web.world import World

TODAY = date(2026, 12, 1)
WINDOW_END = TODAY + timedelta(days=RENEWAL_WINDOW_DAYS)


@pytest.fixture
def today(monkeypatch: pytest.MonkeyPatch) -> date:
    """The pages' "today" (company time) fixed at 2026-12-01."""
    monkeypatch.setattr(dates, "today", lambda: TODAY)
    return TODAY


def _account(session, name: str, plan: str) -> int:  # type: ignore[no-untyped-def]
    account = Account(name=name, normalized_name=name, plan=plan, touch_model="high")
    session.add(account)
    session.flush()
    return account.id


def _line(session, account_id: int, ref: str, start: str, end: str | None, amount: int,
          currency: str, period: int) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    session.add(
        Subscription(
            account_id=account_id,
            source="billing",
            external_id=ref,
            plan=ref,
            start_date=date.fromisoformat(start),
            end_date=date.fromisoformat(end) if end else None,
            amount=amount,
            currency=currency,
            billing_period_months=period,
        )
    )


def _small_world() -> dict[str, int]:
    """Five accounts (each its own plan, so ``--by plan`` reports per account)."""
    schema.upgrade()
    with session_scope() as s:
        ids = {
            "annual": _account(s, "年契約商事", "p-annual"),
            "two_currencies": _account(s, "Two Currencies K.K.", "p-two"),
            "monthly": _account(s, "月額工業", "p-monthly"),
            "cancelled": _account(s, "途中解約", "p-cancelled"),
            "later": _account(s, "来年更新", "p-later"),
        }
        _line(s, ids["annual"], "A-1", "2025-12-24", None, 1_200_000, "JPY", 12)
        _line(s, ids["two_currencies"], "B-jpy", "2026-02-10", None, 600_000, "JPY", 12)
        _line(s, ids["two_currencies"], "B-usd", "2026-01-15", None, 120_000, "USD", 12)  # $1,200
        _line(s, ids["monthly"], "C-1", "2026-04-05", None, 30_000, "JPY", 1)
        _line(s, ids["cancelled"], "D-1", "2026-03-01", "2026-12-15", 1_200_000, "JPY", 12)
        _line(s, ids["later"], "E-1", "2026-06-01", None, 2_400_000, "JPY", 12)
        for month in range(1, 13):
            s.add(FxRate(currency="USD", month=f"2026-{month:02d}", rate="150.25"))
        s.add(FxRate(currency="USD", month="2027-01", rate="151"))
    return ids


def test_every_page_trigger_and_report_gives_the_same_next_renewal_and_mrr(today: date) -> None:
    ids = _small_world()
    want_renewal = {
        ids["annual"]: date(2026, 12, 24),  # open-ended: start + 12 months, not "no end date"
        ids["two_currencies"]: date(2027, 1, 15),  # the dollar line renews first
        ids["monthly"]: None,  # monthly lines renew every month: not a contract renewal
        ids["cancelled"]: None,  # ends 2026-12-15, before its 2027-03-01 renewal date
        ids["later"]: date(2027, 6, 1),
    }
    want_mrr = {
        ids["annual"]: 100_000,
        ids["two_currencies"]: 50_000 + 15_025,  # $100.00 a month at 150.25 yen
        ids["monthly"]: 30_000,
        ids["cancelled"]: 100_000,
        ids["later"]: 200_000,
    }
    with session_scope() as s:
        # the accounts list, every account
        rows = {r.id: r for r in views.iter_accounts(s, views.AccountFilter())}
        assert {i: r.next_renewal for i, r in rows.items()} == want_renewal
        assert {i: r.mrr for i, r in rows.items()} == want_mrr
        # the 360 header
        for account_id in ids.values():
            view = account360.account_360(s, account_id)
            assert (view.next_renewal, view.mrr) == (
                want_renewal[account_id],
                want_mrr[account_id],
            )
        assert account360.account_360(s, ids["two_currencies"]).mrr_by_currency == {
            "JPY": 50_000,
            "USD": 10_000,
        }
        # the list's renewal window and the dashboard's renewals due in the next 90 days
        due = views.list_accounts(
            s, views.AccountFilter(renewal_days=RENEWAL_WINDOW_DAYS, sort="renewal")
        )
        expected_due = [ids["annual"], ids["two_currencies"]]
        assert [(r.id, r.next_renewal, r.mrr) for r in due.rows] == [
            (i, want_renewal[i], want_mrr[i]) for i in expected_due
        ]
        board = dashboard(s, "2026-11")
        assert [(r.id, r.next_renewal, r.mrr) for r in board.renewals.rows] == [
            (r.id, r.next_renewal, r.mrr) for r in due.rows
        ]
        # plain Python over the lines says the same
        lines = defaultdict(list)
        for sub in s.scalars(select(Subscription)):
            lines[sub.account_id].append(contracts.Line.of(sub))
        fx = contracts.fx_table(s, date(2026, 1, 1), date(2027, 1, 31))
        for account_id, own in lines.items():
            assert contracts.account_next_renewal(own, TODAY) == want_renewal[account_id]
            assert contracts.account_mrr(own, TODAY, fx) == want_mrr[account_id]

    # the renewal_in trigger fires exactly that many days before each next renewal, with that MRR
    data = PlaybookData(get_engine())
    for account_id, renewal in want_renewal.items():
        if renewal is None:
            continue
        fired = data.firings(_renewal_playbook((renewal - TODAY).days), [TODAY]).to_pylist()
        assert [(f["account_id"], f["mrr"]) for f in fired] == [(account_id, want_mrr[account_id])]
        assert json.loads(fired[0]["detail"])["renewal_day"] == renewal.isoformat()

    # banso metrics revenue: MRR at each month end and the MRR due in the renewal's month
    with session_scope() as s:
        report = revenue.revenue_report(s, start="2026-11", end="2027-01", by="plan")
        by_month = {(r["month"], r["plan"]): r for r in report.rows}
        november = {i: contracts.account_mrr(lines[i], date(2026, 11, 30), fx) for i in lines}
        plans = {a.id: a.plan for a in s.scalars(select(Account))}
    for account_id, plan in plans.items():
        assert by_month[("2026-11", plan)]["mrr_end"] == november[account_id]
    assert by_month[("2026-12", "p-annual")]["renewal_due_mrr"] == 100_000
    # the dollar line is due in January at January's rate: $100 × 151
    assert by_month[("2027-01", "p-two")]["renewal_due_mrr"] == 15_100
    for month, first, last in (
        ("2026-12", date(2026, 12, 1), date(2026, 12, 31)),
        ("2027-01", date(2027, 1, 1), date(2027, 1, 31)),
    ):
        for account_id, plan in plans.items():
            due_mrr = contracts.mrr_due(lines[account_id], first, last, fx)
            reported = by_month.get((month, plan), {}).get("renewal_due_mrr", 0)
            assert reported == due_mrr, (month, plan)


def test_the_list_on_a_month_end_sums_to_the_kpis_mrr_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _small_world()
    monkeypatch.setattr(dates, "today", lambda: date(2026, 11, 30))
    with session_scope() as s:
        listed = sum(r.mrr or 0 for r in views.iter_accounts(s, views.AccountFilter()))
        report = revenue.revenue_report(s, start="2026-11", end="2026-11")
    assert report.rows[0]["mrr_end"] == listed == 100_000 + 65_025 + 30_000 + 100_000 + 200_000


def test_the_dashboards_renewals_follow_a_new_contract(today: date) -> None:
    ids = _small_world()
    with session_scope() as s:
        before = views.renewals_due(s, RENEWAL_WINDOW_DAYS, limit=20)
    with session_scope() as s:
        _line(s, ids["later"], "E-2", "2026-01-20", None, 120_000, "JPY", 12)
    with session_scope() as s:
        after = views.renewals_due(s, RENEWAL_WINDOW_DAYS, limit=20)
    assert [(r.id, r.next_renewal) for r in before.rows] == [
        (ids["annual"], date(2026, 12, 24)),
        (ids["two_currencies"], date(2027, 1, 15)),
    ]
    assert [(r.id, r.next_renewal, r.mrr) for r in after.rows][2:] == [
        (ids["later"], date(2027, 1, 20), 200_000 + 10_000)
    ]


def _renewal_playbook(days: int) -> Playbook:
    base = yaml.safe_load((DEFAULT_PLAYBOOKS / "renewal-90.yaml").read_text(encoding="utf-8"))
    playbook = Playbook.model_validate(base)
    trigger = RenewalIn(type="renewal_in", days=days)
    return playbook.model_copy(update={"trigger": trigger, "conditions": Conditions()})


@pytest.mark.slow
def test_a_demo_world_agrees_everywhere(cli, today: date) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").exit_code == 0
    made = cli(
        "demo", "generate", "--accounts", "150", "--months", "18", "--seed", "5",
        "--end", "2026-12-01",
    )  # fmt: skip
    assert made.exit_code == 0, made.stderr
    with session_scope() as s:
        lines = defaultdict(list)
        for sub in s.scalars(select(Subscription)):
            lines[sub.account_id].append(contracts.Line.of(sub))
        fx = contracts.fx_table(s, date(2025, 1, 1), TODAY)
        want = {
            a: (contracts.account_next_renewal(own, TODAY), contracts.account_mrr(own, TODAY, fx))
            for a, own in lines.items()
        }
        # the definition restated: accounts with a paid yearly-or-longer line due in the window
        due_in_window = {
            a
            for a, own in lines.items()
            for x in own
            if x.amount > 0
            and x.billing_period_months >= 12
            and contracts.renewals_between(x, TODAY, WINDOW_END)
        }
        open_ended = {
            a
            for a in due_in_window
            for x in lines[a]
            if x.end_date is None and x.billing_period_months >= 12
        }
        assert open_ended, "the demo world should renew open-ended annual contracts"

        listed = {
            r.id: r for r in views.iter_accounts(s, views.AccountFilter(include_churned=True))
        }
        # the list leaves out by default exactly the accounts churned by the spec's definition
        shown = {r.id for r in views.iter_accounts(s, views.AccountFilter())}
        churned = {a for a, own in lines.items() if contracts.is_churned(own, TODAY)}
        assert churned and set(listed) - shown == churned
        for account_id, (renewal, mrr) in want.items():
            row = listed[account_id]
            assert (row.next_renewal, row.mrr or 0) == (renewal, mrr)
        window = list(
            views.iter_accounts(
                s, views.AccountFilter(renewal_days=RENEWAL_WINDOW_DAYS, sort="renewal")
            )
        )
        assert {r.id for r in window} == due_in_window
        assert [r.next_renewal for r in window] == sorted(r.next_renewal for r in window)
        for r in window[:10]:
            view = account360.account_360(s, r.id)
            assert (view.next_renewal, view.mrr) == (r.next_renewal, r.mrr)
        board = dashboard(s, None)
        assert [(r.id, r.next_renewal) for r in board.renewals.rows] == [
            (r.id, r.next_renewal) for r in window[:20]
        ]
        assert board.renewals.total == len(due_in_window)
        december = revenue.revenue_report(s, start="2026-12", end="2026-12").rows[0]
        november = revenue.revenue_report(s, start="2026-11", end="2026-11").rows[0]
    assert december["renewal_due_mrr"] == sum(
        contracts.mrr_due(own, date(2026, 12, 1), date(2026, 12, 31), fx) for own in lines.values()
    )
    # the KPI sums exact MRR; each page shows an account's rounded once
    month_end = date(2026, 11, 30)
    exact = {
        a: sum(
            (
                contracts.line_mrr(x, fx, month_end)
                for x in own
                if contracts.is_active(x, month_end)
            ),
            Fraction(0),
        )
        for a, own in lines.items()
    }
    assert november["mrr_end"] == sum(exact.values())
    assert all(round(v) == contracts.account_mrr(lines[a], month_end, fx) for a, v in exact.items())

    # the renewal trigger fires for the accounts whose next renewal is that many days away
    data = PlaybookData(get_engine())
    offsets = sorted({(r.next_renewal - TODAY).days for r in window})
    for days in offsets[:8]:
        fired = {
            f["account_id"] for f in data.firings(_renewal_playbook(days), [TODAY]).to_pylist()
        }
        renewing = {r.id for r in window if (r.next_renewal - TODAY).days == days}
        assert renewing <= fired, days


def test_the_360_page_and_api_show_one_mrr_for_a_yen_and_dollar_account(
    client: TestClient, world: World, sign_in
) -> None:  # type: ignore[no-untyped-def]
    today = dates.today()
    with session_scope() as s:
        _line(s, world.yamada, "S-usd", (today - timedelta(days=30)).isoformat(), None,
              120_000, "USD", 12)  # fmt: skip
        s.add(FxRate(currency="USD", month=f"{today:%Y-%m}", rate="150.25"))
    sign_in("viewer")
    page = client.get(f"/accounts/{world.yamada}").text
    header = page[
        page.index('data-testid="mrr"') : page.index("</dd>", page.index('data-testid="mrr"'))
    ]
    assert "¥145,025" in header  # 130,000 yen + $100.00 a month at 150.25
    assert "¥130,000" in header and "100.00" in header  # the lines' own currencies beside it
    body = client.get(f"/api/accounts/{world.yamada}").json()
    assert body["account"]["mrr"] == 145_025
    assert body["mrr_by_currency"] == {"JPY": 130_000, "USD": 10_000}
    listed = client.get("/api/accounts", params={"q": "山田"}).json()
    assert [i["mrr"] for i in listed["items"]] == [145_025]
