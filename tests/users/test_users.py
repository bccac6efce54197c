"""Users: argon2 passwords, lock-out after five wrong passwords, hashed API tokens, the CLI."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from banso import schema
from banso.db import session_scope
from banso.errors import BansoError
from banso.users import service
from banso.users.models import ApiToken, User


@pytest.fixture
def db() -> None:
    schema.upgrade()


def test_password_is_stored_as_argon2_and_checked(db: None) -> None:
    with session_scope() as s:
        service.create_user(s, "Mika@Example.jp", name="Mika", role="ops", password="s3cret-pass")
    with session_scope() as s:
        user = s.scalar(select(User))
        assert user is not None
        assert user.email == "mika@example.jp"
        assert user.password_hash.startswith("$argon2id$")
        assert "s3cret-pass" not in user.password_hash
        assert service.authenticate(s, "mika@example.jp", "s3cret-pass").id == user.id
        with pytest.raises(service.SignInRefused, match="Wrong e-mail address or password"):
            service.authenticate(s, "mika@example.jp", "wrong-pass")
        with pytest.raises(service.SignInRefused, match="Wrong e-mail address or password"):
            service.authenticate(s, "nobody@example.jp", "s3cret-pass")


def test_five_wrong_passwords_lock_the_user_out_for_fifteen_minutes(db: None) -> None:
    t0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
    with session_scope() as s:
        service.create_user(s, "ken@example.jp", name="Ken", role="csm", password="right-pass")
    for _attempt in range(5):
        with session_scope() as s:
            with pytest.raises(service.SignInRefused, match="Wrong"):
                service.authenticate(s, "ken@example.jp", "wrong-pass", now=t0)
    with session_scope() as s:
        with pytest.raises(service.SignInRefused, match="try again after 09:15 UTC"):
            service.authenticate(s, "ken@example.jp", "right-pass", now=t0 + timedelta(minutes=14))
    with session_scope() as s:
        user = service.authenticate(
            s, "ken@example.jp", "right-pass", now=t0 + timedelta(minutes=15)
        )
        assert user.locked_until is None and user.failed_attempts == 0


def test_four_wrong_passwords_then_the_right_one_resets_the_count(db: None) -> None:
    with session_scope() as s:
        service.create_user(s, "ken@example.jp", name="Ken", role="csm", password="right-pass")
    for _attempt in range(4):
        with session_scope() as s:
            with pytest.raises(service.SignInRefused):
                service.authenticate(s, "ken@example.jp", "wrong-pass")
    with session_scope() as s:
        assert service.authenticate(s, "ken@example.jp", "right-pass").failed_attempts == 0


def test_bad_role_short_password_and_duplicate_email_are_refused(db: None) -> None:
    with session_scope() as s:
        with pytest.raises(BansoError, match="Role must be one of: admin, ops, csm, viewer"):
            service.create_user(s, "a@example.jp", name="A", role="boss", password="long-enough")
        with pytest.raises(BansoError, match="at least 8 characters"):
            service.create_user(s, "a@example.jp", name="A", role="ops", password="short")
        service.create_user(s, "a@example.jp", name="A", role="ops", password="long-enough")
        with pytest.raises(BansoError, match="already exists"):
            service.create_user(s, "A@example.jp", name="A", role="ops", password="long-enough")


def test_api_token_is_stored_hashed_and_resolves_to_its_user(db: None) -> None:
    with session_scope() as s:
        service.create_user(s, "bot@example.jp", name="Bot", role="viewer", password="long-enough")
        token = service.issue_token(s, "bot@example.jp", "nightly export")
    with session_scope() as s:
        row = s.scalar(select(ApiToken))
        assert row is not None and row.token_hash != token and len(row.token_hash) == 64
        user = service.user_for_token(s, token)
        assert user is not None and user.email == "bot@example.jp"
        assert service.user_for_token(s, token + "x") is None
    with session_scope() as s:
        assert s.scalar(select(ApiToken.last_used_at)) is not None


def test_users_cli_create_set_password_and_token(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli("init").exit_code == 0
    created = cli(
        "users",
        "create",
        "Aoi@Example.jp",
        "--role",
        "viewer",
        "--name",
        "Aoi",
        "--password",
        "first-pass",
    )
    assert created.exit_code == 0, created.stderr
    assert "Created user aoi@example.jp (viewer)." in created.stdout
    changed = cli("users", "set-password", "aoi@example.jp", "--password", "second-pass")
    assert "Password changed for aoi@example.jp." in changed.stdout
    with session_scope() as s:
        assert service.authenticate(s, "aoi@example.jp", "second-pass").name == "Aoi"
    issued = cli("users", "token", "aoi@example.jp", "--name", "bi")
    assert issued.exit_code == 0 and issued.stdout.startswith("bns_")
    with session_scope() as s:
        assert service.user_for_token(s, issued.stdout.strip()) is not None
    bad = cli("users", "create", "x@example.jp", "--role", "owner", "--password", "long-enough")
    assert bad.exit_code == 2
    assert "Role must be one of: admin, ops, csm, viewer." in bad.stderr
