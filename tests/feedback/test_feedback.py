"""Feature requests on the hand-made world of ``world.py``: asks from the CLI, a survey comment
and tickets, a merged duplicate, the ranking by MRR and at-risk MRR asking, the shipped email
through a real SMTP server, the CSV export and bad input.

Worked by hand:
- R1 "SAML SSO": Alpha asks from the CLI and again from its survey comment (Aiko both times),
  Beta by hand (Beth).
- R2 "Single sign-on (SAML)" (a duplicate): Beta's ticket T-5 (Beth), Gamma by hand (Goro).
  Merged into R1 → R1 has 5 asks from Alpha, Beta, Gamma (each once): MRR asking
  100,000 + 30,000 + 20,000 = 150,000; at risk (red Beta, yellow Gamma) 30,000 + 20,000 = 50,000;
  contacts Aiko, Beth, Goro = 3.
- R3 "Slack integration": made by the ticket import from T-6 (Delta, subject in other case and
  spacing) and T-9 (Epsilon, gone: MRR 0) → MRR 5,000, at risk 0.
- R4 "Dark mode": Beta → MRR 30,000, at risk 30,000.
By MRR: R1 150,000, R4 30,000, R3 5,000. By at-risk MRR: R1 50,000, R4 30,000, R3 0.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import select
from tests.feedback.world import build_world
from tests.playbooks.receivers import smtp_server
from tests.playbooks.test_delivery import settings

from banso.audit.models import AuditEntry
from banso.db import session_scope
from banso.feedback import service
from banso.feedback.models import FeedbackAsk, FeedbackRequest
from banso.messaging import outbox
from banso.messaging.models import OutboxMessage, Suppression


def build_requests(cli) -> None:  # type: ignore[no-untyped-def]
    build_world()
    for title in ("SAML SSO", "Single sign-on (SAML)", "Dark mode"):
        r = cli("feedback", "add", title, "--product-area", "security")
        assert r.exit_code == 0, r.stderr
    assert cli("feedback", "ask", "1", "1", "--contact", "11").exit_code == 0
    r = cli("feedback", "from-survey", "7", "1")
    assert (r.exit_code, r.stdout.strip()) == (0, "Ask recorded on request 1."), r.stderr
    assert cli("feedback", "ask", "1", "2", "--contact", "21").exit_code == 0
    r = cli("feedback", "ask", "2", "3", "--contact", "31", "--note", "SSO please")
    assert r.exit_code == 0, r.stderr
    assert cli("feedback", "ask", "3", "2").exit_code == 0
    r = cli("feedback", "import-tickets")
    assert r.exit_code == 0, r.stderr
    # T-5 matches R2 by title; T-6 and T-9 share a new request; T-11 has no subject
    assert "2 asks from tickets" not in r.stdout
    assert r.stdout.splitlines()[0] == "3 asks from tickets, 1 new requests, 0 already linked."
    assert "T-11" in r.stdout
    r = cli("feedback", "merge", "2", "1")
    assert (r.exit_code, r.stdout.strip()) == (0, "Request 2 merged into request 1."), r.stderr


def test_ranking_by_mrr_and_at_risk_mrr_with_a_merged_duplicate(any_db: str, cli) -> None:  # type: ignore[no-untyped-def]
    build_requests(cli)
    rows = json.loads(cli("feedback", "list", "--format", "json").stdout)
    assert [(r["id"], r["title"], r["asks"], r["accounts"], r["contacts"], r["mrr"],
             r["at_risk_accounts"], r["at_risk_mrr"]) for r in rows] == [
        (1, "SAML SSO", 5, 3, 3, 150_000, 2, 50_000),
        (3, "Dark mode", 1, 1, 0, 30_000, 1, 30_000),
        (4, "slack INTEGRATION", 2, 2, 1, 5_000, 0, 0),
    ]  # fmt: skip
    at_risk = json.loads(cli("feedback", "list", "--rank-by", "at_risk_mrr", "--format",
                             "json").stdout)  # fmt: skip
    assert [(r["id"], r["at_risk_mrr"]) for r in at_risk] == [(1, 50_000), (3, 30_000), (4, 0)]
    with session_scope() as s:
        merged = s.get(FeedbackRequest, 2)
        assert merged is not None and merged.merged_into_id == 1
        assert s.scalars(select(FeedbackAsk).where(FeedbackAsk.request_id == 2)).all() == []
        actions = s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert actions.count("feedback.merge") == 1 and actions.count("feedback.ask") == 8
    # the import is idempotent: nothing new the second time
    r = cli("feedback", "import-tickets")
    assert r.stdout.splitlines()[0] == "0 asks from tickets, 0 new requests, 3 already linked."


def test_csv_export_for_the_product_team(cli) -> None:  # type: ignore[no-untyped-def]
    build_requests(cli)
    r = cli("feedback", "export", "--format", "csv")
    assert r.exit_code == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [(x["id"], x["title"], x["status"], x["product_area"], x["accounts"], x["mrr"],
             x["at_risk_mrr"]) for x in rows] == [
        ("1", "SAML SSO", "under_review", "security", "3", "150000", "50000"),
        ("3", "Dark mode", "under_review", "security", "1", "30000", "30000"),
        ("4", "slack INTEGRATION", "under_review", "", "2", "5000", "0"),
    ]  # fmt: skip
    assert cli("feedback", "export", "--format", "xlsx").exit_code == 2


def test_shipped_email_goes_once_to_each_contact_who_asked_in_their_language(
    cli, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("BANSO_PUBLIC_URL", "https://banso.vendor.example")
    build_requests(cli)
    with session_scope() as s:  # Goro unsubscribed earlier: his email is not sent
        s.add(Suppression(email="goro@gamma.example", reason="unsubscribed"))
    assert cli("feedback", "status", "1", "planned").stdout.strip() == (
        "Request 1 is now Planned; 0 emails queued."
    )
    r = cli("feedback", "status", "1", "shipped")
    assert r.stdout.strip() == "Request 1 is now Shipped; 3 emails queued.", r.stderr
    # shipping again (back to planned and shipped once more) tells nobody twice
    assert cli("feedback", "status", "1", "planned").exit_code == 0
    r = cli("feedback", "status", "1", "shipped")
    assert r.stdout.strip() == "Request 1 is now Shipped; 0 emails queued."
    with smtp_server() as (box, port):
        first = outbox.deliver(settings=settings(port))
        second = outbox.deliver(settings=settings(port))
    assert (first.sent, first.suppressed, second.sent) == (2, 1, 0)
    mails = {m["to"]: m for m in box.messages}
    assert sorted(mails) == ["aiko@alpha.example", "beth@beta.example"]
    assert mails["beth@beta.example"]["subject"] == (
        "You asked for it: “SAML SSO” is now available"
    )
    assert "Dear Beth," in mails["beth@beta.example"]["body"]
    assert mails["aiko@alpha.example"]["subject"] == "ご要望の「SAML SSO」をリリースしました"
    assert "Aiko 様" in mails["aiko@alpha.example"]["body"]
    link = mails["aiko@alpha.example"]["list_unsubscribe"].strip("<>")
    assert link.startswith("https://banso.vendor.example/unsubscribe/")
    with session_scope() as s:
        assert sorted(s.scalars(select(OutboxMessage.idempotency_key))) == [
            "feedback-shipped/1/11", "feedback-shipped/1/21", "feedback-shipped/1/31",
        ]  # fmt: skip


def test_bad_input_gets_a_clear_message_and_changes_nothing(cli) -> None:  # type: ignore[no-untyped-def]
    build_requests(cli)
    cases = [
        (("feedback", "add", "   "), "The title must not be empty."),
        (("feedback", "add", "X", "--category", "wish"),
         "Unknown category wish; choose one of feature_request, improvement, bug, integration,"
         " other."),
        (("feedback", "ask", "1", "99"), "No account with id 99."),
        (("feedback", "ask", "1", "1", "--contact", "21"),
         "Contact 21 is not a contact of account 1."),
        (("feedback", "ask", "2", "1"), "Request 2 was merged into request 1; use that one."),
        (("feedback", "ask", "42", "1"), "No feedback request with id 42."),
        (("feedback", "from-survey", "8", "1"),
         "Survey response 8 has no comment to turn into an ask."),
        (("feedback", "from-survey", "7", "1"),
         "Survey response 7 is already an ask on request 1."),
        (("feedback", "merge", "1", "1"), "A request cannot be merged into itself."),
        (("feedback", "status", "1", "done"),
         "Unknown status done; choose one of under_review, planned, shipped, declined."),
        (("feedback", "list", "--rank-by", "asks"),
         "Unknown rank_by asks; choose one of mrr, at_risk_mrr."),
    ]  # fmt: skip
    with session_scope() as s:
        before = (s.query(FeedbackAsk).count(), s.query(FeedbackRequest).count())
    for args, message in cases:
        r = cli(*args)
        assert r.exit_code == 2, (args, r.stdout, r.stderr)
        assert message in " ".join(r.stderr.split()), (args, r.stderr)
        assert "Traceback" not in r.stderr
    with session_scope() as s:
        assert (s.query(FeedbackAsk).count(), s.query(FeedbackRequest).count()) == before


def test_ranking_counts_an_account_asking_twice_once(cli) -> None:  # type: ignore[no-untyped-def]
    build_world()
    with session_scope() as s:
        request = service.add(s, "Audit log export")
        for _ in range(3):
            service.ask(s, request.id, 2, contact_id=21)
        [row] = service.ranking(s)
    assert (row["asks"], row["accounts"], row["contacts"], row["mrr"], row["at_risk_mrr"]) == (
        3, 1, 1, 30_000, 30_000)  # fmt: skip


def test_an_account_merge_moves_asks_and_advocacy_and_the_ranking_counts_it_once(
    cli,  # type: ignore[no-untyped-def]
) -> None:
    from datetime import date

    from banso.feedback import advocacy
    from banso.feedback.models import AdvocacyItem
    from banso.flows.merge import merge_accounts

    build_world()
    with session_scope() as s:
        request = service.add(s, "Audit log export")
        service.ask(s, request.id, 2, contact_id=21)
        service.ask(s, request.id, 3, contact_id=31)
        advocacy.add(s, 3, "review", date(2025, 11, 1))
    with session_scope() as s:  # Gamma (20,000) turns out to be Beta (30,000): one account
        merge_accounts(s, 2, 3)
    with session_scope() as s:
        [row] = service.ranking(s)
        assert (row["asks"], row["accounts"], row["contacts"], row["mrr"]) == (2, 1, 2, 50_000)
        assert s.scalars(select(AdvocacyItem.account_id)).all() == [2]


def test_the_daily_run_turns_feature_request_tickets_into_asks(cli) -> None:  # type: ignore[no-untyped-def]
    build_world()
    run = cli("run", "--as-of", "2025-11-05", "--no-send")
    assert run.exit_code == 0, run.stderr
    assert "Feature requests: 3 asks from tickets." in run.stdout
    with session_scope() as s:
        assert sorted(s.scalars(select(FeedbackAsk.ticket_id))) == [5, 6, 9]
    again = cli("run", "--as-of", "2025-11-05", "--no-send")
    assert again.exit_code == 0 and "asks from tickets" not in again.stdout
