"""Did a programme help? Health and usage of attending accounts against matched similar
accounts that did not attend (``banso programs effect``, the programme page, the API).

Method (``docs/programs.md``):

- **Treated**: each account whose contact attended a session of the programme, once, on the
  company-local day of its first attended session (day D), when D and D + ``days`` are both
  scored days (health snapshots), so every figure is one the scorer saw on that day.
- **Pool**: accounts scored on D and D + ``days`` that never attended the programme.
- **Matching**: exact on segment (the membership history on D, ``banso.segments``) and health
  band on D (``banso.health`` snapshots); within that stratum, the one account whose usage
  before (``active_users_28d`` on D, ``banso.usage``) is nearest, ties to the lower account id;
  a control may serve several attendees (matching with replacement). An attendee without any
  account in its stratum is left out and counted.
- **Outcome**: the change from D to D + ``days`` of the health score and of
  ``active_users_28d``; a pair's difference is the attendee's change minus its control's.
- **Figure**: the mean of the pairs' differences with a 95 % normal interval
  ``mean ± 1.96 × s / √n`` (``s`` the sample standard deviation of the differences); no
  interval with fewer than two pairs. Few pairs make the normal interval too narrow: read it
  with the number of pairs.

The wording is that of ``banso playbooks effect``: an interval that includes zero means these
data cannot tell; accounts chose to attend, so any difference is an association, not proof.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pyarrow as pa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from banso.attendance.models import ProgramEnrolment, ProgramSession
from banso.config import get_settings
from banso.errors import BansoError
from banso.health import snapshots
from banso.i18n import _, ngettext, number
from banso.programs.service import as_utc, catalogue, program
from banso.segments.service import memberships_on
from banso.usage.service import compute_features
from banso.usage.store import has_events

USAGE_FEATURE = "active_users_28d"
"""The usage matched on and compared: distinct users with any event in the last 28 days."""
OUTCOMES = ("health", "usage")
Z95 = 1.96


@dataclass(frozen=True)
class AccountDays:
    """One account's figures on day D (before) and D + horizon (after)."""

    account_id: int
    segment: str | None
    band: str
    usage_before: float
    usage_after: float
    health_before: float
    health_after: float

    def change(self, outcome: str) -> float:
        if outcome == "health":
            return self.health_after - self.health_before
        return self.usage_after - self.usage_before


def nearest_control(treated: AccountDays, pool: list[AccountDays]) -> AccountDays | None:
    """The pool's account in the attendee's segment and band whose usage before is nearest
    (ties: the lower account id); None when the stratum has no one."""
    same = [c for c in pool if c.segment == treated.segment and c.band == treated.band]
    return min(
        same,
        key=lambda c: (abs(c.usage_before - treated.usage_before), c.account_id),
        default=None,
    )


def mean_difference(differences: list[float]) -> dict[str, Any]:
    """Mean of the matched pairs' differences with its 95 % normal interval."""
    n = len(differences)
    if n == 0:
        return {"pairs": 0, "difference": None, "ci95": None}
    mean = sum(differences) / n
    if n < 2:
        return {"pairs": 1, "difference": round(mean, 4), "ci95": None}
    sd = math.sqrt(sum((d - mean) ** 2 for d in differences) / (n - 1))
    half = Z95 * sd / math.sqrt(n)
    return {
        "pairs": n,
        "difference": round(mean, 4),
        "ci95": [round(mean - half, 4), round(mean + half, 4)],
    }


def matched_effect(
    treated: list[tuple[date, AccountDays]], pools: dict[date, list[AccountDays]]
) -> dict[str, Any]:
    """Pairs each attendee with its nearest control of the same day's pool and compares the
    changes of health and usage (the method in this module's docstring)."""
    pairs: list[tuple[AccountDays, AccountDays]] = []
    unmatched = 0
    for day, me in treated:
        control = nearest_control(me, pools.get(day, []))
        if control is None:
            unmatched += 1
            continue
        pairs.append((me, control))
    out: dict[str, Any] = {"treated": len(treated), "unmatched": unmatched}
    for outcome in OUTCOMES:
        part = mean_difference([t.change(outcome) - c.change(outcome) for t, c in pairs])
        if pairs:
            part["treated_change"] = round(sum(t.change(outcome) for t, _ in pairs) / len(pairs), 4)
            part["control_change"] = round(sum(c.change(outcome) for _, c in pairs) / len(pairs), 4)
        out[outcome] = part
    return out


def effect(
    session: Session, program_key: str | None = None, days: int = 60
) -> list[dict[str, Any]]:
    """The effect of one programme, or of every programme of the catalogue."""
    if days < 1 or days > 365:
        raise BansoError(_("--days must be from 1 to 365."))
    keys = [program(program_key).key] if program_key else [p.key for p in catalogue().programs]
    scored = snapshots.scored_days()
    if not scored:
        raise BansoError(_("No health scores yet; run `banso health score` first."))
    firsts = first_attendance_days(session)
    world = _World(session, set(scored), days)
    return [world.program_effect(key, firsts.get(key, {})) for key in keys]


def first_attendance_days(session: Session) -> dict[str, dict[int, date]]:
    """Per programme, each attending account's company-local day of its first attended
    session."""
    zone = get_settings().tz
    rows = session.execute(
        select(ProgramSession.program, ProgramEnrolment.account_id,
               func.min(ProgramSession.starts_at))
        .join(ProgramEnrolment, ProgramEnrolment.session_id == ProgramSession.id)
        .where(ProgramEnrolment.status == "attended")
        .group_by(ProgramSession.program, ProgramEnrolment.account_id)
    ).all()  # fmt: skip
    out: dict[str, dict[int, date]] = {}
    for key, account_id, starts_at in rows:
        out.setdefault(key, {})[account_id] = _local_day(starts_at, zone)
    return out


