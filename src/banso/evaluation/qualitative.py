"""The qualitative axis: the score (0-100) a manager gives a CSM for a period, with a note.
Entering a score again replaces it; every entry is audited (``team.qualitative``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.audit import service as audit
from banso.db import utcnow
from banso.errors import InvalidValue, NotFound
from banso.evaluation.models import QualitativeScore
from banso.evaluation.periods import Period
from banso.i18n import _
from banso.team.models import TeamMember

MAX_NOTE = 2000


def set_qualitative(
    session: Session, member_id: int, period: Period, score: int, note: str | None
) -> QualitativeScore:
    """Record ``member_id``'s qualitative score for ``period`` (replacing an earlier one)."""
    if session.get(TeamMember, member_id) is None:
        raise NotFound(_("There is no team member with id {id}.", id=member_id))
    if not 0 <= score <= 100:
        raise InvalidValue(
            "score", _("A qualitative score is from 0 to 100; got {value}.", value=score)
        )
    note = (note or "").strip() or None
    if note is not None and len(note) > MAX_NOTE:
        raise InvalidValue("note", _("A note has at most {n} characters.", n=MAX_NOTE))
    row = session.scalar(
        select(QualitativeScore).where(
            QualitativeScore.team_member_id == member_id, QualitativeScore.period == period.label
        )
    )
    before = None if row is None else {"score": row.score, "note": row.note}
    actor = audit.current_actor().name or "anonymous"
    if row is None:
        row = QualitativeScore(team_member_id=member_id, period=period.label)
        session.add(row)
    row.score, row.note, row.entered_by, row.entered_at = score, note, actor, utcnow()
    session.flush()
    audit.record(
        session,
        "team.qualitative",
        f"team_member:{member_id}",
        period=period.label,
        score=score,
        note=note,
        before=before,
    )
    return row


def qualitative_scores(
    session: Session, member_ids: list[int], period: Period
) -> dict[int, QualitativeScore]:
    """The scores entered for ``period``, by member."""
    rows = session.scalars(
        select(QualitativeScore).where(
            QualitativeScore.team_member_id.in_(member_ids),
            QualitativeScore.period == period.label,
        )
    )
    return {r.team_member_id: r for r in rows}
