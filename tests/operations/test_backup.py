"""`banso backup` / `banso restore`: a fresh home gets back every table row and every file."""

from __future__ import annotations

import os
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine, text
from sqlalchemy.engine import make_url

from banso import config, db


def _tables(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, in primary-key order (the cache's timestamps included)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            metadata = MetaData()
            metadata.reflect(conn)
            return {
                name: [
                    tuple(row)
                    for row in conn.execute(
                        table.select().order_by(*(table.primary_key.columns or table.columns))
                    )
                ]
                for name, table in metadata.tables.items()
            }
    finally:
        engine.dispose()


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith("banso.db")
    }


@pytest.fixture
def second_database(any_db: str) -> Iterator[str | None]:
    """Where the restore goes: a second fresh PostgreSQL database, or the new home's SQLite."""
    if not any_db.startswith("postgresql"):
        yield None
        return
    name = f"banso_restore_{uuid.uuid4().hex[:12]}"
    admin = create_engine(os.environ["BANSO_TEST_PG_URL"], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(any_db).set(database=name).render_as_string(hide_password=False)
    finally:
        db.dispose_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_restore_into_a_fresh_home_gives_back_every_row_and_file(
    cli, any_db: str, second_database: str | None, banso_home: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    assert cli("init").exit_code == 0
    generated = cli(
        "demo", "generate", "--accounts", "12", "--months", "3", "--end", "2026-06-01",
        "--event-scale", "0.3",
    )  # fmt: skip
    assert generated.exit_code == 0, generated.stderr
    (banso_home / "config").mkdir()
    (banso_home / "config" / "scorecard.yaml").write_text("name: 顧客の健康\n")
    (banso_home / "secret_key").write_text("the key that signs sessions\n")
    (banso_home / "analytics" / "spark").mkdir(parents=True)
    (banso_home / "analytics" / "spark" / "cache.parquet").write_bytes(b"rebuilt on demand")
    tables = _tables(any_db)
    files = _files(banso_home)
    assert len(tables["accounts"]) == 12 and len(tables["subscriptions"]) > 0
    assert any(name.startswith("events/") for name in files)

    backup = tmp_path / "backup-2026-06-01"
    done = cli("backup", str(backup))
    assert done.exit_code == 0, done.stderr
    assert f"in {len(tables) - 1} tables" in done.stdout  # all but alembic_version

    fresh = tmp_path / "restored-home"
    monkeypatch.setenv("BANSO_HOME", str(fresh))
    if second_database is not None:
        monkeypatch.setenv("BANSO_DATABASE_URL", second_database)
    db.dispose_engines()
    config.get_settings.cache_clear()
    restored = cli("restore", str(backup))
    assert restored.exit_code == 0, restored.stderr

    assert _tables(config.get_settings().db_url) == tables
    expected_files = {k: v for k, v in files.items() if not k.startswith("analytics/")}
    assert _files(fresh) == expected_files
    assert "analytics/spark/cache.parquet" in files

    again = cli("restore", str(backup))
    assert again.exit_code == 2
    assert "is not empty; restore into a new home, or add --force" in again.stderr
    if second_database is not None:
        import shutil

        shutil.rmtree(fresh)
        refused = cli("restore", str(backup))
        assert refused.exit_code == 2
        assert "The app database already has tables; add --force" in refused.stderr
        fresh.mkdir()
    (fresh / "stray.txt").write_text("left from before")
    forced = cli("restore", str(backup), "--force")
    assert forced.exit_code == 0, forced.stderr
    assert _tables(config.get_settings().db_url) == tables
    assert _files(fresh) == expected_files
    # ids go on after the restored ones (PostgreSQL's sequences were moved past them)
    from datetime import UTC, datetime

    from banso.activities.models import Activity

    with db.session_scope() as session:
        note = Activity(account_id=1, source="manual", external_id="after-restore", kind="note",
                        occurred_at=datetime(2026, 6, 2, tzinfo=UTC))  # fmt: skip
        session.add(note)
        session.flush()
        assert note.id == max(row[0] for row in tables["activities"]) + 1


def test_a_damaged_backup_is_refused_before_anything_is_written(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").exit_code == 0
    backup = tmp_path / "backup"
    assert cli("backup", str(backup)).exit_code == 0
    with (backup / "database" / "banso.db").open("r+b") as damaged:
        damaged.seek(200)
        damaged.write(b"\xff")
    fresh = tmp_path / "fresh"
    monkeypatch.setenv("BANSO_HOME", str(fresh))
    db.dispose_engines()
    config.get_settings.cache_clear()
    refused = cli("restore", str(backup))
    assert refused.exit_code == 2
    assert "database/banso.db is damaged" in refused.stderr
    assert not fresh.exists()


def test_a_sqlite_database_outside_the_home_is_not_replaced_unasked(
    cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").exit_code == 0
    backup = tmp_path / "backup"
    assert cli("backup", str(backup)).exit_code == 0
    elsewhere = tmp_path / "elsewhere.db"
    elsewhere.write_bytes(b"someone else's data")
    monkeypatch.setenv("BANSO_HOME", str(tmp_path / "fresh"))
    monkeypatch.setenv("BANSO_DATABASE_URL", f"sqlite:///{elsewhere}")
    db.dispose_engines()
    config.get_settings.cache_clear()
    refused = cli("restore", str(backup))
    assert refused.exit_code == 2
    assert "The app database already has tables; add --force" in refused.stderr
    assert elsewhere.read_bytes() == b"someone else's data"
    assert cli("restore", str(backup), "--force").exit_code == 0
    assert elsewhere.read_bytes()[:16] == b"SQLite format 3\x00"


def test_the_database_home_and_backups_are_readable_by_their_owner_only(
    cli, banso_home: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    old = os.umask(0o022)
    try:
        assert cli("init").exit_code == 0
        assert cli("users", "create", "a@example.com", "--role", "admin", "--password",
                   "owner-only-2026").exit_code == 0  # fmt: skip
        assert cli("backup", str(tmp_path / "backup")).exit_code == 0
    finally:
        os.umask(old)

    def mode(path: Path) -> int:
        return stat.S_IMODE(path.stat().st_mode)

    assert mode(banso_home) == 0o700
    assert mode(banso_home / "banso.db") == 0o600
    for wal in (banso_home / "banso.db-wal", banso_home / "banso.db-shm"):
        if wal.exists():
            assert mode(wal) == 0o600
    backed_up = [tmp_path / "backup", *(tmp_path / "backup").rglob("*")]
    assert {(p.is_dir(), mode(p)) for p in backed_up} == {(True, 0o700), (False, 0o600)}
