"""The default sales-handoff playbook: on the day a new customer's first paid line starts
(Beta合同会社, 2 June 2025, owned by Ken Ito) it opens one handoff CTA for the owner carrying the
handoff sales recorded; a rerun, a later day and Alpha (a customer since January) open none."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.playbooks.world import build_world

from banso.db import session_scope, utcnow
from banso.playbooks import ctas, service
from banso.playbooks.models import Cta, CtaTask
from banso.server.app import create_app
from banso.success import handoff
from banso.users.models import User
from banso.users.tokens import create_token


def test_a_new_customer_gets_one_handoff_cta_with_what_sales_knew() -> None:
    build_world()
    with session_scope() as s:
        handoff.set_handoff(
            s, 2, deal_notes="Budget from the CFO; pilot in the Osaka office first",
            stakeholders="CFO 鈴木 (sponsor), 経理 高橋 (champion)",
            promised_outcome="Month-end close in 3 days instead of 8",
        )  # fmt: skip
    for day in (date(2025, 6, 2), date(2025, 6, 2), date(2025, 6, 3)):
        with session_scope() as s:
            service.run_playbooks(s, day, ["sales-handoff"])
    with session_scope() as s:
        [cta] = s.scalars(select(Cta).where(Cta.playbook == "sales-handoff")).all()
        assert (cta.account_id, cta.owner_id, cta.reason, cta.priority, cta.trigger_count) == (
            2,
            2,
            "handoff",
            "high",
            1,
        )
        assert cta.note == (
            "Promised outcome: Month-end close in 3 days instead of 8\n"
            "Stakeholders: CFO 鈴木 (sponsor), 経理 高橋 (champion)\n"
            "Deal notes: Budget from the CFO; pilot in the Osaka office first"
        )
        # 2 June 2025 is a Monday: due in 5 business days is Monday 9 June
        assert cta.due_date == date(2025, 6, 9)
        assert len(s.scalars(select(CtaTask).where(CtaTask.cta_id == cta.id)).all()) == 3
        [row] = ctas.open_ctas(s, account_id=2)
        assert row.note == cta.note


def test_without_a_handoff_the_cta_says_to_ask_sales() -> None:
    build_world()
    with session_scope() as s:
        service.run_playbooks(s, date(2025, 6, 2), ["sales-handoff"])
    with session_scope() as s:
        [cta] = s.scalars(select(Cta)).all()
        assert cta.note == (
            "Sales recorded no handoff for this account yet; ask the account executive."
        )


def test_the_api_gives_the_handoff_cta_its_note() -> None:
    build_world()
    with session_scope() as s:
        handoff.set_handoff(s, 2, promised_outcome="Month-end close in 3 days instead of 8")
        service.run_playbooks(s, date(2025, 6, 2), ["sales-handoff"])
        s.add(User(email="ops@vendor.example", name="Ops", role="ops", password_hash="x"))
        s.flush()
        _row, token = create_token(s, "ops@vendor.example", "t", ["read"],
                                   utcnow() + timedelta(days=1))  # fmt: skip
    with TestClient(create_app()) as client:
        found = client.get("/api/ctas?account_id=2",
                           headers={"Authorization": f"Bearer {token}"}).json()  # fmt: skip
    [cta] = found["items"]
    assert cta["note"] == "Promised outcome: Month-end close in 3 days instead of 8"
