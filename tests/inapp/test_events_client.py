"""``banso.client.EventsClient`` against a real ``banso serve`` (batches, a 429 while another
writer holds the store, idempotent ids, a refusal naming the event) and against a tiny HTTP
receiver answering 503 first (back-off, the same ids on the retry)."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest
from tests.servers import BANSO, banso_serve, free_port

from banso.client import EventsClient, EventsNotSent, EventsRejected

pytestmark = pytest.mark.slow
TS = datetime(2026, 4, 1, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    """``banso serve`` over a fresh home with accounts ACC-0..ACC-4 of source ``product`` and an
    events token of that source: (base URL, token, home); one server for the module's tests."""
    tmp_path = tmp_path_factory.mktemp("client")
    home = tmp_path / "served-home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANSO_")}
    env |= {"BANSO_EVENTS_STORE_WAIT": "0.2", "BANSO_EVENTS_RATE_PER_MINUTE": "0"}

    def banso(*args: str) -> str:
        done = subprocess.run(
            [BANSO, "--home", str(home), *args], env=env, check=True, capture_output=True,
            text=True,
        )  # fmt: skip
        return done.stdout.strip()

    banso("init")
    accounts = tmp_path / "accounts.csv"
    accounts.write_text("account_id,name\n" + "".join(f"ACC-{i},Company {i}\n" for i in range(5)))
    banso("import", "accounts", str(accounts), "--source", "product")
    banso("users", "create", "ops@example.com", "--role", "ops", "--password", "ops-password-2026")
    token = banso(
        "users", "tokens", "create", "ops@example.com", "--name", "product", "--scope", "events",
        "--source", "product",
    )  # fmt: skip
    with banso_serve(home, env=env, cwd=tmp_path) as (base, _server):
        yield base, token, home


def _store(home: Path) -> tuple[int, int]:
    """(events, distinct event ids) in the store."""
    files = [str(p) for p in (home / "events").glob("date=*/part-*.parquet")]
    if not files:
        return 0, 0
    sql = "SELECT count(*), count(DISTINCT event_id) FROM read_parquet($f)"
    return duckdb.connect().execute(sql, {"f": files}).fetchall()[0]  # type: ignore[return-value]


def test_batches_through_a_busy_store_arrive_once(served: tuple[str, str, Path]) -> None:
    base, token, home = served
    lock = home / "events" / ".lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    held = open(lock, "a+b")  # noqa: SIM115 - released by the thread below
    fcntl.flock(held, fcntl.LOCK_EX)  # an import holds the store ...
    with EventsClient(base, token, batch_size=1_000, flush_interval=0) as client:

        def release_once_throttled() -> None:  # ... until the client has been told 429
            deadline = time.monotonic() + 60
            while client.stats.throttled == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            fcntl.flock(held, fcntl.LOCK_UN)
            held.close()

        release = threading.Thread(target=release_once_throttled)
        release.start()
        ids = [
            client.track("login", account=f"ACC-{i % 5}", user=f"u-{i}", ts=TS)
            for i in range(2_500)
        ]
        client.flush()
        assert client.stats.throttled >= 1  # answered 429 while the store was held
        assert client.stats.waited >= 1.0  # Retry-After: 1 each time
        assert (client.stats.batches, client.stats.events, client.stats.stored) == (3, 2500, 2500)
        # the same events again (a producer replaying after a crash): nothing new is stored
        again = [
            {"event_id": i, "event": "login", "account": "ACC-0", "ts": TS.isoformat()}
            for i in ids[:1_000]
        ]
        assert client.send_batch(again) == 0
    release.join()
    assert len(set(ids)) == 2_500
    assert _store(home) == (2_500, 2_500)


def test_time_based_batches_and_a_refusal_naming_the_event(
    served: tuple[str, str, Path],
) -> None:
    base, token, home = served
    before, _distinct = _store(home)
    client = EventsClient(base, token, batch_size=100, flush_interval=0.2)
    client.track("login", account="ACC-1", ts=TS)
    client.track("login", account="ACC-2", ts=TS)
    deadline = time.monotonic() + 10
    while client.stats.stored < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.stats.stored == 2  # sent by the timer, no flush called
    client.track("login", account="ACC-9", ts=TS)
    with pytest.raises(EventsRejected) as refused:
        client.flush()
    assert refused.value.status == 422
    assert refused.value.problems == [
        {"field": "events[0].account", "reason": "No account has the id ACC-9 in source product."}
    ]
    client.close()
    assert _store(home) == (before + 2, before + 2)


class _FlakyReceiver(BaseHTTPRequestHandler):
    """Answers 503 to the first two posts, then 200; keeps every body it received."""

    bodies: list[dict[str, object]] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server hook's name
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        type(self).bodies.append(body)
        failing = len(type(self).bodies) <= 2
        payload = b"{}" if failing else json.dumps({"received": 1, "stored": 1}).encode()
        self.send_response(503 if failing else 200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        return


def test_server_errors_are_retried_with_back_off_and_the_same_ids() -> None:
    _FlakyReceiver.bodies = []
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _FlakyReceiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    pauses: list[float] = []
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        client = EventsClient(base, "t", flush_interval=0, backoff=1.0, sleep=pauses.append)
        event_id = client.track("login", account="A", ts=TS)
        client.flush()
    finally:
        server.shutdown()
    assert [b["events"][0]["event_id"] for b in _FlakyReceiver.bodies] == [event_id] * 3  # type: ignore[index]
    assert len(pauses) == 2 and 0.5 <= pauses[0] <= 1.0 and 1.0 <= pauses[1] <= 2.0
    assert client.stats.retries == 2 and client.stats.stored == 1


def test_nobody_listening_gives_up_after_the_attempts() -> None:
    pauses: list[float] = []
    client = EventsClient(
        f"http://127.0.0.1:{free_port()}", "t", flush_interval=0, max_attempts=3,
        sleep=pauses.append,
    )  # fmt: skip
    client.track("login", account="A", ts=TS)
    with pytest.raises(EventsNotSent, match="1 events not sent after 3 attempts"):
        client.flush()
    assert len(pauses) == 2
