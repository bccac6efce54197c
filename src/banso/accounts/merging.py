"""What other domains move when two accounts merge.

``flows.merge.merge_accounts`` moves what accounts owns and the history tables it reads
(identities, contacts, subscriptions, tickets, survey responses, activities, deals, invoices);
every domain that keeps more per account registers a step at import, ``@merge_step("ctas")``,
in a module of its own. Which modules those are is listed above the domains, as entry points of
the ``banso.account_merge`` group in ``pyproject.toml``; ``registered_steps`` imports them all
before a merge, so a merge moves the same rows whatever the process happened to import (a CLI
command, a test, a worker), and this package never names a domain above it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from importlib.metadata import entry_points

from sqlalchemy import Table, update
from sqlalchemy.orm import Session

ENTRY_POINT_GROUP = "banso.account_merge"

MergeStep = Callable[[Session, int, int], int]
"""``(session, keep_id, other_id) -> rows moved``: move what the step's domain keeps for account
``other_id`` to ``keep_id``, in the caller's transaction."""

_steps: dict[str, MergeStep] = {}
_loaded = False
_loading = threading.Lock()


def merge_step(name: str) -> Callable[[MergeStep], MergeStep]:
    """Register ``step`` under ``name`` (one per name; registering again replaces it)."""

    def register(step: MergeStep) -> MergeStep:
        _steps[name] = step
        return step

    return register


def registered_steps() -> dict[str, MergeStep]:
    """Every registered step by name, after importing every module the entry points list."""
    global _loaded
    with _loading:
        if not _loaded:
            for entry in entry_points(group=ENTRY_POINT_GROUP):
                entry.load()
            _loaded = True
    return dict(sorted(_steps.items()))


def move_rows(session: Session, table: Table, keep_id: int, other_id: int) -> int:
    """Point every row of ``table`` (an ``account_id`` column) at ``keep_id``; returns rows."""
    result = session.execute(
        update(table).where(table.c.account_id == other_id).values(account_id=keep_id)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
