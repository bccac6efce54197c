"""Real HTTP servers for tests: a free loopback port, the app on uvicorn in a thread of this
process, and ``banso serve`` as a process of its own (what a user runs)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import httpx
import uvicorn

BANSO = str(Path(sys.executable).parent / "banso")
"""The console script of this environment."""


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def app_in_thread(app: Any) -> Iterator[int]:
    """``app`` served by uvicorn on a free port until the block ends; yields the port."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def banso_serve(
    home: Path,
    *,
    env: Mapping[str, str],
    cwd: Path,
    workers: int = 1,
    output: IO[Any] | int = subprocess.DEVNULL,
    wait_seconds: float = 60,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``banso serve`` over ``home`` on a free port, answering; yields its base URL and process,
    and stops it (SIGTERM) when the block ends."""
    port = free_port()
    server = subprocess.Popen(
        [BANSO, "--home", str(home), "serve", "--port", str(port), "--workers", str(workers),
         "--no-scheduler"],
        env=dict(env), cwd=cwd, stdout=output, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"banso serve ended with {server.returncode}")
            try:
                httpx.get(f"{base}/sign-in", timeout=2)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"banso serve did not answer within {wait_seconds} s"
                    ) from None
                time.sleep(0.25)
        yield base, server
    finally:
        if server.poll() is None:
            server.terminate()
        server.wait(timeout=60)
