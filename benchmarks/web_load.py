"""Load test of the web app on loopback: accounts list, account 360, My book and dashboard
latencies.

Starts ``banso serve`` on a free port against an existing BANSO_HOME (e.g. the 100,000-account
world of ``benchmarks/generate_big.py``), signs in as an admin created for the run, and sends a
bounded number of requests per page from ``--clients`` concurrent clients, printing p50/p95/max.
Targets (issues 6 and 13): list, 360 and My book p95 <= 200 ms, dashboard p95 <= 500 ms.
My book is measured twice: each request a team member not asked for before in this run (the
first visit after a data change, which computes the book's revenue figures), then the books of
ten members again and again (later visits, figures kept until the data changes).

    .venv/bin/python benchmarks/web_load.py --home benchmarks/data/big --requests 100
"""

from __future__ import annotations

import argparse
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

BANSO = str(Path(sys.executable).parent / "banso")
KINDS = (
    "accounts list (page 1)",
    "accounts list (random page)",
    "accounts search (kana)",
    "account 360",
    "account 360 usage chart",
    "my book (first visit)",
    "my book (again)",
    "dashboard",
)
EMAIL, PASSWORD = "loadtest@bench.banso.example", "load-test-2026"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--requests", type=int, default=100, help="per page kind")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=120, help="time limit per page kind")
    parser.add_argument("--workers", type=int, default=2, help="banso serve --workers")
    parser.add_argument(
        "--only", action="append", default=[], help="measure only the kinds containing this text"
    )
    args = parser.parse_args()
    env = {**os.environ, "BANSO_HOME": str(args.home)}
    subprocess.run(
        [
            BANSO,
            "users",
            "create",
            EMAIL,
            "--role",
            "admin",
            "--name",
            "Load test",
            "--password",
            PASSWORD,
        ],
        env=env,
        capture_output=True,
    )
    subprocess.run(
        [BANSO, "users", "set-password", EMAIL, "--password", PASSWORD],
        env=env,
        capture_output=True,
        check=True,
    )
    port = _free_port()
    server = subprocess.Popen(
        [BANSO, "serve", "--port", str(port), "--no-scheduler", "--workers", str(args.workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(base)
        cookies = _sign_in(base)
        ids = _account_ids(base, cookies)
        wanted = [name for name in KINDS if not args.only or any(t in name for t in args.only)]
        members = _member_ids(base, cookies) if any("my book" in n for n in wanted) else [0]
        rng = random.Random(7)
        fresh = iter(rng.sample(members, len(members)))
        regulars = rng.sample(members, min(10, len(members)))
        pages = {
            "accounts list (page 1)": lambda: "/accounts",
            "accounts list (random page)": lambda: f"/accounts?page={rng.randint(1, 500)}",
            "accounts search (kana)": lambda: (
                "/accounts?q=" + rng.choice(["さくら", "ヤマダ", "ふじ"])
            ),
            "account 360": lambda: f"/accounts/{rng.choice(ids)}",
            "account 360 usage chart": lambda: f"/accounts/{rng.choice(ids)}/usage",
            "my book (first visit)": lambda: f"/book?owner={next(fresh)}",
            "my book (again)": lambda: f"/book?owner={rng.choice(regulars)}",
            "dashboard": lambda: "/",
        }
        assert tuple(pages) == KINDS
        for name in wanted:
            path = pages[name]
            print(
                _measure(base, cookies, name, path, args.requests, args.clients, args.seconds),
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(timeout=30)


def _measure(base, cookies, name, path, n, clients, limit):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + limit
    with httpx.Client(base_url=base, cookies=cookies, timeout=60) as client:
        client.get(path())  # warm-up, not counted

        def one(_i: int) -> float | None:
            if time.monotonic() > deadline:
                return None
            start = time.perf_counter()
            response = client.get(path())
            response.raise_for_status()
            return (time.perf_counter() - start) * 1000

        with ThreadPoolExecutor(clients) as pool:
            times = sorted(t for t in pool.map(one, range(n)) if t is not None)
    p95 = times[max(0, int(len(times) * 0.95) - 1)]
    return (
        f"{name:30s} n={len(times):4d}  p50 {statistics.median(times):7.0f} ms  "
        f"p95 {p95:7.0f} ms  max {times[-1]:7.0f} ms"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(base: str) -> None:
    for _ in range(120):
        try:
            httpx.get(f"{base}/sign-in", timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.5)
    raise SystemExit("the server did not start")


def _sign_in(base: str) -> httpx.Cookies:
    with httpx.Client(base_url=base) as client:
        page = client.get("/sign-in")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        client.post(
            "/sign-in",
            data={"csrf_token": token, "email": EMAIL, "password": PASSWORD, "next": "/"},
        )
        return client.cookies


def _account_ids(base: str, cookies: httpx.Cookies) -> list[int]:
    with httpx.Client(base_url=base, cookies=cookies, timeout=60) as client:
        html = client.get("/accounts?page=3").text
    ids = sorted({int(i) for i in re.findall(r'href="/accounts/(\d+)"', html)})
    if not ids:
        raise SystemExit("no accounts on the list page")
    return ids


def _member_ids(base: str, cookies: httpx.Cookies) -> list[int]:
    """The team members My book's picker offers."""
    with httpx.Client(base_url=base, cookies=cookies, timeout=60) as client:
        html = client.get("/book").text
    picker = html[html.index('data-testid="book-picker"') :]
    members = [
        int(i) for i in re.findall(r'<option value="(\d+)"', picker[: picker.index("</select>")])
    ]
    if not members:
        raise SystemExit("no team members in My book's picker")
    return members


if __name__ == "__main__":
    main()
