"""Sign-in throttling: failed attempts counted per e-mail and client address, in the database.

An attempt is counted *before* its password is checked, in a transaction of its own that locks
the counter rows, so guesses sent in parallel (several workers, several threads) each see the
ones before them. After a key's free failures, each further attempt must wait ``2**n`` seconds
after the last wrong password (capped); attempts during the wait are refused unchecked.

Three keys, so that guessing at someone's password from one place slows down that place, not
the person: ``pair:`` (this e-mail from this address) is slowed after 5 failures; ``address:``
(every e-mail from this address) after 20; ``account:`` (this e-mail from anywhere, i.e. many
addresses at once) after 25, and by at most 5 minutes, so that nobody can keep a user out.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from banso.users.models import SignInThrottle

FREE_FAILURES = {"pair": 5, "address": 20, "account": 25}
"""Failures allowed without delay, by kind of key (offices share one address)."""
MAX_DELAY = {
    "pair": timedelta(minutes=15),
    "address": timedelta(minutes=15),
    "account": timedelta(minutes=5),
}
FORGET_AFTER = timedelta(hours=1)
"""Failures older than this no longer count."""


def keys_for(email: str, address: str | None) -> list[str]:
    """The counters an attempt to sign in as ``email`` from ``address`` falls under."""
    email = email.strip().lower()
    keys = [f"account:{email}"[:400], f"pair:{address or ''}|{email}"[:400]]
    if address:
        keys.append(f"address:{address}"[:400])
    return keys


def claim_attempt(session: Session, keys: list[str], now: datetime) -> timedelta | None:
    """Count one attempt under ``keys``; or, while a delay runs, the time left (not counted)."""
    keys = sorted(keys)  # one lock order for every request, so two attempts never deadlock
    for key in keys:
        _lock_row(session, key)
    rows = list(session.scalars(select(SignInThrottle).where(SignInThrottle.key.in_(keys))))
    waits = [
        next_at - now
        for row in rows
        if (next_at := _aware(row.next_attempt_at)) is not None and next_at > now
    ]
    if waits:
        return max(waits)
    for row in rows:
        last = _aware(row.last_failure_at)
        if last is None or now - last > FORGET_AFTER:
            row.failures = 0
        row.failures += 1
        row.last_failure_at = now
        _delay_after_failure(row, now)
    session.flush()
    return None


def attempt_failed(session: Session, keys: list[str], now: datetime) -> None:
    """The claimed attempt had a wrong password: the delay runs from now, when it is known
    (checking the hash takes time, and the guesses that came meanwhile were already refused)."""
    for key in sorted(keys):
        row = session.get(SignInThrottle, key, with_for_update=True)
        if row is not None:
            _delay_after_failure(row, now)
    session.flush()


def attempt_succeeded(session: Session, keys: list[str], now: datetime) -> None:
    """The claimed attempt had the right password: the e-mail's counters start afresh; the
    address takes back this one attempt (a valid account must not wash its guesses away).
    Counters whose failures are all forgotten are deleted, so typed junk does not pile up."""
    session.execute(
        delete(SignInThrottle).where(
            SignInThrottle.last_failure_at < now - FORGET_AFTER,
            (SignInThrottle.next_attempt_at.is_(None)) | (SignInThrottle.next_attempt_at < now),
            SignInThrottle.key.not_in(keys),
        )
    )
    for key in sorted(keys):
        row = session.get(SignInThrottle, key, with_for_update=True)
        if row is None:
            continue
        if _kind(key) == "address":
            row.failures = max(row.failures - 1, 0)
            if row.failures < FREE_FAILURES["address"]:
                row.next_attempt_at = None
        else:
            row.failures = 0
            row.next_attempt_at = None
    session.flush()


def clear_account(session: Session, email: str) -> None:
    """Forget the failures counted against ``email`` (an admin has set a new password)."""
    email = email.strip().lower()
    session.execute(
        update(SignInThrottle)
        .where(
            (SignInThrottle.key == f"account:{email}")
            | (
                SignInThrottle.key.startswith("pair:")
                & SignInThrottle.key.endswith(f"|{email}", autoescape=True)
            )
        )
        .values(failures=0, next_attempt_at=None)
    )


def _delay_after_failure(row: SignInThrottle, now: datetime) -> None:
    kind = _kind(row.key)
    over = row.failures - FREE_FAILURES[kind]
    if over < 0:
        return
    until = now + min(timedelta(seconds=2 ** min(over + 1, 20)), MAX_DELAY[kind])
    current = _aware(row.next_attempt_at)
    row.next_attempt_at = until if current is None or current < until else current


def _kind(key: str) -> str:
    return key.split(":", 1)[0]


def _lock_row(session: Session, key: str) -> None:
    # Insert-if-missing then a no-op UPDATE: the UPDATE holds the row lock (PostgreSQL) or the
    # database write lock (SQLite) until this transaction commits. A SELECT … FOR UPDATE would
    # not lock anything on SQLite, whose plain reads never block.
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(SignInThrottle)
        .values(key=key, failures=0)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    session.execute(
        update(SignInThrottle)
        .where(SignInThrottle.key == key)
        .values(failures=SignInThrottle.failures)
        .execution_options(synchronize_session=False)
    )


def _aware(value: datetime | None) -> datetime | None:
    # SQLite returns naive datetimes for DateTime(timezone=True); they were stored as UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
