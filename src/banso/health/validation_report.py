"""The latest validation report, kept for the Health page in
``BANSO_HOME/health/validation/latest.json``.

Validation reads every daily snapshot (seconds on the demo world, minutes at 100,000 accounts),
so no page computes it: ``banso health validate`` stores what it computed, and ``banso run``
recomputes it when the stored one is more than a week old or missing. The file is written to a
temporary file and renamed, so a reader sees the old report or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from banso.errors import BansoError
from banso.health import snapshots
from banso.health.scorecard import Scorecard
from banso.i18n import _

MAX_AGE = timedelta(days=7)
"""``banso run`` recomputes a stored report older than this."""
DEFAULT_HORIZON_DAYS = 90


class StoredReportUnreadable(BansoError):
    """``latest.json`` is not a report this version wrote (edited by hand, or truncated)."""


@dataclass(frozen=True)
class StoredReport:
    computed_at: datetime
    """When it was computed, aware UTC."""
    horizon_days: int
    start: date | None
    """``--from`` as given; None: from the first scored day."""
    end: date | None
    """``--to`` as given; None: up to the last day with a complete horizon."""
    scorecard: str
    report: dict[str, Any]
    """``validation.validate``'s result (keys in docs/health.md); the window actually used is
    its ``first_day`` and ``last_day``."""


def report_path() -> Path:
    return snapshots.snapshot_dir() / "validation" / "latest.json"


def compute(
    app_db: Engine,
    cards: list[Scorecard],
    start: date | None,
    end: date | None,
    horizon_days: int,
    now: datetime | None = None,
) -> StoredReport:
    """Validate the report's scorecard over ``[start, end]`` and store the result."""
    from banso.health import validation  # scikit-learn: imported by whoever computes, only

    card = report_scorecard(cards)
    obs = validation.observations(app_db, start, end, horizon_days)
    stored = StoredReport(
        now or datetime.now(UTC),
        horizon_days,
        start,
        end,
        card.name,
        validation.validate(obs, card),
    )
    save(stored)
    return stored


def report_scorecard(cards: list[Scorecard]) -> Scorecard:
    """The scorecard the report judges: the one named ``default``, else the first."""
    return next((c for c in cards if c.name == "default"), cards[0])


def refresh_if_stale(
    app_db: Engine, cards: list[Scorecard], now: datetime | None = None
) -> StoredReport | None:
    """Recompute the stored report over all complete history when it is missing, unreadable
    or more than ``MAX_AGE`` old, keeping its horizon (90 days when there is none). Nothing
    happens (None) while the report is fresh or no scored account-day has a complete horizon
    yet."""
    now = now or datetime.now(UTC)
    try:
        current = latest()
    except StoredReportUnreadable:
        current = None  # replaced below by a report this version can read
    if current is not None and now - current.computed_at <= MAX_AGE:
        return None
    horizon = current.horizon_days if current else DEFAULT_HORIZON_DAYS
    days = snapshots.scored_days()
    if not days or days[0] + timedelta(days=horizon) > days[-1]:
        return None
    from banso.health.validation import NoObservations

    try:
        return compute(app_db, cards, None, None, horizon, now)
    except NoObservations:
        return None  # the complete days scored nobody: nothing to judge yet


def latest() -> StoredReport | None:
    """The stored report; None when there is none yet."""
    path = report_path()
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        computed_at = datetime.fromisoformat(data["computed_at"])
        if computed_at.tzinfo is None:
            raise ValueError("computed_at has no time zone")
        return StoredReport(
            computed_at,
            int(data["horizon_days"]),
            _day(data["from"]),
            _day(data["to"]),
            str(data["scorecard"]),
            dict(data["report"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise StoredReportUnreadable(
            _(
                "The stored validation report {path} cannot be read ({reason}); "
                "`banso health validate` replaces it.",
                path=path,
                reason=exc,
            )
        ) from exc


def save(stored: StoredReport) -> Path:
    """Write ``latest.json`` atomically: a temporary file in the same folder, renamed over."""
    path = report_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "computed_at": stored.computed_at.astimezone(UTC).isoformat(),
        "horizon_days": stored.horizon_days,
        "from": stored.start.isoformat() if stored.start else None,
        "to": stored.end.isoformat() if stored.end else None,
        "scorecard": stored.scorecard,
        "report": stored.report,
    }
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".latest.", suffix=".json.tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=1)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
