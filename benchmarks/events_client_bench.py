"""1,000,000 usage events through ``POST /api/events`` with ``banso.client``, on loopback.

Sets up a fresh data directory (``banso init``; 1,000 accounts of identity source ``product``;
an ops user and an events token of that source), starts ``banso serve --workers 2``, and sends
the events from ``--senders`` threads, each with its own ``EventsClient`` (own connection), in
batches of ``--batch`` events named by the product's account ids (``ACC-0``..``ACC-999``), with
ids made by the client (uuid4) and times spread over the last 7 days. Then counts the events and
distinct ids in the store (DuckDB over the Parquet files): none lost, none duplicated. Also
prints the CPU seconds the server's processes and the sending process used while sending (from
``/proc``): on a machine shared with other jobs the wall time follows the load, the CPU time
much less, and events ÷ (CPU ÷ cores) is what two free cores could reach.

    .venv/bin/python benchmarks/events_client_bench.py [--events 1000000] [--batch 10000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.servers import BANSO, banso_serve  # noqa: E402

from banso.client import EventsClient  # noqa: E402

ACCOUNTS = 1_000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--senders", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="banso-events-bench-") as scratch:
        home = Path(scratch) / "home"
        env = {k: v for k, v in os.environ.items() if not k.startswith("BANSO_")}
        env |= {"BANSO_EVENTS_RATE_PER_MINUTE": "0", "BANSO_EVENTS_STORE_WAIT": "2"}
        token = _set_up(home, env, Path(scratch))
        with banso_serve(
            home, env=env, cwd=Path(scratch), workers=args.workers, wait_seconds=300
        ) as (
            base,
            server,
        ):
            server_cpu = _tree_cpu(server.pid)
            client_cpu = time.process_time()
            sent, stats, wall = _send(base, token, args.events, args.batch, args.senders)
            server_cpu = _tree_cpu(server.pid) - server_cpu
            client_cpu = time.process_time() - client_cpu
        rows, distinct, files = _count(home)
    print(f"events sent: {sent:,} in batches of {args.batch:,} from {args.senders} senders")
    print(f"wall: {wall:.1f} s -> {sent / wall:,.0f} events/s")
    print(
        "client: stored {stored:,}, batches {batches}, retries {retries}, 429s waited {throttled}"
        " ({waited:.1f} s)".format(**stats)
    )
    print(
        f"CPU while sending: server {server_cpu:.1f} s, client {client_cpu:.1f} s"
        f" -> {sent / ((server_cpu + client_cpu) / 2):,.0f} events/s on 2 free cores"
    )
    print(f"store: {rows:,} events, {distinct:,} distinct ids, {files} files")
    print("OK: none lost or duplicated" if rows == distinct == sent else "MISMATCH")


def _set_up(home: Path, env: dict[str, str], scratch: Path) -> str:
    def banso(*words: str) -> str:
        done = subprocess.run(
            [BANSO, "--home", str(home), *words], env=env, check=True, capture_output=True,
            text=True,
        )  # fmt: skip
        return done.stdout.strip()

    banso("init")
    accounts = scratch / "accounts.csv"
    accounts.write_text(
        "account_id,name\n" + "".join(f"ACC-{i},Company {i}\n" for i in range(ACCOUNTS))
    )
    banso("import", "accounts", str(accounts), "--source", "product")
    banso("users", "create", "ops@example.com", "--role", "ops", "--password", "bench-pass-2026")
    return banso(
        "users", "tokens", "create", "ops@example.com", "--name", "bench", "--scope", "events",
        "--source", "product",
    )  # fmt: skip


def _send(
    base: str, token: str, events: int, batch: int, senders: int
) -> tuple[int, dict[str, float], float]:
    now = datetime.now(UTC).replace(microsecond=0)
    stamps = [(now - timedelta(days=d, minutes=m)).isoformat() for d in range(7) for m in range(60)]
    batches = [(start, min(batch, events - start)) for start in range(0, events, batch)]
    lock = threading.Lock()
    clients = [
        EventsClient(base, token, batch_size=batch, flush_interval=0) for _ in range(senders)
    ]

    def run(client: EventsClient) -> None:
        while True:
            with lock:
                if not batches:
                    return
                start, size = batches.pop()
            client.send_batch(
                {
                    "event_id": uuid.uuid4().hex,
                    "account": f"ACC-{(start + i) % ACCOUNTS}",
                    "user_id": f"u-{(start + i) % 7919}",
                    "event": "feature_used",
                    "ts": stamps[(start + i) % len(stamps)],
                }
                for i in range(size)
            )

    began = time.perf_counter()
    threads = [threading.Thread(target=run, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    totals = {"stored": 0.0, "batches": 0.0, "retries": 0.0, "throttled": 0.0, "waited": 0.0}
    for c in clients:
        for key in totals:
            totals[key] += getattr(c.stats, key)
        c.close()
    return events, totals, wall


def _tree_cpu(pid: int) -> float:
    """CPU seconds (user and system) used so far by process ``pid`` and its live descendants
    (``banso serve`` and its workers), from ``/proc`` (Linux)."""
    ticks, stack = 0, [pid]
    while stack:
        proc = Path("/proc") / str(stack.pop())
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
            for task in (proc / "task").iterdir():
                stack.extend(int(child) for child in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue  # ended meanwhile
    return ticks / os.sysconf("SC_CLK_TCK")


def _count(home: Path) -> tuple[int, int, int]:
    files = [str(p) for p in (home / "events").glob("date=*/part-*.parquet")]
    sql = "SELECT count(*), count(DISTINCT event_id) FROM read_parquet($f)"
    rows, distinct = duckdb.execute(sql, {"f": files}).fetchone()  # type: ignore[misc]
    return rows, distinct, len(files)


if __name__ == "__main__":
    main()
