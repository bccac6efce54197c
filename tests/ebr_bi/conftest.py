"""One small demo world for the EBR and BI tests, generated once per session (a minute on two
shared cores): 60 accounts over six months to 2026-05-01, health scored for March 2026, one
success-plan objective with progress on account 1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from banso import config

END = "2026-05-01"
TODAY = "2026-05-02"


def _banso(home: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANSO_")}
    env |= {"BANSO_HOME": str(home), "BANSO_LANG": "en", "BANSO_TODAY": TODAY}
    done = subprocess.run(
        [sys.executable, "-m", "banso", *args], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("ebr-bi") / "home"
    _banso(home, "init")
    _banso(home, "demo", "generate", "--accounts", "60", "--months", "6", "--end", END)
    _banso(home, "health", "score", "--from", "2026-03-01", "--to", "2026-03-31")
    _banso(
        home, "success-plans", "add-objective", "1", "--kpi", "Invoices sent per month",
        "--title", "請求書の電子化", "--baseline", "10", "--target", "50", "--due", "2026-06-30",
    )  # fmt: skip
    added = _banso(home, "success-plans", "list", "--account", "1", "--format", "json")
    (objective,) = json.loads(added)["items"]
    _banso(home, "success-plans", "update", str(objective["id"]), "--value", "30",
           "--note", "March figures")  # fmt: skip
    return home


@pytest.fixture
def demo(demo_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test's settings point at the shared demo world (read only: tests must not write)."""
    monkeypatch.setenv("BANSO_HOME", str(demo_home))
    monkeypatch.setenv("BANSO_TODAY", TODAY)
    config.get_settings.cache_clear()
    return demo_home


@pytest.fixture
def bi_pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database on the test server for the BI schema (the app database stays
    the demo's SQLite file), dropped afterwards."""
    admin = os.environ.get("BANSO_TEST_PG_URL")
    if not admin:
        pytest.fail("BANSO_TEST_PG_URL is not set: run the suite with ./scripts/test")
    name = f"banso_bi_{uuid.uuid4().hex[:12]}"
    admin_engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()
