"""Every write `banso serve` acknowledged is in the SQLite file after other processes opened it.

Two SQLite libraries in one process do not share POSIX locks: when the server also read the
database through a second linked copy (ADBC), the next outside process to open and close the file
took itself for the last connection and deleted the WAL under the server; writes answered 201
and vanished. This runs the server for real and lets neighbours in between the writes.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from tests.servers import BANSO, banso_serve

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A small demo company with subscriptions (so the server reads them for its reports) and
    an admin API token; copied per test, since each test writes to it."""
    home = tmp_path_factory.mktemp("durable") / "home"
    env = _env()
    subprocess.run([BANSO, "--home", str(home), "init"], env=env, check=True, capture_output=True)
    subprocess.run(
        [BANSO, "--home", str(home), "demo", "generate", "--accounts", "40", "--months", "6",
         "--event-scale", "0", "--end", "2026-06-01"],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    subprocess.run(
        [BANSO, "--home", str(home), "users", "create", "ops@example.com", "--role", "admin",
         "--name", "Ops", "--password", "durable-2026"],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    token = subprocess.run(
        [BANSO, "--home", str(home), "users", "tokens", "create", "ops@example.com",
         "--name", "durability test", "--scope", "read", "--scope", "write"],
        env=env, check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    return home, token


@pytest.mark.parametrize("workers", [1, 2])
def test_acknowledged_writes_survive_neighbours(
    world: tuple[Path, str], tmp_path: Path, workers: int
) -> None:
    import shutil

    home = tmp_path / "home"
    shutil.copytree(world[0], home)
    token = world[1]
    database = home / "banso.db"
    acknowledged: list[int] = []
    with (
        (tmp_path / "serve.log").open("w") as log,
        banso_serve(home, env=_env(), cwd=tmp_path, workers=workers, output=log) as (base, server),
    ):
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as api:
            browser = _signed_in(base)
            # a month missing from the report cache is computed from the app tables read for
            # analytics, in whichever worker answers (in parallel, so that every worker does)
            uncached = iter([f"{y}-{m:02d}" for y in (2024, 2023, 2022) for m in range(1, 13)])

            def report_on_new_months() -> None:
                def one(month: str) -> int:
                    answer = browser.get(f"/api/metrics/revenue?start={month}&end={month}")
                    return answer.status_code

                months = [next(uncached) for _ in range(2 * workers)]
                with ThreadPoolExecutor(max_workers=2 * workers) as pool:
                    assert list(pool.map(one, months)) == [200] * len(months)

            report_on_new_months()

            def write(summary: str) -> None:
                answer = api.post(
                    "/api/accounts/1/activities", json={"kind": "note", "summary": summary}
                )
                assert answer.status_code == 201, answer.text
                acknowledged.append(answer.json()["id"])

            write("before any neighbour")
            _sqlite3_cli(database, "select count(*) from accounts")
            write("after the sqlite3 reader")
            report_on_new_months()
            _outside(
                sys.executable, "-c",
                "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], timeout=30); "
                "c.execute(\"insert into fx_rates (currency, month, rate) "
                "values ('USD', '2019-01', 150)\"); c.commit(); c.close()",
                str(database),
            )  # fmt: skip
            write("after the outside writer")
            _outside(BANSO, "--home", str(home), "accounts", "list")
            _outside(
                BANSO, "--home", str(home), "users", "create", "csm@example.com",
                "--role", "csm", "--name", "CSM", "--password", "another-2026",
            )  # fmt: skip
            write("after banso commands")
            _sqlite3_cli(database, f".backup '{tmp_path / 'copy.db'}'")
            write("after the sqlite3 backup")
            _outside(BANSO, "--home", str(home), "backup", str(tmp_path / "banso-backup"))
            backed_up = list(acknowledged)
            write("after banso backup")
            report_on_new_months()
            write("last")
            listed = {a["id"] for a in api.get("/api/accounts/1/activities").json()}
            assert set(acknowledged) <= listed
            browser.close()
    # stopped, not crashed (uvicorn re-raises the SIGTERM it shut down on)
    assert server.returncode in (0, -signal.SIGTERM), (tmp_path / "serve.log").read_text()

    with sqlite3.connect(database) as check:
        stored = {
            row[0]
            for row in check.execute(
                "select id from activities where source = 'manual' or account_id = 1"
            )
        }
        assert check.execute("select count(*) from users").fetchone()[0] == 2
        outside = check.execute("select rate from fx_rates where month = '2019-01'").fetchall()
        assert outside == [(150,)]
    assert len(acknowledged) == 7
    assert set(acknowledged) <= stored, f"lost: {sorted(set(acknowledged) - stored)}"
    with sqlite3.connect(tmp_path / "banso-backup" / "database" / "banso.db") as copy:
        in_backup = {row[0] for row in copy.execute("select id from activities")}
    assert set(backed_up) <= in_backup


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANSO_")}
    env["BANSO_LANG"] = "en"
    return env


def _signed_in(base: str) -> httpx.Client:
    """A signed-in browser session, as a person reading the reports would have."""
    import re

    client = httpx.Client(base_url=base, timeout=60)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/sign-in").text)
    assert token is not None
    signed_in = client.post(
        "/sign-in",
        data={"csrf_token": token.group(1), "email": "ops@example.com",
              "password": "durable-2026", "next": "/"},
    )  # fmt: skip
    assert signed_in.status_code == 303
    return client


def _sqlite3_cli(database: Path, command: str) -> None:
    """The ``sqlite3`` shell on the database; where it is missing, Python's sqlite3 in another
    process doing the same (a query, or ``.backup 'FILE'`` with the online backup API)."""
    import shutil

    shell = shutil.which("sqlite3")
    if shell is not None:
        _outside(shell, str(database), command)
        return
    script = (
        "import sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1], timeout=30)\n"
        "command = sys.argv[2]\n"
        "if command.startswith('.backup '):\n"
        "    copy = sqlite3.connect(command.split(' ', 1)[1].strip(\"'\"))\n"
        "    db.backup(copy)\n"
        "    copy.close()\n"
        "else:\n"
        "    db.execute(command).fetchall()\n"
        "db.close()\n"
    )
    _outside(sys.executable, "-c", script, str(database), command)


def _outside(*command: str) -> None:
    """Run a neighbour process to completion; it must succeed."""
    done = subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
