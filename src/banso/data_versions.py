"""Data versions: a counter per family of tables, raised in the same transaction as any write.

Derived results that are slow to compute (the revenue reports behind the dashboard) are cached
under the version of the tables they read; a cached entry is valid exactly while the version is
unchanged. The counter is raised by an engine hook that sees every statement SQLAlchemy sends,
the ORM's, Core's and the bulk importer's raw driver SQL alike, so no write path can forget it.
It is raised once per transaction, before the first write to a watched table, on a separate
cursor of the same connection: a rolled-back write rolls its raise back with it.
"""

from __future__ import annotations

import re

from sqlalchemy import BigInteger, String, event, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Mapped, Session, mapped_column

from banso.orm import Base

REVENUE = "revenue"
HEALTH = "health"
WATCHED: dict[str, tuple[str, ...]] = {
    # what revenue reports read: lines, FX rates, and the accounts/owners they break down by
    REVENUE: (
        "subscriptions",
        "fx_rates",
        "accounts",
        "account_ownerships",
        "team_members",
        "account_merges",
    ),
    # what a day's health score reads besides the events (health.inputs.APP_TABLES, FX rates
    # for MRR, the overrides applied to scores)
    HEALTH: (
        "accounts",
        "subscriptions",
        "fx_rates",
        "tickets",
        "survey_responses",
        "activities",
        "contacts",
        "program_sessions",
        "program_enrolments",
        "csm_pulses",
        "health_overrides",
        "account_merges",
    ),
}
"""Family name -> the tables whose writes change it."""

_WRITE = re.compile(
    r"^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM|TRUNCATE(?:\s+TABLE)?)"
    r'\s+"?(\w+)"?',
    re.IGNORECASE,
)
_FAMILIES: dict[str, tuple[str, ...]] = {}
for _family, _tables in WATCHED.items():
    for _table in _tables:
        _FAMILIES[_table] = (*_FAMILIES.get(_table, ()), _family)
_INFO_KEY = "banso_raised_versions"


class DataVersion(Base):
    __tablename__ = "data_versions"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


def current(session: Session, name: str) -> int:
    """The family's version now (0 before its tables were first written)."""
    return session.scalar(select(DataVersion.version).where(DataVersion.name == name)) or 0


def families_written(statement: str) -> tuple[str, ...]:
    """The families a SQL statement changes (empty for reads and unwatched tables)."""
    match = _WRITE.match(statement)
    if match is None:
        return ()
    return _FAMILIES.get(match.group(1).lower(), ())


def install(engine: Engine) -> None:
    """Raise the versions of the families every write on ``engine`` touches."""
    event.listen(engine, "before_cursor_execute", _before_execute)
    for name in ("commit", "rollback", "rollback_savepoint"):
        event.listen(engine, name, _forget)
    # a connection can also go back to the pool with its transaction reset there
    event.listen(engine, "checkin", _forget_record)


def _before_execute(conn: Connection, _cursor, statement: str, *_args) -> None:  # type: ignore[no-untyped-def]
    families = families_written(statement)
    if not families:
        return
    raised: set[str] = conn.info.setdefault(_INFO_KEY, set())
    todo = [f for f in families if f not in raised]
    if not todo:
        return
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        for family in todo:
            # literal SQL: the family names are ours, and paramstyles differ between drivers
            cursor.execute(
                "INSERT INTO data_versions (name, version) VALUES "
                f"('{family}', 1) ON CONFLICT (name) "
                "DO UPDATE SET version = data_versions.version + 1"
            )
    finally:
        cursor.close()
    raised.update(todo)


def _forget(conn: Connection, *_args) -> None:  # type: ignore[no-untyped-def]
    conn.info.pop(_INFO_KEY, None)


def _forget_record(_dbapi_connection, record) -> None:  # type: ignore[no-untyped-def]
    if record is not None:
        record.info.pop(_INFO_KEY, None)
