"""One import at a time per data directory and database.

Two imports of overlapping files running together both see a record as new and both insert it:
the second died on the ``(source, external_id)`` unique constraint with a traceback. An import
therefore holds a lock from its first read until its transaction ends (committed or rolled back
by the caller): an exclusive ``flock`` on ``BANSO_HOME/import.lock``, which the operating system
drops when the holding process ends, so a crashed import never blocks the next one; and on
PostgreSQL also a transaction-level advisory lock, for servers sharing one database from
different data directories. A second import is refused at once with a sentence saying so.
"""

from __future__ import annotations

import fcntl
import os
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.orm import Session, SessionTransaction

from banso.config import get_settings
from banso.errors import BansoError
from banso.i18n import _

LOCK_FILE = "import.lock"
ADVISORY_KEY = 0x62616E736F  # "banso": the PostgreSQL advisory lock of imports
_HELD = "banso_import_lock_fd"
_LISTENING = "banso_import_lock_listening"


class ImportBusy(BansoError):
    """Another import is running; nothing was read or written."""


def hold_import_lock(session: Session, file_name: str) -> None:
    """Take the import lock for the rest of ``session``'s transaction, or raise ``ImportBusy``.

    Re-entrant: a second import in the same transaction keeps the lock it already holds.
    """
    if _HELD in session.info:
        return
    home = get_settings().home
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(home / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 1000, 0).decode("utf-8", errors="replace").strip()
        os.close(fd)
        raise _busy(holder) from None
    os.ftruncate(fd, 0)
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    os.pwrite(fd, f"{file_name}, started {started}, process {os.getpid()}\n".encode(), 0)
    # the lock lives exactly as long as the transaction: begin it now, so that even an import
    # refused before its first query ends one (and releases the lock) when the caller rolls back
    session.info[_HELD] = fd
    if not session.info.get(_LISTENING):
        event.listen(session, "after_transaction_end", _release_at_end)
        session.info[_LISTENING] = True
    try:
        connection = session.connection()
        if connection.dialect.name == "postgresql":
            statement = text("SELECT pg_try_advisory_xact_lock(:key)")
            taken = connection.scalar(statement, {"key": ADVISORY_KEY})
            if not taken:
                raise _busy("")
    except BaseException:
        _release(session)
        raise


def _busy(holder: str) -> ImportBusy:
    if holder:
        return ImportBusy(
            _(
                "Another import is running ({holder}); try again when it has finished.",
                holder=holder,
            )
        )
    return ImportBusy(_("Another import is running; try again when it has finished."))


def _release_at_end(session: Session, transaction: SessionTransaction, *_args: Any) -> None:
    if transaction.parent is None:
        _release(session)


def _release(session: Session) -> None:
    fd = session.info.pop(_HELD, None)
    if fd is not None:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