def _local_day(at: datetime, zone: Any) -> date:
    return as_utc(at).astimezone(zone).date()


class _World:
    """Scores, bands, segments and usage on the days the programmes need, each read once."""

    def __init__(self, session: Session, scored: set[date], days: int) -> None:
        self.session = session
        self.scored = scored
        self.days = days
        self._scores: dict[date, dict[int, tuple[float, str]]] = {}
        self._usage: dict[date, dict[int, float]] = {}
        self._segments: dict[date, dict[int, str]] = {}
        self.has_events = has_events()

    def program_effect(self, key: str, firsts: dict[int, date]) -> dict[str, Any]:
        eligible = {
            a: d for a, d in firsts.items()
            if d in self.scored and d + timedelta(days=self.days) in self.scored
        }  # fmt: skip
        treated: list[tuple[date, AccountDays]] = []
        pools: dict[date, list[AccountDays]] = {}
        for day in sorted(set(eligible.values())):
            everyone = self._account_days(day)
            pools[day] = [v for a, v in everyone.items() if a not in firsts]
            treated += [(day, everyone[a]) for a, d in eligible.items()
                        if d == day and a in everyone]  # fmt: skip
        result = matched_effect(treated, pools)
        result.update(
            program=key, days=self.days, attended_total=len(firsts),
            attended_with_outcome=len(eligible),
        )  # fmt: skip
        result["summary"] = effect_sentences(result)
        return result

    def _account_days(self, day: date) -> dict[int, AccountDays]:
        after = day + timedelta(days=self.days)
        before_scores, after_scores = self._scores_on(day), self._scores_on(after)
        before_usage, after_usage = self._usage_on(day), self._usage_on(after)
        segments = self._segments_on(day)
        out = {}
        for account_id, (score, band) in before_scores.items():
            if account_id not in after_scores:
                continue
            ub, ua = before_usage.get(account_id), after_usage.get(account_id)
            if ub is None or ua is None:
                continue
            out[account_id] = AccountDays(
                account_id, segments.get(account_id), band, ub, ua, score,
                after_scores[account_id][0],
            )  # fmt: skip
        return out

    def _scores_on(self, day: date) -> dict[int, tuple[float, str]]:
        if day not in self._scores:
            table = snapshots.read(
                only_days=[day], columns="account_id, score, band", common_columns=True
            )
            self._scores[day] = {
                r["account_id"]: (float(r["score"]), r["band"])
                for r in table.to_pylist()
                if r["score"] is not None
            }
        return self._scores[day]

    def _usage_on(self, day: date) -> dict[int, float]:
        """``active_users_28d`` per account; 0 for an account without events when the store
        has events at all (as health reads it)."""
        if day not in self._usage:
            found: dict[int, float] = {}
            if self.has_events:
                table: pa.Table = compute_features(day)
                found = {
                    r["account_id"]: float(r[USAGE_FEATURE] or 0)
                    for r in table.select(["account_id", USAGE_FEATURE]).to_pylist()
                }
                found = _with_zeros(found, self._scores_on(day))
            self._usage[day] = found
        return self._usage[day]

    def _segments_on(self, day: date) -> dict[int, str]:
        if day not in self._segments:
            self._segments[day] = memberships_on(self.session, day)
        return self._segments[day]


def _with_zeros(usage: dict[int, float], scored: dict[int, Any]) -> dict[int, float]:
    return {a: usage.get(a, 0.0) for a in scored} | usage


# ---------------------------------------------------------------- wording


def effect_sentences(result: dict[str, Any]) -> str:
    """What the figures say, in the words ``banso playbooks effect`` uses."""
    if result["attended_with_outcome"] == 0:
        return _(
            "No account attended this programme at least {days} days before the last scored "
            "day, so there is nothing to compare yet.",
            days=result["days"],
        )
    if result["health"]["pairs"] == 0:
        return _("No attending account has comparable accounts that did not attend (same "
                 "segment and band).")  # fmt: skip
    parts = [
        _outcome_sentence(result, "health", _("Health score")),
        _outcome_sentence(result, "usage", _("Active users (28 days)")),
        _("Accounts were not assigned at random, so this is an association, not proof."),
    ]
    return " ".join(parts)


def _outcome_sentence(result: dict[str, Any], outcome: str, label: str) -> str:
    part = result[outcome]
    pairs = ngettext("{n} matched pair", "{n} matched pairs", part["pairs"])
    if part["ci95"] is None:
        return _(
            "{label}, change over {days}: attendees {t}, similar accounts {c}; difference {d} "
            "from {pairs}, too few for an interval.",
            label=label, days=ngettext("{n} day", "{n} days", result["days"]),
            t=_signed(part["treated_change"]), c=_signed(part["control_change"]),
            d=_signed(part["difference"]), pairs=pairs,
        )  # fmt: skip
    low, high = part["ci95"]
    if low <= 0 <= high:
        verdict = _("the interval includes zero, so these data cannot tell whether it helps")
    elif low > 0:
        verdict = _("attendees rose more; the interval excludes zero")
    else:
        verdict = _("attendees rose less; the interval excludes zero")
    return _(
        "{label}, change over {days}: attendees {t}, similar accounts {c}; difference {d} "
        "(95% CI {low} to {high}, {pairs}): {verdict}.",
        label=label, days=ngettext("{n} day", "{n} days", result["days"]),
        t=_signed(part["treated_change"]), c=_signed(part["control_change"]),
        d=_signed(part["difference"]), low=_signed(low), high=_signed(high), pairs=pairs,
        verdict=verdict,
    )  # fmt: skip


def _signed(value: float) -> str:
    return ("+" if value > 0 else "") + number(value, 1)
