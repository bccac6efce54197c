"""Health operations for the CLI, the web app and playbooks.

Scoring: ``score_days`` computes raw values for a set of days in one set-based pass, scores them
with each account's scorecard, applies overrides and writes one snapshot per day.
Writing the newest day also replaces ``health_current``, the relational copy of each account's
current score and band that the accounts list joins on (``refresh_current``).
Reading: ``current_scores``, ``history``, ``explain``, ``band_changes``.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from banso import data_versions, dates
from banso.accounts.models import Account
from banso.analytics.engines import event_engine
from banso.bulk import bulk_insert
from banso.config import get_settings
from banso.dates import accepted_day, check_day
from banso.db import get_engine
from banso.errors import BansoError
from banso.health import snapshots
from banso.health.inputs import HealthInputs
from banso.health.models import CsmPulse, HealthCurrent, HealthOverride
from banso.health.scorecard import (
    Scorecard,
    choose_scorecard,
    load_scorecards,
    scorecard_files,
)
from banso.health.scoring import score_rows
from banso.i18n import _
from banso.usage import changes as event_changes
from banso.usage import sources as event_sources
from banso.usage.index import fingerprint as files_fingerprint
from banso.usage.metrics import LAST_ACTIVITY_LOOKBACK_DAYS
from banso.usage.service import USAGE_CONFIG
from banso.usage.store import day_of as event_day_of
from banso.usage.store import days as event_days
from banso.usage.store import event_files, merged_accounts, quarantine_unreadable, quarantined

TREND_POINTS = 5.0
"""A score that moved by at least this many points is trending up or down; else flat."""

BATCH_DAYS = 31
"""At most this many days are scored per set-based pass."""

BATCH_ACCOUNT_DAYS = 250_000
"""Account-days per pass: bounds memory on long backfills of large books (each as-of day joins
the 56 days of events before it, so memory grows with accounts x days in a pass)."""

PULSE_DAYS = 30
"""How long a CSM pulse set on the account page counts."""


def scorecards() -> list[Scorecard]:
    return load_scorecards(get_settings().config_path)


def score_days(
    session: Session,
    days: Iterable[date],
    progress: Callable[[int], None] | None = None,
    engine: str | None = None,
) -> int:
    """Score every customer on each of ``days`` and write the day snapshots; returns rows.

    A day outside the accepted window (``dates.accepted_day``) is refused before anything is
    written: its snapshot would be ignored by every reader. An event file the engine cannot read
    is quarantined by the store and the days are scored without it (``usage_warnings`` names the
    days whose usage is then incomplete).

    ``engine``: the analytics engine (``--engine``, else ``BANSO_ANALYTICS_ENGINE``); with
    ``spark`` the usage measures are computed by Spark (``analytics.engines.event_engine``)."""
    days = sorted(set(days))
    for day in days:
        check_day(day, _("day to score"))
    reader = event_engine(engine)
    try:
        return _score_days(session, days, progress, reader)
    except duckdb.Error:
        if not quarantine_unreadable(event_files()):
            raise
        return _score_days(session, days, progress, reader)


def inputs_fingerprint(
    session: Session, day: date, listing: list[Path] | None = None
) -> str | None:
    """A fingerprint of everything the health score of ``day`` is computed from, as
    ``<app and configuration>:<events>``: the app tables (the ``health`` data version, raised
    by every write to them), the scorecards and ``usage.yaml``, the company's zone and
    reporting currency; then the event files of the UTC days its usage measures read (names,
    sizes, modification times: a late import or a compaction changes it), of ``listing`` when
    given (the store's files as listed once), else as listed now. None with an external event
    source (``events.yaml``), whose files Banso cannot cheaply tell changed: such days are
    always rescored."""
    if event_sources.external_source() is not None:
        return None
    settings = get_settings()
    app = hashlib.sha256()
    version = data_versions.current(session, data_versions.HEALTH)
    app.update(f"{day}|{version}|{settings.timezone}|{settings.reporting_currency}\n".encode())
    config = [*scorecard_files(settings.config_path), settings.config_path / USAGE_CONFIG]
    for path in config:
        if path.exists():
            app.update(f"{path.name}:".encode() + path.read_bytes() + b"\n")
    first = day - timedelta(days=LAST_ACTIVITY_LOOKBACK_DAYS + 1)
    last = day + timedelta(days=1)
    if listing is None:
        files = event_files(first=first, last=last)
    else:
        files = [f for f in listing if first <= event_day_of(f) <= last]
    return f"{app.hexdigest()[:32]}:{files_fingerprint(files)}"


def unchanged_days(session: Session, days: Iterable[date]) -> list[date]:
    """Those of ``days`` whose snapshot was scored from the inputs there are now: scoring
    them again would write the same rows (``banso run`` skips them)."""
    return [
        d
        for d in sorted(set(days))
        if (kept := snapshots.inputs_of(d)) is not None and kept == inputs_fingerprint(session, d)
    ]


def only_events_changed(session: Session, day: date, fingerprint: str | None) -> bool:
    """Whether ``day``'s snapshot was scored from the app tables and configuration there are
    now, and only event files differ from ``fingerprint``'s (new ones: a late import, the
    API). Then the accounts those files touch are all that can have changed on the day."""
    kept = snapshots.inputs_of(day)
    if kept is None or fingerprint is None:
        return False
    return kept != fingerprint and kept.split(":")[0] == fingerprint.split(":")[0]


EVENTS_SEEN = "events_seen.json"
"""``BANSO_HOME/health/events_seen.json``: the event files the snapshots were last scored from
(``date=…/part-….parquet``), so that a run can tell which files a late import added."""


@dataclass
class LateEvents:
    """What the event files added since the last run change in the days already scored."""

    stale: dict[date, set[int]]
    """Scored days -> the accounts whose health the new files change."""
    seen: list[str]
    """The store's files now: recorded (``record_seen_events``) once the run has scored."""
    fingerprints: dict[date, str | None] = field(default_factory=dict)
    """Inputs fingerprints (of the same listing) for days whose snapshot becomes whole again
    once their stale accounts are rescored (the run's day when only events changed)."""


