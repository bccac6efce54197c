"""When two accounts merge, the merged one's CTAs, playbook firings and outbox messages move to
the kept one. Where both hold the same thing the kept account's stands: the other's firing of
the same playbook on the same day is dropped, and its open CTA for the same playbook and reason
is closed as not needed (CTAs keep their history). Registered with ``accounts.merging`` through
the ``banso.account_merge`` entry point."""

from __future__ import annotations

from sqlalchemy import Table, delete, exists, update
from sqlalchemy.orm import Session

from banso.accounts.merging import merge_step, move_rows
from banso.db import utcnow
from banso.messaging.models import OutboxMessage
from banso.playbooks.models import Cta, PlaybookFiring


@merge_step("playbook_firings")
def move_firings(session: Session, keep_id: int, other_id: int) -> int:
    firings: Table = PlaybookFiring.__table__  # type: ignore[assignment]
    kept = firings.alias("kept")
    session.execute(
        delete(firings).where(
            firings.c.account_id == other_id,
            exists().where(
                kept.c.account_id == keep_id,
                kept.c.playbook == firings.c.playbook,
                kept.c.day == firings.c.day,
            ),
        )
    )
    return move_rows(session, firings, keep_id, other_id)


@merge_step("ctas")
def move_ctas(session: Session, keep_id: int, other_id: int) -> int:
    ctas: Table = Cta.__table__  # type: ignore[assignment]
    kept = ctas.alias("kept")
    session.execute(
        update(ctas)
        .where(
            ctas.c.account_id == other_id,
            ctas.c.status == "open",
            exists().where(
                kept.c.account_id == keep_id,
                kept.c.status == "open",
                kept.c.playbook == ctas.c.playbook,
                kept.c.reason == ctas.c.reason,
            ),
        )
        .values(
            status="closed",
            outcome="not_needed",
            outcome_note=f"merged into account {keep_id}, which has the same CTA open",
            closed_at=utcnow(),
        )
    )
    return move_rows(session, ctas, keep_id, other_id)


@merge_step("outbox_messages")
def move_outbox(session: Session, keep_id: int, other_id: int) -> int:
    table: Table = OutboxMessage.__table__  # type: ignore[assignment]
    return move_rows(session, table, keep_id, other_id)
