"""``banso programs effect`` on a tiny stored world: health snapshots on the attendance day and
60 days later, segment history, usage events and attendance records give the figures worked
out by hand in ``test_effect_figures.py``."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pyarrow as pa

from banso import schema
from banso.accounts.models import Account
from banso.attendance.models import ProgramEnrolment, ProgramSession
from banso.db import session_scope
from banso.health import snapshots
from banso.programs.effect import effect
from banso.segments.models import SegmentMembership
from banso.usage.store import EVENT_SCHEMA, append_events

D = date(2026, 3, 2)
AFTER = D + timedelta(days=60)
# id: (segment, band on D, users before, users after, score on D, score 60 days later)
WORLD = {
    1: ("smb", "green", 10, 14, 60, 70),  # attended on D
    2: ("smb", "green", 19, 18, 50, 55),  # attended on D
    11: ("smb", "green", 9, 10, 62, 64),
    12: ("smb", "green", 20, 22, 58, 60),
    13: ("mid", "green", 10, 30, 60, 90),  # other segment
    14: ("smb", "red", 10, 0, 60, 10),  # other band
    15: ("smb", "green", 10, 10, 60, 60),  # attended 30 days after D: no outcome yet
}


def _noon_utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 3, tzinfo=UTC)


def _world() -> None:
    schema.upgrade()
    with session_scope() as s:
        for i, (segment, *_rest) in WORLD.items():
            s.add(Account(id=i, name=f"A{i}", normalized_name=f"a{i}"))
            s.flush()
            s.add(SegmentMembership(account_id=i, segment=segment, start_date=date(2026, 1, 1)))
        for sid, day in ((1, D), (2, D + timedelta(days=30))):
            s.add(ProgramSession(id=sid, program="admin-training", starts_at=_noon_utc(day)))
        s.flush()
        for sid, account, status in ((1, 1, "attended"), (1, 2, "attended"), (1, 11, "no_show"),
                                     (2, 15, "attended")):  # fmt: skip
            s.add(ProgramEnrolment(session_id=sid, account_id=account, status=status))
    events = []
    for i, (_seg, _band, before, after, _s0, _s1) in WORLD.items():
        for n, day in ((before, D - timedelta(days=1)), (after, AFTER - timedelta(days=1))):
            events += [
                {"event_id": f"{i}-{day}-{u}", "account_id": i, "user_id": f"u{u}",
                 "event": "login", "ts": _noon_utc(day), "properties": None}
                for u in range(n)
            ]  # fmt: skip
    append_events(pa.Table.from_pylist(events, schema=EVENT_SCHEMA))
    for day, band_of, score_of in ((D, 1, 4), (AFTER, 1, 5)):
        rows = [
            {"account_id": i, "day": day, "score": float(v[score_of]),
             "band": v[band_of] if day == D else "green"}
            for i, v in WORLD.items()
        ]  # fmt: skip
        snapshots.write_day(day, pa.Table.from_pylist(rows))


def test_effect_of_a_programme_from_stored_scores_usage_segments_and_attendance():
    _world()
    with session_scope() as s:
        [result] = effect(s, "admin-training", 60)
    assert (result["attended_total"], result["attended_with_outcome"]) == (3, 2)
    assert (result["treated"], result["unmatched"]) == (2, 0)
    assert result["health"] == {
        "pairs": 2, "difference": 5.5, "ci95": [0.6, 10.4],
        "treated_change": 7.5, "control_change": 2.0,
    }  # fmt: skip
    assert result["usage"] == {
        "pairs": 2, "difference": 0.0, "ci95": [-5.88, 5.88],
        "treated_change": 1.5, "control_change": 1.5,
    }  # fmt: skip
    assert result["summary"] == (
        "Health score, change over 60 days: attendees +7.5, similar accounts +2.0; difference "
        "+5.5 (95% CI +0.6 to +10.4, 2 matched pairs): attendees rose more; the interval "
        "excludes zero. Active users (28 days), change over 60 days: attendees +1.5, similar "
        "accounts +1.5; difference 0.0 (95% CI -5.9 to +5.9, 2 matched pairs): the interval "
        "includes zero, so these data cannot tell whether it helps. Accounts were not assigned "
        "at random, so this is an association, not proof."
    )


def test_cli_effect_for_every_programme_as_json(cli):
    _world()
    out = cli("programs", "effect", "--days", "60", "--format", "json")
    assert out.exit_code == 0, out.stderr
    results = {r["program"]: r for r in json.loads(out.stdout)}
    assert results["admin-training"]["health"]["difference"] == 5.5
    assert results["user-meetup"]["attended_with_outcome"] == 0
    assert "nothing to compare yet" in results["user-meetup"]["summary"]
