"""Users: argon2 passwords, throttled sign-in, server-side sessions, scoped tokens, the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from banso import schema
from banso.audit.models import AuditEntry
from banso.db import session_scope
from banso.errors import BansoError
from banso.users import service, sessions, tokens
from banso.users.models import ApiToken, SignInThrottle, User

T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def db() -> None:
    schema.upgrade()


def _actions() -> list[tuple[str, str, str]]:
    with session_scope() as s:
        rows = s.execute(select(AuditEntry.actor, AuditEntry.action, AuditEntry.target)
                         .order_by(AuditEntry.id))  # fmt: skip
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_password_is_stored_as_argon2_and_checked(db: None) -> None:
    with session_scope() as s:
        service.create_user(s, "Mika@Example.jp", name="Mika", role="ops", password="s3cret-pass")
    with session_scope() as s:
        user = s.scalar(select(User))
        assert user is not None
        assert user.email == "mika@example.jp"
        assert user.password_hash.startswith("$argon2id$")
        assert "s3cret-pass" not in user.password_hash
    assert service.sign_in("mika@example.jp", "s3cret-pass", address="10.0.0.1").email == (
        "mika@example.jp"
    )
    with pytest.raises(service.SignInRefused, match="^Wrong e-mail address or password.$"):
        service.sign_in("mika@example.jp", "wrong-pass", address="10.0.0.1")
    with pytest.raises(service.SignInRefused, match="^Wrong e-mail address or password.$"):
        service.sign_in("nobody@example.jp", "s3cret-pass", address="10.0.0.1")
    assert _actions() == [
        ("cli:" + __import__("getpass").getuser(), "user.create", "mika@example.jp"),
        ("mika@example.jp", "sign_in.success", "mika@example.jp"),
        ("mika@example.jp", "sign_in.failure", "mika@example.jp"),
        ("nobody@example.jp", "sign_in.failure", "nobody@example.jp"),
    ]


def test_after_five_failures_each_attempt_waits_twice_as_long_unchecked(db: None) -> None:
    with session_scope() as s:
        service.create_user(s, "ken@example.jp", name="Ken", role="csm", password="right-pass")
    for _attempt in range(5):
        with pytest.raises(service.SignInRefused):
            service.sign_in("ken@example.jp", "wrong-pass", address="10.0.0.1", now=T0)
    # the right password during the delay is refused without being checked
    with pytest.raises(service.SignInThrottled, match="try again in 2 seconds") as refused:
        service.sign_in("ken@example.jp", "right-pass", address="10.0.0.1", now=T0)
    assert refused.value.retry_after == 2
    t1 = T0 + timedelta(seconds=2)
    with pytest.raises(service.SignInRefused):
        service.sign_in("ken@example.jp", "wrong-pass", address="10.0.0.1", now=t1)
    with pytest.raises(service.SignInThrottled) as refused:
        service.sign_in("ken@example.jp", "right-pass", address="10.0.0.1", now=t1)
    assert refused.value.retry_after == 4  # 6th failure: 2**2 seconds
    user = service.sign_in("ken@example.jp", "right-pass", address="10.0.0.1",
                           now=t1 + timedelta(seconds=4))  # fmt: skip
    assert user.email == "ken@example.jp"
    with session_scope() as s:
        pair = s.get(SignInThrottle, "pair:10.0.0.1|ken@example.jp")
        assert pair is not None and pair.failures == 0 and pair.next_attempt_at is None
    # an hour later, a sign-in clears away the counters of failures nobody remembers any more
    with pytest.raises(service.SignInRefused):
        service.sign_in("junk@example.jp", "guess", address="10.0.0.9", now=t1)
    service.sign_in("ken@example.jp", "right-pass", address="10.0.0.1",
                    now=t1 + timedelta(hours=2))  # fmt: skip
    with session_scope() as s:
        assert not [k for k in s.scalars(select(SignInThrottle.key)) if "junk" in k]
    assert [a for _actor, a, _t in _actions()].count("sign_in.throttled") == 2


def test_guesses_from_one_address_do_not_keep_the_user_out_from_another(db: None) -> None:
    with session_scope() as s:
        service.create_user(s, "admin@example.jp", name="A", role="admin", password="right-pass")
    now, failures = T0, 0
    while failures < 8:
        try:
            service.sign_in("admin@example.jp", "guess", address="203.0.113.9", now=now)
        except service.SignInThrottled as throttled:
            now += timedelta(seconds=throttled.retry_after)
        except service.SignInRefused:
            failures += 1
    with pytest.raises(service.SignInThrottled):
        service.sign_in("admin@example.jp", "right-pass", address="203.0.113.9", now=now)
    assert service.sign_in("admin@example.jp", "right-pass", address="198.51.100.1", now=now)


def test_guesses_from_many_addresses_delay_the_user_five_minutes_at_most(db: None) -> None:
    for n in range(40):
        try:
            service.sign_in("admin@example.jp", "guess", address=f"203.0.113.{n}", now=T0)
        except service.SignInThrottled as throttled:
            assert throttled.retry_after <= 2
        except service.SignInRefused:
            pass
    with session_scope() as s:
        row = s.get(SignInThrottle, "account:admin@example.jp")
        assert row is not None and row.failures == 25  # the 26th to 40th were refused unchecked
    now = T0
    for _attempt in range(40):
        try:
            service.sign_in("admin@example.jp", "guess", address="198.51.100.7", now=now)
        except service.SignInThrottled as throttled:
            now += timedelta(seconds=throttled.retry_after)
        except service.SignInRefused:
            pass
    with session_scope() as s:
        row = s.get(SignInThrottle, "account:admin@example.jp")
        assert row is not None and row.next_attempt_at is not None and row.last_failure_at
        assert row.next_attempt_at - row.last_failure_at <= timedelta(minutes=5)


def test_the_delay_is_capped_at_fifteen_minutes(db: None) -> None:
    now = T0
    for _attempt in range(60):
        try:
            service.sign_in("admin@example.jp", "guess", address=None, now=now)
        except service.SignInThrottled as throttled:
            now += timedelta(seconds=throttled.retry_after)
        except service.SignInRefused:
            pass
    with session_scope() as s:
        row = s.get(SignInThrottle, "pair:|admin@example.jp")
        assert row is not None and row.next_attempt_at is not None
        last = row.last_failure_at
        assert last is not None
        assert row.next_attempt_at - last == timedelta(minutes=15)


def test_an_unknown_email_gets_the_same_answers_as_a_known_one(db: None) -> None:
    with session_scope() as s:
        service.create_user(s, "ken@example.jp", name="Ken", role="csm", password="right-pass")
    answers: dict[str, list[str]] = {}
    for email in ("ken@example.jp", "nobody@example.jp"):
        answers[email] = []
        for _attempt in range(6):
            try:
                service.sign_in(email, "wrong-pass", address=None, now=T0)
            except BansoError as refused:
                answers[email].append(f"{type(refused).__name__}: {refused}")
    assert answers["ken@example.jp"] == answers["nobody@example.jp"]
    assert answers["nobody@example.jp"][-1] == (
        "SignInThrottled: Too many failed sign-ins; try again in 2 seconds."
    )


def test_an_address_is_slowed_after_twenty_failures_across_emails(db: None) -> None:
    for n in range(20):
        with pytest.raises(service.SignInRefused):
            service.sign_in(f"user{n}@example.jp", "guess", address="203.0.113.9", now=T0)
    with pytest.raises(service.SignInThrottled):
        service.sign_in("user99@example.jp", "guess", address="203.0.113.9", now=T0)
    with pytest.raises(service.SignInRefused):
        service.sign_in("user99@example.jp", "guess", address="198.51.100.1", now=T0)


def test_sessions_end_at_sign_out_idle_absolute_and_password_change(db: None) -> None:
    with session_scope() as s:
        user = service.create_user(s, "ken@example.jp", name="Ken", role="csm",
                                   password="right-pass")  # fmt: skip
        first = sessions.start_session(s, user.id, now=T0)
        second = sessions.start_session(s, user.id, now=T0)
        idle = sessions.start_session(s, user.id, now=T0)
    with session_scope() as s:
        assert sessions.user_for_session(s, first, now=T0 + timedelta(hours=1)) is not None
        assert sessions.user_for_session(s, second, now=T0 + timedelta(hours=1)) is not None
        assert sessions.user_for_session(s, idle, now=T0 + timedelta(hours=2, minutes=1)) is None
        assert sessions.end_session(s, first) == user.id
        assert sessions.user_for_session(s, first, now=T0 + timedelta(hours=1)) is None
    with session_scope() as s:
        # kept alive by use, a session still ends 12 hours after sign-in
        for hour in range(1, 12):
            assert sessions.user_for_session(s, second, now=T0 + timedelta(hours=hour)) is not None
        assert sessions.user_for_session(s, second, now=T0 + timedelta(hours=12, seconds=1)) is None
        third = sessions.start_session(s, user.id)
    with session_scope() as s:
        service.set_password(s, "ken@example.jp", "new-password")
    with session_scope() as s:
        assert sessions.user_for_session(s, third) is None


def test_role_change_ends_the_users_sessions(db: None) -> None:
    with session_scope() as s:
        user = service.create_user(s, "ken@example.jp", name="Ken", role="csm",
                                   password="right-pass")  # fmt: skip
        sid = sessions.start_session(s, user.id)
    with session_scope() as s:
        assert service.set_role(s, "ken@example.jp", "viewer").role == "viewer"
        assert sessions.user_for_session(s, sid) is None
        with pytest.raises(BansoError, match="Role must be one of"):
            service.set_role(s, "ken@example.jp", "boss")
    entry = [a for a in _actions() if a[1] == "user.role"]
    assert len(entry) == 1
    with session_scope() as s:
        detail = s.scalar(select(AuditEntry.detail).where(AuditEntry.action == "user.role"))
        assert json.loads(detail or "") == {"previous": "csm", "role": "viewer",
                                            "sessions_ended": 1}  # fmt: skip


def test_bad_role_short_password_and_duplicate_email_are_refused(db: None) -> None:
    with session_scope() as s:
        with pytest.raises(BansoError, match="Role must be one of: admin, ops, csm, viewer"):
            service.create_user(s, "a@example.jp", name="A", role="boss", password="long-enough")
        with pytest.raises(BansoError, match="at least 8 characters"):
            service.create_user(s, "a@example.jp", name="A", role="ops", password="short")
        service.create_user(s, "a@example.jp", name="A", role="ops", password="long-enough")
        with pytest.raises(BansoError, match="already exists"):
            service.create_user(s, "A@example.jp", name="A", role="ops", password="long-enough")


def test_api_token_is_stored_hashed_scoped_expiring_and_revocable(db: None) -> None:
    with session_scope() as s:
        service.create_user(s, "bot@example.jp", name="Bot", role="viewer", password="long-enough")
        row, token = tokens.create_token(s, "bot@example.jp", "nightly export", ["read"],
                                         T0 + timedelta(days=90))  # fmt: skip
        token_id = row.id
        with pytest.raises(BansoError, match="Scopes must be one or more of: read, write, events"):
            tokens.create_token(s, "bot@example.jp", "x", ["admin"], None)
    with session_scope() as s:
        stored = s.scalar(select(ApiToken))
        assert stored is not None and stored.token_hash != token and len(stored.token_hash) == 64
        assert stored.hint == token[:10] and stored.scopes == "read"
        user, scopes = tokens.token_user(s, token, now=T0)
        assert user.email == "bot@example.jp" and scopes == "read"
        with pytest.raises(LookupError):
            tokens.token_user(s, token + "x", now=T0)
        with pytest.raises(LookupError):
            tokens.token_user(s, token, now=T0 + timedelta(days=90))
        assert tokens.token_status(stored, T0 + timedelta(days=91)) == "expired"
    with session_scope() as s:
        assert s.scalar(select(ApiToken.last_used_at)) is None  # reading a token writes nothing
        tokens.record_use(s, token, now=T0)
    with session_scope() as s:
        assert s.scalar(select(ApiToken.last_used_at)) is not None
        tokens.revoke_token(s, token_id)
    with session_scope() as s:
        with pytest.raises(LookupError):
            tokens.token_user(s, token, now=T0)
        assert tokens.list_tokens(s) == []
        assert [t.status for t in tokens.list_tokens(s, include_ended=True)] == ["revoked"]
    assert [a[1] for a in _actions()] == ["user.create", "token.create", "token.revoke"]


def test_scopes_decide_methods_and_paths() -> None:
    assert tokens.scope_allows("read", "GET", "/api/accounts")
    assert not tokens.scope_allows("read", "POST", "/api/accounts/1/activities")
    assert not tokens.scope_allows("read", "POST", "/api/events")
    assert tokens.scope_allows("events", "POST", "/api/events")
    assert not tokens.scope_allows("events", "GET", "/api/accounts")
    assert not tokens.scope_allows("events", "POST", "/api/accounts/1/activities")
    assert tokens.scope_allows("write", "POST", "/api/accounts/1/activities")
    assert tokens.scope_allows("write", "POST", "/api/events")
    assert not tokens.scope_allows("write", "GET", "/api/accounts")


def test_users_cli_create_set_password_role_and_tokens(cli) -> None:  # type: ignore[no-untyped-def]
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
    assert "Created user aoi@example.jp (Viewer)." in created.stdout
    changed = cli("users", "set-password", "aoi@example.jp", "--password", "second-pass")
    assert "Password changed for aoi@example.jp." in changed.stdout
    assert service.sign_in("aoi@example.jp", "second-pass", address=None).name == "Aoi"
    role = cli("users", "set-role", "aoi@example.jp", "ops")
    assert role.exit_code == 0 and "aoi@example.jp is now CS operations." in role.stdout
    issued = cli("users", "tokens", "create", "aoi@example.jp", "--name", "bi", "--scope", "read",
                 "--scope", "events", "--days", "30")  # fmt: skip
    assert issued.exit_code == 0, issued.stderr
    assert issued.stdout.startswith("bns_")
    with session_scope() as s:
        user, scopes = tokens.token_user(s, issued.stdout.strip())
        assert user.email == "aoi@example.jp" and scopes == "read events"
    listed = cli("users", "tokens", "list", "--format", "json")
    [item] = json.loads(listed.stdout)
    assert (item["user"], item["name"], item["scopes"], item["status"]) == (
        "aoi@example.jp", "bi", "read events", "active")  # fmt: skip
    assert issued.stdout.strip() not in listed.stdout
    revoked = cli("users", "tokens", "revoke", str(item["id"]))
    assert f"Revoked API token {item['id']} (bi)." in revoked.stdout
    assert "No API tokens." in cli("users", "tokens", "list").stdout
    assert "  Revoked\n" in cli("users", "tokens", "list", "--all").stdout
    assert cli("users", "tokens", "revoke", "999").exit_code == 2
    bad = cli("users", "create", "x@example.jp", "--role", "owner", "--password", "long-enough")
    assert bad.exit_code == 2
    assert "Role must be one of: admin, ops, csm, viewer." in bad.stderr
    audit = cli("audit", "list", "--action", "token.", "--format", "json")
    assert [e["action"] for e in json.loads(audit.stdout)] == ["token.revoke", "token.create"]


def test_an_unknown_email_costs_one_password_hash_check_like_a_known_one(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with session_scope() as s:
        service.create_user(s, "ken@example.jp", name="Ken", role="csm", password="right-pass")
    checked: list[str] = []
    verify = service._verify

    def counting(password_hash: str, password: str) -> bool:
        checked.append("dummy" if password_hash == service._DUMMY_HASH else "user")
        return verify(password_hash, password)

    monkeypatch.setattr(service, "_verify", counting)
    for email in ("ken@example.jp", "nobody@example.jp"):
        with pytest.raises(service.SignInRefused):
            service.sign_in(email, "wrong-pass", address=None)
    assert checked == ["user", "dummy"]
