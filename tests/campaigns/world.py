"""A small hand-made world for campaign tests: four accounts, their contacts, segment members."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from tests.servers import free_port

from banso import schema
from banso.accounts.models import Account, Contact
from banso.db import session_scope
from banso.messaging.delivery import DeliverySettings
from banso.messaging.models import Suppression
from banso.segments.models import SegmentMembership

DAY = date(2025, 6, 2)
PASSWORD = "correct horse battery"


def build_world() -> None:
    """Accounts 1, 2, 3 are in ``smb`` from 2025-06-01, account 4 in ``enterprise``.

    - 1: Ann (English, ann@one.example) and Ben (Japanese, no email address).
    - 2: 佐藤 (Japanese, sato@two.example), who unsubscribed before.
    - 3: 鈴木 (Japanese, suzuki@three.example) and Carl, who left on 2025-05-31.
    - 4: Dora (dora@four.example), not in the segment.
    """
    schema.upgrade()
    with session_scope() as s:
        s.add_all(
            [
                Account(id=i, name=name, normalized_name=name.lower(), touch_model="tech")
                for i, name in ((1, "One"), (2, "Two"), (3, "Three"), (4, "Four"))
            ]
        )
        s.flush()
        s.add_all(
            [
                Contact(id=1, account_id=1, source="t", external_id="c1", name="Ann",
                        email="ann@one.example", language="en"),
                Contact(id=2, account_id=1, source="t", external_id="c2", name="Ben",
                        email=None, language="ja"),
                Contact(id=3, account_id=2, source="t", external_id="c3", name="佐藤",
                        email="sato@two.example", language="ja"),
                Contact(id=4, account_id=3, source="t", external_id="c4", name="鈴木",
                        email="Suzuki@three.example", language="ja"),
                Contact(id=5, account_id=3, source="t", external_id="c5", name="Carl",
                        email="carl@three.example", language="en",
                        left_at=datetime(2025, 5, 31, tzinfo=UTC)),
                Contact(id=6, account_id=4, source="t", external_id="c6", name="Dora",
                        email="dora@four.example", language="en"),
            ]
        )  # fmt: skip
        s.add(Suppression(email="sato@two.example", reason="unsubscribed", contact_id=3))
        s.add_all(
            [
                SegmentMembership(account_id=i, segment=seg, start_date=date(2025, 6, 1))
                for i, seg in ((1, "smb"), (2, "smb"), (3, "smb"), (4, "enterprise"))
            ]
        )


def mail_settings(smtp_port: int, public_url: str) -> DeliverySettings:
    return DeliverySettings(
        smtp_host="127.0.0.1", smtp_port=smtp_port, mail_from="cs@vendor.example",
        public_url=public_url, outbox_backoff_seconds=1.0, outbox_max_attempts=3,
    )  # fmt: skip


@dataclass
class RawMailbox:
    """Every message the SMTP server accepted, parsed whole (text and HTML parts)."""

    messages: list[EmailMessage] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    """Addresses refused with 550 (a hard bounce)."""

    async def handle_RCPT(self, server, session, envelope, address, options):  # type: ignore[no-untyped-def]
        if address in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 Message accepted"

    def to(self) -> list[str]:
        return sorted(str(m["To"]) for m in self.messages)


@contextmanager
def smtp_server() -> Iterator[tuple[RawMailbox, int]]:
    box = RawMailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def parts(message: EmailMessage) -> tuple[str, str]:
    """``(text, html)`` of a campaign email."""
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


def csrf_of(client: TestClient) -> str:
    page = client.get("/sign-in")
    marker = 'name="csrf_token" value="'
    start = page.text.index(marker) + len(marker)
    return page.text[start : page.text.index('"', start)]


def sign_in(client: TestClient, email: str) -> str:
    data = {"email": email, "password": PASSWORD, "csrf_token": csrf_of(client), "next": "/"}
    assert client.post("/sign-in", data=data, follow_redirects=False).status_code == 303
    return csrf_of(client)
