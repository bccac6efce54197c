"""App database: engine and session factory; the declarative base is ``banso.orm.Base``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from banso import data_versions
from banso.config import get_settings
from banso.errors import BansoError
from banso.i18n import _
from banso.orm import Base as Base  # models import the base from here


def utcnow() -> datetime:
    return datetime.now(UTC)


_engines: dict[str, Engine] = {}


def get_engine(url: str | None = None) -> Engine:
    """One engine per URL for the process; SQLite gets WAL and foreign keys."""
    url = url or get_settings().db_url
    engine = _engines.get(url)
    if engine is None:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"timeout": 30})
            if engine.url.database and not engine.url.database.startswith(":"):
                _create_private_file(Path(engine.url.database))
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(url, pool_pre_ping=True)
        data_versions.install(engine)
        _engines[url] = engine
    return engine


def _create_private_file(path: Path) -> None:
    """Create a missing SQLite database file readable by its owner only (SQLite gives its WAL
    and shared-memory files the same mode), in folders Banso creates owner-only too."""
    if path.exists():
        return
    missing = [p for p in [path.parent, *path.parent.parents] if not p.exists()]
    try:
        for directory in reversed(missing):
            directory.mkdir(mode=0o700, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass  # another process created it first
    except OSError as error:  # a file where a folder should be, no permission, a full disk
        raise BansoError(
            _(
                "The database {path} cannot be created: {reason}.",
                path=path,
                reason=error.strerror or error,
            )
        ) from None


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def dispose_engines() -> None:
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """The caller's unit of work: commits on success, rolls back whole on any error."""
    session = sessionmaker(bind=get_engine(url), expire_on_commit=False)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
