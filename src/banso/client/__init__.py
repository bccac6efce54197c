"""A small client for Banso's events API, for the product's servers (Python standard library only).

    from banso.client import EventsClient

    with EventsClient("https://banso.example.jp", token) as banso:   # token: --source product
        banso.track("report_exported", account="ACME-001", user="u-42", properties={"rows": 10})

Events are queued and sent in batches (``batch_size`` events, or every ``flush_interval``
seconds from a background thread); each event gets its id here (``uuid4``), so a batch sent
again after a timeout is stored once (the store keeps one event per id). A 429 waits the
``Retry-After`` it names; a 5xx, a timeout or a dropped connection is retried with exponential
back-off and jitter; a 4xx refusal raises ``EventsRejected`` with the problems the API listed
(``events[3].account: reason``). ``flush()`` sends everything queued; ``close()`` flushes and
stops the thread. Nothing here imports Banso's server code.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

__all__ = ["EventsClient", "EventsNotSent", "EventsRejected", "SendStats"]

EVENTS_PATH = "/api/events"


class EventsRejected(Exception):
    """The API refused a batch (a 4xx other than 429): nothing of it was stored."""

    def __init__(self, status: int, detail: str, problems: list[dict[str, str]]) -> None:
        lines = [f"{p.get('field')}: {p.get('reason')}" for p in problems]
        super().__init__(f"{status} {detail}" + "".join(f"\n  {line}" for line in lines))
        self.status, self.detail, self.problems = status, detail, problems


class EventsNotSent(Exception):
    """A batch could not be delivered after every retry (server errors, timeouts, 429s)."""


@dataclass
class SendStats:
    batches: int = 0
    events: int = 0
    stored: int = 0
    """Events the server stored as new (a batch sent again after a lost answer stores 0)."""
    retries: int = 0
    throttled: int = 0
    """429 answers waited out."""
    waited: float = 0.0
    errors: list[str] = field(default_factory=list)


class EventsClient:
    """Batches usage events to ``POST /api/events`` with retries; thread-safe."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        batch_size: int = 1_000,
        flush_interval: float = 2.0,
        timeout: float = 30.0,
        max_attempts: int = 8,
        backoff: float = 0.25,
        max_backoff: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not 1 <= batch_size <= 10_000:
            raise ValueError("batch_size must be 1 to 10,000 (the API's limit per request)")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self._scheme, self._host, self._port = parts.scheme, parts.hostname, parts.port
        self._prefix = parts.path.rstrip("/")
        self._token = token
        self.batch_size = batch_size
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff, self.max_backoff = backoff, max_backoff
        self._sleep = sleep
        self.stats = SendStats()
        self._queue: list[dict[str, Any]] = []
        self._queue_lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._connection: http.client.HTTPConnection | None = None
        self._failure: BaseException | None = None
        self._closed = threading.Event()
        self._timer: threading.Thread | None = None
        if flush_interval > 0:
            self._timer = threading.Thread(
                target=self._flush_every, args=(flush_interval,), daemon=True, name="banso-flush"
            )
            self._timer.start()

    # ------------------------------------------------------------ public

    def track(
        self,
        event: str,
        *,
        account: str | None = None,
        account_id: int | None = None,
        user: str | None = None,
        ts: datetime | None = None,
        properties: dict[str, Any] | None = None,
        event_id: str | None = None,
    ) -> str:
        """Queue one event (``account``: the product's id; or ``account_id``: Banso's); returns
        its id. Sends a batch when ``batch_size`` events are queued."""
        self._raise_failure()
        if (account is None) == (account_id is None):
            raise ValueError("give account (the product's id) or account_id (Banso's), not both")
        moment = ts or datetime.now(UTC)
        if moment.tzinfo is None:
            raise ValueError("ts needs a time zone")
        item: dict[str, Any] = {
            "event_id": event_id or uuid.uuid4().hex,
            "event": event,
            "ts": moment.isoformat(),
            "user_id": user,
            "properties": properties,
        }
        if account is not None:
            item["account"] = account
        else:
            item["account_id"] = account_id
        with self._queue_lock:
            self._queue.append(item)
            full = len(self._queue) >= self.batch_size
        if full:
            self._send_queued(whole_batches_only=True)
        return str(item["event_id"])

    def flush(self) -> None:
        """Send every queued event now; raises what a background send met, if anything."""
        self._send_queued(whole_batches_only=False)
        self._raise_failure()

    def send_batch(self, events: Iterable[dict[str, Any]]) -> int:
        """Send prepared events (API field names, ``event_id`` set) as one request; returns
        how many the server stored as new."""
        with self._send_lock:
            return self._post(list(events))

    def close(self) -> None:
        """Flush, stop the background thread and close the connection."""
        self._closed.set()
        if self._timer is not None:
            self._timer.join(timeout=self.timeout)
        try:
            self.flush()
        finally:
            with self._send_lock:
                if self._connection is not None:
                    self._connection.close()
                    self._connection = None

    def __enter__(self) -> EventsClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------ sending

    def _flush_every(self, interval: float) -> None:
        while not self._closed.wait(interval):
            try:
                self._send_queued(whole_batches_only=False)
            except (EventsRejected, EventsNotSent) as error:
                self._failure = error  # raised to the caller at its next track/flush

    def _send_queued(self, *, whole_batches_only: bool) -> None:
        with self._send_lock:
            while True:
                with self._queue_lock:
                    if not self._queue or (
                        whole_batches_only and len(self._queue) < self.batch_size
                    ):
                        return
                    batch = self._queue[: self.batch_size]
                    del self._queue[: self.batch_size]
                self._post(batch)

    def _post(self, batch: list[dict[str, Any]]) -> int:
        """One batch, retried until stored or refused; the same ids every attempt."""
        body = json.dumps({"events": batch}, ensure_ascii=False, separators=(",", ":")).encode()
        failures = 0
        while True:
            try:
                status, headers, payload = self._request(body)
            except (OSError, http.client.HTTPException) as error:  # timeouts included
                self._drop_connection()
                failures += 1
                self._retry_or_give_up(failures, f"{type(error).__name__}: {error}", len(batch))
                continue
            if status == 200:
                stored = int(json.loads(payload)["stored"])
                self.stats.batches += 1
                self.stats.events += len(batch)
                self.stats.stored += stored
                return stored
            if status == 429:
                wait = _retry_after(headers.get("retry-after"), self.max_backoff)
                self.stats.throttled += 1
                self.stats.waited += wait
                failures += 1
                if failures >= self.max_attempts * 4:  # 429s are expected; allow more of them
                    raise EventsNotSent(f"still throttled after {failures} attempts")
                self._sleep(wait)
                continue
            if status >= 500:
                failures += 1
                self._retry_or_give_up(failures, f"HTTP {status}", len(batch))
                continue
            problem = _json_or_empty(payload)
            raise EventsRejected(
                status, str(problem.get("detail") or problem.get("title") or ""),
                list(problem.get("errors") or []),
            )  # fmt: skip

    def _retry_or_give_up(self, failures: int, reason: str, size: int) -> None:
        self.stats.errors.append(reason)
        if failures >= self.max_attempts:
            raise EventsNotSent(f"{size} events not sent after {failures} attempts: {reason}")
        self.stats.retries += 1
        delay = min(self.max_backoff, self.backoff * 2 ** (failures - 1))
        self._sleep(delay * (0.5 + random.random() / 2))  # jitter, not a secret

    def _request(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        connection = self._connection or self._connect()
        connection.request(
            "POST",
            self._prefix + EVENTS_PATH,
            body=body,
            headers={
                "Authorization": f"Bearer {self._token}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
        )
        response = connection.getresponse()
        payload = response.read()
        headers = {k.lower(): v for k, v in response.getheaders()}
        if headers.get("connection", "").lower() == "close":
            self._drop_connection()
        return response.status, headers, payload

    def _connect(self) -> http.client.HTTPConnection:
        kind = (
            http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
        )
        self._connection = kind(self._host, self._port, timeout=self.timeout)
        self._connection.connect()
        self._connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self._connection

    def _drop_connection(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _raise_failure(self) -> None:
        failure, self._failure = self._failure, None
        if failure is not None:
            raise failure


def _retry_after(value: str | None, cap: float) -> float:
    """Seconds from a ``Retry-After`` header (delta seconds; a date or nothing: 1 s)."""
    try:
        return min(cap, max(0.0, float(value))) if value else 1.0
    except ValueError:
        return 1.0


def _json_or_empty(payload: bytes) -> dict[str, Any]:
    try:
        found = json.loads(payload)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
