"""Stripe invoices against the replay server in the published shapes: the list paged by
``starting_after`` with a 500 and a 429, then only the ``invoice.*`` events since the cursor;
drafts skipped; a payment arriving later updates the invoice, no duplicate; a malformed invoice
rejects its batch and keeps the cursor."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from tests.connectors.replay import World, serve

from banso import db
from banso.accounts.models import AccountIdentity
from banso.connectors.models import SyncCursor
from banso.invoices.models import Invoice


def _ts(day: date, hour: int = 12) -> int:
    """``hour`` UTC of ``day`` (noon UTC is 21:00 the same day in Tokyo)."""
    return int(datetime(day.year, day.month, day.day, hour, tzinfo=UTC).timestamp())


def _invoice(iid: str, customer: str, status: str, due: int, paid: int, created: date, *,
             currency: str = "jpy", due_date: date | None = None, attempts: int = 0,
             paid_at: int | None = None) -> dict:  # fmt: skip
    return {"id": f"in_{iid}", "object": "invoice", "customer": customer, "status": status,
            "number": f"ABC-{iid}", "currency": currency, "amount_due": due, "amount_paid": paid,
            "amount_remaining": due - paid, "created": _ts(created),
            "due_date": _ts(due_date) if due_date else None, "attempt_count": attempts,
            "attempted": attempts > 0, "collection_method": "send_invoice",
            "status_transitions": {"finalized_at": _ts(created), "paid_at": paid_at,
                                   "marked_uncollectible_at": None, "voided_at": None},
            "lines": {"object": "list", "data": [], "has_more": False}}  # fmt: skip


def _world() -> World:
    w = World()
    w.stripe_customers = [
        {"id": "cus_A", "object": "customer", "name": "Alpha株式会社", "email": "ap@alpha.example"},
    ]  # fmt: skip
    w.stripe_invoices = [
        _invoice("1", "cus_A", "paid", 33000, 33000, date(2026, 10, 1),
                 due_date=date(2026, 10, 31), attempts=1, paid_at=_ts(date(2026, 10, 20))),
        _invoice("2", "cus_A", "open", 33000, 0, date(2026, 11, 1),
                 due_date=date(2026, 11, 30), attempts=2),
        _invoice("3", "cus_A", "draft", 33000, 0, date(2026, 12, 1)),
        _invoice("4", "cus_A", "void", 1000, 0, date(2026, 9, 1)),
        _invoice("5", "cus_A", "paid", 1999, 1999, date(2026, 11, 3), currency="usd",
                 paid_at=_ts(date(2026, 11, 3))),
    ]  # fmt: skip
    w.stripe_event("invoice.finalized", w.stripe_invoices[1], _ts(date(2026, 11, 25)))
    return w


def _invoices() -> dict[str, tuple]:
    with db.session_scope() as session:
        rows = session.execute(
            select(Invoice.external_id, AccountIdentity.external_id, Invoice.number,
                   Invoice.status, Invoice.amount_due, Invoice.amount_paid, Invoice.currency,
                   Invoice.issued_on, Invoice.due_date, Invoice.attempts,
                   Invoice.paid_at.is_not(None))
            .join(AccountIdentity, (AccountIdentity.account_id == Invoice.account_id)
                  & (AccountIdentity.source == Invoice.source))
        ).all()  # fmt: skip
    return {r[0]: tuple(r[1:]) for r in rows}


def _count() -> int:
    with db.session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(Invoice)) or 0)


def test_invoices_load_then_only_changes(cli, monkeypatch) -> None:
    monkeypatch.setenv("STRIPE_KEY", "sk_test_x")
    world = _world()
    world.faults["/v1/invoices"] += [(500, {}), (429, {"Retry-After": "0"})]
    cli("init")
    with serve(world) as base:
        cli("connect", "add", "stripe", "--kind", "stripe", "--base-url", base, "--secret-env",
            "STRIPE_KEY")  # fmt: skip
        first = cli("connect", "sync", "stripe", "--format", "json")
        assert first.exit_code == 0, first.stderr
        invoices = {r["object"]: r for r in json.loads(first.stdout)}["invoices"]
        assert (invoices["records_in"], invoices["inserted"], invoices["skipped"]) == (5, 4, 1)
        assert _invoices() == {
            "in_1": ("cus_A", "ABC-1", "paid", 33000, 33000, "JPY", date(2026, 10, 1),
                     date(2026, 10, 31), 1, True),
            "in_2": ("cus_A", "ABC-2", "open", 33000, 0, "JPY", date(2026, 11, 1),
                     date(2026, 11, 30), 2, False),
            "in_4": ("cus_A", "ABC-4", "void", 1000, 0, "JPY", date(2026, 9, 1), None, 0, False),
            "in_5": ("cus_A", "ABC-5", "paid", 1999, 1999, "USD", date(2026, 11, 3), None, 0,
                     True),
        }  # fmt: skip
        listed = [q for _m, p, q, _b in world.requests if p == "/v1/invoices"]
        assert len(listed) == 5  # the 500, the 429, then three pages of two
        assert listed[-1]["starting_after"] == ["in_4"]
        with db.session_scope() as session:
            cursor = session.scalar(
                select(SyncCursor.cursor).where(SyncCursor.object == "invoices")
            )
        assert cursor == str(_ts(date(2026, 11, 25)))

        # the open invoice is paid, a new one is finalized: only the events are read
        paid = _invoice("2", "cus_A", "paid", 33000, 33000, date(2026, 11, 1),
                        due_date=date(2026, 11, 30), attempts=3,
                        paid_at=_ts(date(2026, 11, 26)))  # fmt: skip
        new = _invoice("6", "cus_A", "open", 33000, 0, date(2026, 11, 26),
                       due_date=date(2026, 12, 26))  # fmt: skip
        failed = {**paid, "status": "open", "amount_paid": 0}
        world.stripe_event("invoice.payment_failed", failed, _ts(date(2026, 11, 26), 1))
        world.stripe_event("invoice.paid", paid, _ts(date(2026, 11, 26), 2))
        world.stripe_event("invoice.finalized", new, _ts(date(2026, 11, 26), 3))
        world.stripe_event("invoiceitem.created", {"id": "ii_1", "object": "invoiceitem"},
                           _ts(date(2026, 11, 26), 4))  # fmt: skip
        world.requests.clear()
        second = cli("connect", "sync", "stripe", "--object", "invoices", "--format", "json")
        assert second.exit_code == 0, second.stderr
        [result] = json.loads(second.stdout)
        assert (result["records_in"], result["inserted"], result["updated"]) == (2, 1, 1)
        assert {p for _m, p, _q, _b in world.requests} == {"/v1/events"}
        got = _invoices()
        assert got["in_2"][2:4] == ("paid", 33000) and got["in_2"][-2:] == (3, True)  # newest
        assert got["in_6"][2] == "open" and _count() == 5
        again = cli("connect", "sync", "stripe", "--object", "invoices", "--format", "json")
        [result] = json.loads(again.stdout)
        assert (result["records_in"], result["inserted"], result["updated"]) == (0, 0, 0)
        assert _count() == 5


def test_a_malformed_invoice_rejects_its_batch_and_keeps_the_cursor(cli, monkeypatch) -> None:
    monkeypatch.setenv("STRIPE_KEY", "sk_test_x")
    world = _world()
    cli("init")
    with serve(world) as base:
        cli("connect", "add", "stripe", "--kind", "stripe", "--base-url", base, "--secret-env",
            "STRIPE_KEY")  # fmt: skip
        assert cli("connect", "sync", "stripe").exit_code == 0
        with db.session_scope() as session:
            before = session.scalar(
                select(SyncCursor.cursor).where(SyncCursor.object == "invoices")
            )
        good = _invoice("7", "cus_A", "open", 5000, 0, date(2026, 11, 27))
        odd = _invoice("8", "cus_A", "refunded", 5000, 0, date(2026, 11, 27))
        world.stripe_event("invoice.finalized", good, _ts(date(2026, 11, 27)))
        world.stripe_event("invoice.updated", odd, _ts(date(2026, 11, 27)) + 1)
        bad = cli("connect", "sync", "stripe", "--object", "invoices")
        assert bad.exit_code == 1
        assert "stripe:invoices:in_8: status: unknown invoice status 'refunded'" in bad.stderr
        # a due date before the day it was issued is the importer's row check, named
        world.stripe_event("invoice.updated", {**odd, "status": "open",
                                               "due_date": _ts(date(2026, 11, 1))},
                           _ts(date(2026, 11, 27)) + 2)  # fmt: skip
        worse = cli("connect", "sync", "stripe", "--object", "invoices")
        assert worse.exit_code == 1
        assert "stripe:invoices:in_8: due_date: due_date is before issued_on" in worse.stderr
        assert "Traceback" not in bad.stderr + worse.stderr
        assert _count() == 4  # not even the good one of the batch
        with db.session_scope() as session:
            after = session.scalar(select(SyncCursor.cursor).where(SyncCursor.object == "invoices"))
        assert after == before