def late_events(session: Session, day: date) -> LateEvents:
    """The scored days before ``day`` whose usage measures the event files new since the last
    run change, with exactly the accounts they change (``usage.changes.stale_days``): a late
    import into day E marks E..E+55 of its accounts, and up to their next active day for the
    days since last activity. ``day`` itself too when it was scored and only event files
    changed since (``only_events_changed``). Nothing on the first run (no ledger yet) or with
    an external event source."""
    if event_sources.external_source() is not None:
        return LateEvents({}, [])
    listing = event_files()
    now = [event_changes.key(f) for f in listing]
    ledger = snapshots.snapshot_dir() / EVENTS_SEEN
    if not ledger.exists():
        return LateEvents({}, now)
    seen = set(json.loads(ledger.read_text(encoding="utf-8")))
    fresh = event_changes.new_files(seen, listing)
    scored = {d for d in snapshots.scored_days() if d < day}
    fingerprints: dict[date, str | None] = {}
    fingerprint = inputs_fingerprint(session, day, listing)
    if event_changes.only_added(seen, listing) and only_events_changed(session, day, fingerprint):
        # new files, or the same rows in other files (a compaction): either way only the
        # accounts of the new rows can have changed on the day
        scored.add(day)
        fingerprints[day] = fingerprint
    if not fresh or not scored:
        return LateEvents({day: set()} if fingerprints else {}, now, fingerprints)
    stale = event_changes.stale_days(fresh, get_settings().timezone, max(scored), merged_accounts())
    stale = {d: a for d, a in stale.items() if d in scored}
    if day in fingerprints and day not in stale:
        stale[day] = set()  # the new files change no account on the day: keep it as scored
    return LateEvents(stale, now, fingerprints)


