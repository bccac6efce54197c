"""Shared fixtures: isolated BANSO_HOME per test, the CLI in-process, real PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from banso import config, db, i18n

DATA = Path(__file__).resolve().parent / "data"
"""Copies of the spec's worked examples and public data sets (sources and licences in their
READMEs)."""
EXAMPLES = DATA / "metrics" / "examples"


@pytest.fixture(autouse=True)
def banso_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own data directory and SQLite database, English messages."""
    home = tmp_path / "banso-home"
    for var in list(os.environ):
        if var.startswith("BANSO_") and var != "BANSO_TEST_PG_URL":
            monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("BANSO_HOME", str(home))
    monkeypatch.setenv("BANSO_LANG", "en")
    monkeypatch.chdir(tmp_path)
    config._overrides.clear()
    config.get_settings.cache_clear()
    i18n.set_language(None)
    yield home
    db.dispose_engines()
    config._overrides.clear()
    config.get_settings.cache_clear()


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run ``banso ARGS`` in-process, exactly as the console script does."""
    import sys

    from banso.cli import main

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        old_argv = sys.argv
        sys.argv = ["banso", *args]
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            sys.argv = old_argv
            config._overrides.clear()
            config.get_settings.cache_clear()
            i18n.set_language(None)
        out = capsys.readouterr()
        return CliResult(code, out.out, out.err)

    return run


def _admin_url() -> str | None:
    return os.environ.get("BANSO_TEST_PG_URL")


@pytest.fixture
def pg_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards (BANSO_DATABASE_URL)."""
    admin = _admin_url()
    if not admin:
        pytest.fail("BANSO_TEST_PG_URL is not set: run the suite with ./scripts/test")
    name = f"banso_test_{uuid.uuid4().hex[:12]}"
    admin_engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    monkeypatch.setenv("BANSO_DATABASE_URL", url)
    config.get_settings.cache_clear()
    try:
        yield url
    finally:
        db.dispose_engines()
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin_engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_db(request: pytest.FixtureRequest) -> str:
    """Runs a test on the embedded SQLite database and on a real PostgreSQL database."""
    if request.param == "postgres":
        return request.getfixturevalue("pg_url")
    return config.get_settings().db_url


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's chromium driven by Playwright, one per test process: every browser test of any
    folder uses this one (a second sync Playwright in the same process refuses to start)."""
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield chromium
        chromium.close()
