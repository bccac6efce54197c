"""The account 360 shows the account's CRM deals and invoices on its timeline, with their
amounts formatted on the page and given in minor units in the JSON."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient

from banso import dates
from banso.account_views import account360
from banso.config import get_settings
from banso.db import session_scope
from banso.deals.models import Deal
from banso.invoices.models import Invoice
from web.world import World


def _add(world: World) -> date:
    today = dates.today()
    with session_scope() as s:
        s.add_all([
            Deal(account_id=world.yamada, source="crm", external_id="d1", name="追加ライセンス",
                 stage="closedwon", status="won", amount=1200000, currency="JPY",
                 close_date=today - timedelta(days=3)),
            Deal(account_id=world.yamada, source="crm", external_id="d2", name="Renewal 2027",
                 stage="contractsent", status="open", amount=2500050, currency="USD",
                 close_date=today + timedelta(days=40)),
            Invoice(account_id=world.yamada, source="billing", external_id="in_1",
                    number="INV-1", status="open", amount_due=33000, amount_paid=0,
                    currency="JPY", issued_on=today - timedelta(days=40),
                    due_date=today - timedelta(days=10), attempts=2),
            Invoice(account_id=world.yamada, source="billing", external_id="in_2",
                    number="INV-2", status="paid", amount_due=33000, amount_paid=33000,
                    currency="JPY", issued_on=today - timedelta(days=70),
                    paid_at=datetime.now(UTC) - timedelta(days=60)),
        ])  # fmt: skip
    return today


def test_deals_and_invoices_on_the_timeline(world: World) -> None:
    today = _add(world)
    with session_scope() as s:
        view = account360.account_360(s, world.yamada)
    items = {i.title: i for i in view.timeline if i.kind in ("deal", "invoice")}
    assert set(items) == {"Deal won: 追加ライセンス", "Deal open: Renewal 2027",
                          "Invoice INV-1 overdue", "Invoice INV-2 paid"}  # fmt: skip
    won = items["Deal won: 追加ライセンス"]
    assert (won.amount, won.currency, won.detail) == (1200000, "JPY", "closedwon")
    assert items["Deal open: Renewal 2027"].detail == (
        f"expected to close {(today + timedelta(days=40)).isoformat()}")  # fmt: skip
    overdue = items["Invoice INV-1 overdue"]
    assert (overdue.amount, overdue.detail) == (33000, "2 payment attempts")
    assert overdue.at.astimezone(get_settings().tz).date() == today - timedelta(days=10)


def test_the_page_and_the_json_show_them(client: TestClient, world: World, sign_in) -> None:  # type: ignore[no-untyped-def]
    _add(world)
    sign_in("viewer")
    page = client.get(f"/accounts/{world.yamada}", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    html = page.text
    assert 'Deal won: 追加ライセンス</strong> <span class="amount">¥1,200,000</span>' in html
    assert '<span class="amount">$25,000.50</span>' in html
    assert "Invoice INV-1 overdue" in html and "2 payment attempts" in html
    ja = client.get(f"/accounts/{world.yamada}", headers={"Accept-Language": "ja"}).text
    assert "受注: 追加ライセンス" in ja and "請求書 INV-1 支払期日超過" in ja
    body = client.get(f"/api/accounts/{world.yamada}", headers={"Accept-Language": "en"}).json()
    deals = [t for t in body["timeline"] if t["kind"] == "deal"]
    assert sorted((t["amount"], t["currency"]) for t in deals) == [
        (1200000, "JPY"), (2500050, "USD")]  # fmt: skip
