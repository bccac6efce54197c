"""The health of the book on the latest scored day: band distribution, its weekly trend, the
accounts at risk and how many changed band; read from the snapshots once per state of their files.
The Health page and the dashboard show it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.health import service as health_service
from banso.health import snapshots
from banso.team.models import TeamMember

BANDS = ("green", "yellow", "red")
TREND_WEEKS = 12
AT_RISK_ROWS = 50


@dataclass(frozen=True)
class BandTrend:
    days: list[str]
    counts: dict[str, list[int]]
    """band -> accounts in that band on each day of ``days``."""


@dataclass(frozen=True)
class RiskRow:
    account_id: int
    name: str
    owner: str | None
    score: float | None
    band_from: str | None
    """Band a week earlier (None when it was not scored then)."""


@dataclass(frozen=True)
class HealthOverview:
    day: date
    distribution: dict[str, int]
    trend: BandTrend
    at_risk: list[RiskRow]
    changes: int
    """Accounts whose band changed over the last 7 days."""


def health_overview(session: Session) -> HealthOverview | None:
    """Health of the book on the latest scored day; None before any scoring."""
    summary = _snapshot_summary(_fingerprint())
    if summary is None:
        return None
    names = _names(session, [r["account_id"] for r in summary.red])
    at_risk = [
        RiskRow(
            r["account_id"],
            names.get(r["account_id"], ("", None))[0],
            names.get(r["account_id"], ("", None))[1],
            r["score"],
            summary.changed.get(r["account_id"], {}).get("band_from", r["band"]),
        )
        for r in summary.red
    ]
    return HealthOverview(
        summary.day, summary.distribution, summary.trend, at_risk, len(summary.changed)
    )


def latest_scores(ids: set[int]) -> dict[int, tuple[float | None, str | None]]:
    """(score, band) on the latest scored day of those of ``ids`` that were scored then."""
    summary = _snapshot_summary(_fingerprint())
    if summary is None:
        return {}
    return {i: summary.scores[i] for i in ids if i in summary.scores}


def _fingerprint() -> tuple[tuple[str, int, int], ...]:
    """Name, size and modification time of every day's snapshot file: changes whenever a day
    is scored, rescored or removed (files are replaced by rename, so the stat is fresh)."""
    out = []
    for path in sorted(snapshots.snapshot_dir().glob("date=*/scores.parquet")):
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue  # quarantined (or replaced) since the listing
        out.append((str(path), stat.st_size, stat.st_mtime_ns))
    return tuple(out)


@dataclass(frozen=True)
class _Summary:
    day: date
    distribution: dict[str, int]
    trend: BandTrend
    red: list[dict[str, Any]]
    changed: dict[int, dict[str, Any]]
    scores: dict[int, tuple[float | None, str | None]]


@lru_cache(maxsize=2)
def _snapshot_summary(fingerprint: tuple[tuple[str, int, int], ...]) -> _Summary | None:
    """What the overview reads from the snapshot files, computed once per state of those files
    (``fingerprint``: each day file's name, size and modification time)."""
    days = snapshots.scored_days()
    if not days:
        return None
    latest = days[-1]
    current = health_service.current_scores().select(["account_id", "score", "band"]).to_pylist()
    week_ago = latest - timedelta(days=7)
    changed = {c["account_id"]: c for c in health_service.band_changes(since=week_ago)}
    red = sorted(
        (r for r in current if r["band"] == "red"),
        key=lambda r: (r["score"] is None, r["score"] or 0.0),
    )[:AT_RISK_ROWS]
    scores = {r["account_id"]: (r["score"], r["band"]) for r in current}
    return _Summary(latest, _count(current), band_trend(days), red, changed, scores)


def band_trend(days: list[date], weeks: int = TREND_WEEKS) -> BandTrend:
    """Accounts per band on the latest scored day and on each of the ``weeks`` weeks before."""
    scored = set(days)
    wanted = [days[-1] - timedelta(weeks=w) for w in range(weeks, -1, -1)]
    picked = [d for d in wanted if d in scored]
    counts: dict[str, list[int]] = {b: [] for b in BANDS}
    for day in picked:
        table = snapshots.read(start=day, end=day, columns="band")
        by_band = _count(table.to_pylist())
        for band in BANDS:
            counts[band].append(by_band.get(band, 0))
    return BandTrend([d.isoformat() for d in picked], counts)


def _count(rows: list[dict[str, Any]]) -> dict[str, int]:
    counter = Counter(r["band"] for r in rows if r["band"])
    return {band: counter.get(band, 0) for band in BANDS}


def _names(session: Session, ids: list[int]) -> dict[int, tuple[str, str | None]]:
    if not ids:
        return {}
    rows = session.execute(
        select(Account.id, Account.name, TeamMember.name)
        .outerjoin(TeamMember, TeamMember.id == Account.owner_id)
        .where(Account.id.in_(ids))
    ).all()
    return {i: (n, o) for i, n, o in rows}
