"""`banso init` creates and upgrades the schema on SQLite and PostgreSQL; settings behave."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from banso import schema
from banso.config import get_settings
from banso.db import get_engine

TABLES = {
    "accounts",
    "account_identities",
    "contacts",
    "subscriptions",
    "tickets",
    "survey_responses",
    "activities",
    "team_members",
    "fx_rates",
    "import_batches",
}


def test_init_creates_every_table_and_is_repeatable(cli, any_db: str) -> None:
    first = cli("init")
    assert first.exit_code == 0, first.stderr
    assert "revision" in first.stdout
    again = cli("init")
    assert again.exit_code == 0
    tables = set(inspect(get_engine(any_db)).get_table_names())
    assert TABLES <= tables
    assert schema.current_revision(any_db) == schema.head_revision()


def test_home_option_overrides_env(cli, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    result = cli("--home", str(other), "init")
    assert result.exit_code == 0, result.stderr
    assert (other / "banso.db").exists()


def test_japanese_messages(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANSO_LANG", "ja")
    result = cli("init")
    assert "データベースを準備しました" in result.stdout


def test_defaults() -> None:
    s = get_settings()
    assert s.timezone == "Asia/Tokyo"
    assert s.fiscal_year_start == 4
    assert s.reporting_currency == "JPY"
    assert s.db_url.startswith("sqlite:///") and s.db_url.endswith("banso.db")


def test_bad_setting_is_one_clear_sentence(cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANSO_FISCAL_YEAR_START", "13")
    result = cli("init")
    assert result.exit_code == 2
    assert "BANSO_FISCAL_YEAR_START" in result.stderr
    assert "Traceback" not in result.stderr


def test_migrations_create_exactly_the_models(any_db: str) -> None:
    """Every table and column of the models has a migration (autogenerate finds nothing)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from banso.models import Base

    schema.upgrade(any_db)
    with get_engine(any_db).connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
