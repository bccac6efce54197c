"""Parallel password guesses against a real ``banso serve --workers 2`` are each counted."""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from tests.servers import BANSO, banso_serve

EMAIL = "admin@example.com"
PASSWORD = "right-password-2026"
GUESSES = 40


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Base URL of ``banso serve --workers 2`` over a fresh home (and database) with one admin."""
    banso = BANSO
    home = tmp_path / "served-home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANSO_")}
    if request.param == "postgres":
        env["BANSO_DATABASE_URL"] = request.getfixturevalue("pg_url")
    subprocess.run([banso, "--home", str(home), "init"], env=env, check=True, capture_output=True)
    subprocess.run(
        [banso, "--home", str(home), "users", "create", EMAIL, "--role", "admin",
         "--password", PASSWORD],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    with banso_serve(home, env=env, cwd=tmp_path, workers=2) as (base, _server):
        yield base


def _csrf(client: httpx.Client) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").text)
    assert found is not None
    return found.group(1)


def test_forty_parallel_wrong_guesses_then_the_right_password_cannot_sign_in(served: str) -> None:
    with httpx.Client(base_url=served, timeout=60) as client:
        csrf = _csrf(client)

        def guess(n: int) -> int:
            form = {"csrf_token": csrf, "email": EMAIL, "password": f"guess-{n:04d}"}
            return client.post("/sign-in", data=form).status_code

        with ThreadPoolExecutor(max_workers=GUESSES) as pool:
            statuses = Counter(pool.map(guess, range(GUESSES)))
        right = client.post(
            "/sign-in", data={"csrf_token": csrf, "email": EMAIL, "password": PASSWORD}
        )
        # five guesses are free; the fifth failure starts a 2 s delay, during which every other
        # guess is refused unchecked (a slow machine may let one or two more through later)
        assert set(statuses) == {401, 429}
        assert 5 <= statuses[401] <= 7, statuses
        assert statuses[401] + statuses[429] == GUESSES
        assert right.status_code == 429
        assert int(right.headers["retry-after"]) >= 1
        assert "Too many failed sign-ins; try again in" in right.text
        assert client.get("/api/accounts").status_code == 401
        time.sleep(int(right.headers["retry-after"]))
        signed_in = client.post(
            "/sign-in",
            data={"csrf_token": csrf, "email": EMAIL, "password": PASSWORD, "next": "/accounts"},
        )
        assert signed_in.status_code == 303
        assert client.get("/api/accounts").status_code == 200