def record_seen_events(seen: list[str]) -> None:
    """Keep the listing ``late_events`` took as the files the snapshots are scored from."""
    ledger = snapshots.snapshot_dir() / EVENTS_SEEN
    ledger.parent.mkdir(parents=True, exist_ok=True)
    tmp = ledger.with_name(f".{uuid.uuid4().hex}.tmp")
    tmp.write_text(json.dumps(seen), encoding="utf-8")
    tmp.replace(ledger)


def rescore_accounts(
    session: Session,
    stale: dict[date, set[int]],
    progress: Callable[[int], None] | None = None,
    fingerprints: dict[date, str | None] | None = None,
) -> int:
    """Score again only the given accounts on each given day and put their rows in place of
    the old ones in that day's snapshot (the other accounts' rows stay as they are); returns
    the rows written. A day's inputs fingerprint is dropped (its other rows were scored from
    the inputs of their time, so a run for that day scores it whole), unless ``fingerprints``
    gives the one its inputs now have (``late_events``: only event files changed)."""
    fingerprints = fingerprints or {}
    for day in [d for d in stale if not stale[d] and d in fingerprints]:
        table = snapshots.day_table(day)  # nothing to rescore: the day is whole as it is
        if table is not None:
            snapshots.write_day(day, table, inputs=fingerprints[day])
    ordered = sorted(d for d in stale if stale[d])
    if not ordered:
        return 0
    cards = scorecards()
    every = sorted(set().union(*(stale[d] for d in ordered)))
    inputs = HealthInputs(get_engine(), accounts=every)
    accounts = {row["id"]: row for row in inputs.accounts().to_pylist()}
    overrides = session.scalars(select(HealthOverride)).all()
    written = 0
    wanted_total = sum(len(stale[d]) for d in ordered)
    per_pass = max(1, min(BATCH_DAYS, BATCH_ACCOUNT_DAYS * len(ordered) // max(1, wanted_total)))
    for i in range(0, len(ordered), per_pass):
        batch = ordered[i : i + per_pass]
        wanted = sorted(set().union(*(stale[d] for d in batch)))
        raw = inputs.raw_values(batch, accounts=wanted)
        for day in batch:
            ids = pa.array(sorted(stale[day]), pa.int64())
            mine = pc.and_(
                pc.equal(raw["day"], pa.scalar(day, pa.date32())), pc.is_in(raw["account_id"], ids)
            )
            day_rows = raw.filter(mine)
            new = _score_table(day, day_rows, cards, accounts, overrides)
            old = snapshots.day_table(day)
            if old is None:
                continue  # set aside meanwhile: the day is scored whole when next needed
            old = old.filter(pc.invert(pc.is_in(old["account_id"], ids)))
            new = pa.concat_tables(
                [old.replace_schema_metadata(None), new], promote_options="default"
            )
            snapshots.write_day(day, new, inputs=fingerprints.get(day))
            written += day_rows.num_rows
            if progress:
                progress(1)
    if _touches_current(ordered):
        refresh_current(session)
    return written


def usage_warnings(days: Iterable[date]) -> list[str]:
    """One sentence per event file set aside as unreadable on a UTC day the usage measures of
    ``days`` read (their 365-day look-back included)."""
    ordered = sorted(days)
    if not ordered:
        return []
    first = ordered[0] - timedelta(days=LAST_ACTIVITY_LOOKBACK_DAYS + 1)
    return [q.message() for q in quarantined(first=first, last=ordered[-1] + timedelta(days=1))]


def _score_days(
    session: Session, days: Iterable[date], progress: Callable[[int], None] | None, engine: str
) -> int:
    ordered = sorted(set(days))
    # taken before the inputs are read: a write meanwhile makes the day look changed (rescored
    # next time), never unchanged
    fingerprints = {day: inputs_fingerprint(session, day) for day in ordered}
    cards = scorecards()
    inputs = HealthInputs(get_engine(), engine=engine)
    accounts = {row["id"]: row for row in inputs.accounts().to_pylist()}
    overrides = session.scalars(select(HealthOverride)).all()
    written = 0
    per_pass = max(1, min(BATCH_DAYS, BATCH_ACCOUNT_DAYS // max(1, len(accounts))))
    for i in range(0, len(ordered), per_pass):
        batch = ordered[i : i + per_pass]
        raw = inputs.raw_values(batch)
        for day in batch:
            day_rows = raw.filter(pc.equal(raw["day"], pa.scalar(day, pa.date32())))
            snapshots.write_day(
                day,
                _score_table(day, day_rows, cards, accounts, overrides),
                inputs=fingerprints[day],
            )
            written += day_rows.num_rows
            if progress:
                progress(1)
    if _touches_current(ordered):
        refresh_current(session)
    return written


def refresh_current(session: Session) -> int:
    """Replace ``health_current`` with the newest scored day's score, band and trends, in the
    caller's transaction; returns the rows written."""
    session.execute(delete(HealthCurrent))
    days = snapshots.scored_days()
    if not days:
        return 0
    last = days[-1]
    today = snapshots.read(
        start=last, end=last, columns="account_id, day, scorecard, score, band, overridden"
    ).to_pylist()
    week_ago, month_ago = last - timedelta(days=7), last - timedelta(days=28)
    earlier: dict[date, dict[int, float | None]] = {week_ago: {}, month_ago: {}}
    for r in snapshots.read(
        only_days=(week_ago, month_ago), columns="account_id, day, score"
    ).to_pylist():
        earlier[r["day"]][r["account_id"]] = r["score"]
    # an account merged away after its day was scored has no row to point at any more
    known = set(session.scalars(select(Account.id)))
    rows = [
        {
            **r,
            "overridden": bool(r["overridden"]),
            "trend_7d": _trend(r["score"], earlier[week_ago].get(r["account_id"])),
            "trend_28d": _trend(r["score"], earlier[month_ago].get(r["account_id"])),
        }
        for r in today
        if r["account_id"] in known
    ]
    bulk_insert(session, HealthCurrent.__table__, rows)
    return len(rows)


def _touches_current(written: list[date]) -> bool:
    """Whether the days just written change ``health_current``: the newest scored day, or the
    days 7 and 28 before it that its trends compare with."""
    days = snapshots.scored_days()
    if not days:
        return False
    newest = days[-1]
    return bool({newest, newest - timedelta(days=7), newest - timedelta(days=28)} & set(written))


def _score_table(
    day: date,
    raw: pa.Table,
    cards: list[Scorecard],
    accounts: dict[int, dict[str, Any]],
    overrides: list[HealthOverride],
) -> pa.Table:
    """One day's snapshot: each account scored with its scorecard, overrides applied."""
    ids = raw["account_id"].to_pylist()
    positions: dict[str, list[int]] = {}
    for pos, account_id in enumerate(ids):
        card = choose_scorecard(cards, accounts.get(account_id, {}))
        if card is not None:
            positions.setdefault(card.name, []).append(pos)
    active = _active_overrides(overrides, day)
    parts = []
    for card in cards:
        if card.name not in positions:
            continue
        sub = raw.take(pa.array(positions[card.name], pa.int64()))
        n = sub.num_rows
        values = {m: _floats(sub[m]) for m in card.measure_names if m in sub.column_names}
        scored = score_rows(card, values, n)
        account_ids = sub["account_id"].to_pylist()
        chosen = [active.get(a) for a in account_ids]
        computed = [_num(v) for v in scored.overall]
        score = [o.score if o else c for o, c in zip(chosen, computed, strict=True)]
        columns: dict[str, pa.Array] = {
            "account_id": pa.array(account_ids, pa.int64()),
            "day": pa.array([day] * n, pa.date32()),
            "scorecard": pa.array([card.name] * n, pa.string()),
            "score": pa.array(score, pa.float64()),
            "band": pa.array([card.band(v) if v is not None else None for v in score]),
            "computed_score": pa.array(computed, pa.float64()),
            "overridden": pa.array([o is not None for o in chosen], pa.bool_()),
            "override_reason": pa.array([o.reason if o else None for o in chosen], pa.string()),
            "mrr": sub["mrr"].combine_chunks().cast(pa.float64()),
        }
        for g, arr in scored.group_score.items():
            columns[f"group__{g}"] = _arrow_floats(arr)
        for m in card.measure_names:
            columns[f"raw__{m}"] = _arrow_floats(values.get(m, np.full(n, math.nan)))
            columns[f"score__{m}"] = _arrow_floats(scored.measure_score[m])
            columns[f"weight__{m}"] = _arrow_floats(scored.measure_weight[m])
        parts.append(pa.table(columns))
    if not parts:
        return pa.table(
            {
                "account_id": pa.array([], pa.int64()),
                "day": pa.array([], pa.date32()),
                "scorecard": pa.array([], pa.string()),
                "score": pa.array([], pa.float64()),
                "band": pa.array([], pa.string()),
                "overridden": pa.array([], pa.bool_()),
            }
        )
    return pa.concat_tables(parts, promote_options="default").sort_by("account_id")


def _arrow_floats(values: np.ndarray) -> pa.Array:
    """Float column with null where NaN (no data)."""
    return pa.array(values, pa.float64(), mask=np.isnan(values))


def _floats(column: pa.ChunkedArray) -> np.ndarray:
    return np.array([math.nan if v is None else float(v) for v in column.to_pylist()], dtype=float)


def _num(value: float) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def _active_overrides(overrides: list[HealthOverride], day: date) -> dict[int, HealthOverride]:
    active: dict[int, HealthOverride] = {}
    for o in sorted(overrides, key=lambda o: o.created_at):
        if o.starts_on <= day < o.expires_on:
            active[o.account_id] = o
    return active


# ---------------------------------------------------------------- reading


@dataclass
class AccountHealth:
    account_id: int
    day: date
    scorecard: str
    score: float | None
    band: str | None
    overridden: bool
    override_reason: str | None
    trend_7d: str | None
    trend_28d: str | None
    groups: dict[str, float | None] = field(default_factory=dict)
    measures: dict[str, dict[str, float | None]] = field(default_factory=dict)


def current_scores(as_of: date | None = None) -> pa.Table:
    """The latest snapshot on or before ``as_of`` (default: the latest): one row per account."""
    days = [d for d in snapshots.scored_days() if as_of is None or d <= as_of]
    if not days:
        return pa.table({})
    return snapshots.read(start=days[-1], end=days[-1])


def history(account_id: int, start: date | None = None, end: date | None = None) -> list[dict]:
    """Daily ``{day, score, band}`` of one account."""
    table = snapshots.read(
        account_id=account_id, start=start, end=end, columns="day, score, band, overridden"
    )
    return table.to_pylist() if table.num_rows else []


TREND_DAYS = 90
TREND_STEP_DAYS = 3
"""The 360's health sparkline: the last 90 days, one point every 3 days (30 files, not 90: the
page stays fast at 100,000 accounts, and a line 30 points long looks the same)."""


def score_trend(
    account_id: int, end: date, days: int = TREND_DAYS, step: int = TREND_STEP_DAYS
) -> list[tuple[date, float | None]]:
    """(day, score) of the account over the ``days`` days up to ``end``, every ``step`` days
    counted back from ``end``; scored days only (a day not scored is left out)."""
    wanted = [end - timedelta(days=back) for back in range(0, days, step)]
    table = snapshots.read(
        account_id=account_id, only_days=wanted, columns="day, score", common_columns=True
    )
    return [(r["day"], r["score"]) for r in table.to_pylist()] if table.num_rows else []


def current_pulse(session: Session, account_id: int, day: date) -> CsmPulse | None:
    """The CSM pulse that counts for the account on ``day`` (given on or before it and not yet
    expired; the newest when several do), as the health score reads it."""
    return session.scalars(
        select(CsmPulse)
        .where(
            CsmPulse.account_id == account_id,
            CsmPulse.rated_on <= day,
            CsmPulse.expires_on > day,
        )
        .order_by(CsmPulse.created_at.desc(), CsmPulse.id.desc())
        .limit(1)
    ).first()


def account_health(account_id: int, as_of: date | None = None) -> AccountHealth | None:
    """Score, band, trend and per-measure breakdown of one account on its latest scored day."""
    days = [d for d in snapshots.scored_days() if as_of is None or d <= as_of]
    if not days:
        return None
    last = snapshots.read_account_day(account_id, days[-1])
    if last is None:
        return None
    # the trend needs only the days 7 and 28 days back: three rows, not a month of files
    by_day = {
        back: row["score"]
        for back in (last["day"] - timedelta(days=7), last["day"] - timedelta(days=28))
        if (row := snapshots.read_account_day(account_id, back)) is not None
    }
    return AccountHealth(
        account_id=account_id,
        day=last["day"],
        scorecard=last["scorecard"],
        score=last["score"],
        band=last["band"],
        overridden=bool(last["overridden"]),
        override_reason=last["override_reason"],
        trend_7d=_trend(last["score"], by_day.get(last["day"] - timedelta(days=7))),
        trend_28d=_trend(last["score"], by_day.get(last["day"] - timedelta(days=28))),
        groups={
            k.removeprefix("group__"): v
            for k, v in last.items()
            if k.startswith("group__") and v is not None
        },
        measures=_measures(last),
    )


def _measures(row: dict[str, Any]) -> dict[str, dict[str, float | None]]:
    out: dict[str, dict[str, float | None]] = {}
    for key, value in row.items():
        if key.startswith("weight__") and value is not None:
            m = key.removeprefix("weight__")
            out[m] = {
                "raw": row.get(f"raw__{m}"),
                "score": row.get(f"score__{m}"),
                "weight": value,
            }
    return out


def _trend(now: float | None, before: float | None) -> str | None:
    if now is None or before is None:
        return None
    if now - before >= TREND_POINTS:
        return "up"
    if before - now >= TREND_POINTS:
        return "down"
    return "flat"


@dataclass
class MeasureChange:
    measure: str
    raw_from: float | None
    raw_to: float | None
    score_from: float | None
    score_to: float | None
    points: float
    """Change of this measure's contribution (effective weight x score) to the overall score."""


@dataclass
class Explanation:
    account_id: int
    day_from: date
    day_to: date
    score_from: float | None
    score_to: float | None
    changes: list[MeasureChange]
    renormalised: list[str]
    """Measures without data on either day, whose weight went to the others."""


def explain(account_id: int, start: date | None = None, end: date | None = None) -> Explanation:
    """Which measures moved the account's score between two scored days, and by how much.

    The two days are the account's first and last scored days within ``start``..``end``; only
    those two rows are read (the days in between do not enter the explanation). The
    contributions of the measures sum to the change of the computed score exactly."""
    days = [
        d
        for d in snapshots.scored_days()
        if (start is None or d >= start) and (end is None or d <= end)
    ]
    first = _first_row(account_id, days)
    last = _first_row(account_id, reversed(days))
    if first is None or last is None:
        raise BansoError(
            _(
                "No health scores for account {account} in that period; run `banso health score`.",
                account=account_id,
            )
        )
    # a day's file has the columns of every scorecard used that day: a measure belongs to
    # this account's scorecard when it has a weight on one of the two days
    names = sorted(
        {
            k.removeprefix("weight__")
            for row in (first, last)
            for k, v in row.items()
            if k.startswith("weight__") and v is not None
        }
    )
    changes = []
    renormalised = []
    for m in names:
        w0, w1 = first.get(f"weight__{m}") or 0.0, last.get(f"weight__{m}") or 0.0
        s0, s1 = first.get(f"score__{m}"), last.get(f"score__{m}")
        if s0 is None or s1 is None:
            renormalised.append(m)
        points = w1 * (s1 or 0.0) - w0 * (s0 or 0.0)
        changes.append(
            MeasureChange(m, first.get(f"raw__{m}"), last.get(f"raw__{m}"), s0, s1, points)
        )
    changes.sort(key=lambda c: -abs(c.points))
    return Explanation(
        account_id,
        first["day"],
        last["day"],
        first["computed_score"],
        last["computed_score"],
        changes,
        renormalised,
    )


def _first_row(account_id: int, days: Iterable[date]) -> dict[str, Any] | None:
    """The account's row on the first of ``days`` that scored it."""
    for day in days:
        row = snapshots.read_account_day(account_id, day)
        if row is not None:
            return row
    return None


def band_changes(since: date, until: date | None = None) -> list[dict[str, Any]]:
    """Accounts whose band on ``until`` (default: latest day) differs from their band on
    ``since``: ``{account_id, band_from, band_to, score_from, score_to}``."""
    days = snapshots.scored_days()
    if not days:
        return []
    end = until or days[-1]
    before = {
        r["account_id"]: r
        for r in snapshots.read(
            start=since, end=since, columns="account_id, band, score"
        ).to_pylist()
    }
    after = snapshots.read(start=end, end=end, columns="account_id, band, score").to_pylist()
    out = []
    for r in after:
        b = before.get(r["account_id"])
        if b is not None and b["band"] != r["band"]:
            out.append(
                {
                    "account_id": r["account_id"],
                    "band_from": b["band"],
                    "band_to": r["band"],
                    "score_from": b["score"],
                    "score_to": r["score"],
                }
            )
    return out


# ---------------------------------------------------------------- manual inputs


def set_override(
    session: Session,
    account_id: int,
    score: float,
    reason: str,
    expires_on: date,
    starts_on: date,
    set_by: str | None = None,
) -> HealthOverride:
    if not 0 <= score <= 100:
        raise BansoError(_("An override score must be between 0 and 100."))
    if not reason.strip():
        raise BansoError(_("An override needs a reason."))
    if expires_on <= starts_on:
        raise BansoError(_("An override must expire after it starts."))
    override = HealthOverride(
        account_id=account_id,
        score=score,
        reason=reason,
        starts_on=starts_on,
        expires_on=expires_on,
        set_by=set_by,
    )
    session.add(override)
    session.flush()
    return override


def set_pulse(
    session: Session,
    account_id: int,
    rating: int,
    comment: str | None,
    rated_on: date,
    expires_on: date,
    member_id: int | None = None,
) -> CsmPulse:
    if rating not in (1, 2, 3, 4, 5):
        raise BansoError(_("A CSM pulse is a rating from 1 to 5."))
    if expires_on <= rated_on:
        raise BansoError(_("A CSM pulse must expire after the day it is given."))
    pulse = CsmPulse(
        account_id=account_id,
        rating=rating,
        comment=comment,
        rated_on=rated_on,
        expires_on=expires_on,
        member_id=member_id,
    )
    session.add(pulse)
    session.flush()
    return pulse


def record_pulse(
    session: Session, account_id: int, *, rating: int, comment: str, member_id: int | None
) -> None:
    """The CSM's own 1-5 reading of the account (from the account page), counted by the health
    score for ``PULSE_DAYS`` days from today."""
    today = dates.today()
    set_pulse(
        session,
        account_id,
        rating,
        comment.strip() or None,
        today,
        today + timedelta(days=PULSE_DAYS),
        member_id=member_id,
    )


def event_history_days(root: Path | None = None) -> list[date]:
    """Every day from the first to the last day of the event store, for ``--backfill``;
    event days outside the accepted window are left out."""
    known = [d for d in map(date.fromisoformat, event_days(root)) if accepted_day(d)]
    if not known:
        return []
    first, last = known[0], known[-1]
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
