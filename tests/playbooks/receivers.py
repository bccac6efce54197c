"""Real peers for delivery tests: an SMTP server (aiosmtpd) and an HTTP receiver, on loopback."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


@dataclass
class Mailbox:
    messages: list[dict[str, str]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    """Addresses the server refuses with 550 (a hard bounce)."""

    async def handle_RCPT(self, server, session, envelope, address, options):  # type: ignore[no-untyped-def]
        if address in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        msg = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(
            {
                "to": ",".join(envelope.rcpt_tos),
                "message_id": msg["Message-ID"],
                "subject": str(msg["Subject"]),
                "list_unsubscribe": msg["List-Unsubscribe"] or "",
                "body": msg.get_content(),
            }
        )
        return "250 Message accepted"

    def unique_ids(self) -> set[str]:
        return {m["message_id"] for m in self.messages}


@contextmanager
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    with socket.socket() as probe:  # a free port (aiosmtpd's start-up check cannot use 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@dataclass
class HttpLog:
    requests: list[dict[str, object]] = field(default_factory=list)
    fail_first: int = 0
    """Answer 503 to this many requests before accepting."""
    status: int = 200


@contextmanager
def http_receiver(log: HttpLog) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            log.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            if log.fail_first > 0:
                log.fail_first -= 1
                self.send_response(503)
            else:
                self.send_response(log.status)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
