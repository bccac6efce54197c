"""The audit log: imports and merges recorded by the CLI, ``banso audit list``, migration 0010."""

from __future__ import annotations

import getpass
import json
from pathlib import Path

from alembic import command
from sqlalchemy import text

from banso import schema
from banso.db import get_engine, session_scope
from banso.users import tokens


def test_imports_and_merges_are_recorded_and_listed(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    accounts = tmp_path / "a.csv"
    accounts.write_text("id,name\nC1,株式会社サンプル\nC2,サンプル株式会社\n", encoding="utf-8")
    assert cli("init").exit_code == 0
    assert cli("import", "accounts", str(accounts), "--source", "crm").exit_code == 0
    assert cli("import", "accounts", str(accounts), "--dry-run").exit_code == 0  # not recorded
    assert cli("accounts", "merge", "1", "2").exit_code == 0
    listed = cli("audit", "list", "--format", "json")
    assert listed.exit_code == 0, listed.stderr
    entries = json.loads(listed.stdout)
    me = f"cli:{getpass.getuser()}"
    assert [(e["actor"], e["action"], e["target"]) for e in entries] == [
        (me, "accounts.merge", "1<-2"),
        (me, "data.import", "a.csv"),
    ]
    assert entries[1]["detail"] == {
        "inserted": 2, "kind": "accounts", "rows": 2, "source": "crm", "updated": 0,
    }  # fmt: skip
    merges = json.loads(
        cli("audit", "list", "--action", "accounts.merge", "--format", "json").stdout
    )
    assert [e["target"] for e in merges] == ["1<-2"]
    assert cli("audit", "list", "--actor", "nobody", "--format", "json").stdout.strip() == "[]"
    assert cli("audit", "list", "--since", "2999-01-01", "--format", "json").stdout.strip() == "[]"
    table = cli("audit", "list", "--since", "2000-01-01")
    assert "accounts.merge  1<-2" in table.stdout and "data.import  a.csv" in table.stdout
    bad = cli("audit", "list", "--since", "yesterday")
    assert bad.exit_code == 2 and "--since must be a date (YYYY-MM-DD)" in bad.stderr
    assert cli("audit", "list", "--format", "xml").exit_code == 2


def test_tokens_issued_before_0010_keep_every_scope_and_never_expire(any_db: str) -> None:
    """Upgrading a database whose tokens predate scopes keeps those tokens working as before."""
    engine = get_engine(any_db)
    if engine.url.database and engine.dialect.name == "sqlite":
        Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)
    cfg = schema.alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0009_subscription_date_indexes")
        conn.execute(text(
            "INSERT INTO users (email, name, password_hash, role, failed_attempts, created_at) "
            "VALUES ('old@example.jp', 'Old', 'x', 'ops', 0, CURRENT_TIMESTAMP)"
        ))  # fmt: skip
        conn.execute(text(
            "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES "
            f"(1, 'legacy', '{tokens._token_hash('bns_legacy')}', CURRENT_TIMESTAMP)"
        ))  # fmt: skip
    schema.upgrade(any_db)
    assert schema.is_ready(any_db)
    with session_scope(any_db) as s:
        user, scopes = tokens.token_user(s, "bns_legacy")
        assert (user.email, scopes) == ("old@example.jp", "read write events")
        [listing] = tokens.list_tokens(s)
        assert listing.token.expires_at is None and listing.status == "active"
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0009_subscription_date_indexes")
        assert conn.execute(text("SELECT name FROM api_tokens")).scalars().all() == ["legacy"]
