"""The health measures a scorecard may use: name -> category and meaning.

Raw values are computed per account and as-of date by ``banso.health.inputs``; a measure with
no value for an account (no data) is skipped and the weights of the others re-normalised.
"""

from __future__ import annotations

from dataclasses import dataclass

from banso.i18n import _, npgettext, number, percent, pgettext
from banso.usage.metrics import FEATURES, TRENDED

UNITS = ("count", "days", "ratio", "change", "mean", "yes_no")
"""How a measure's raw value reads: a whole ``count`` (also ratings and NPS answers), a number
of ``days``, a ``ratio`` (0-1, as a percentage), a ``change`` against a prior period (a
fraction, as a signed percentage), a ``mean`` (one decimal), or ``yes_no`` (1 or 0)."""


@dataclass(frozen=True)
class Measure:
    name: str
    category: str
    meaning: str
    unit: str = "count"
    """One of :data:`UNITS`, from the measure's definition."""


_USAGE_UNITS = {
    "active_days_7d": "days",
    "active_days_28d": "days",
    "days_since_last_activity": "days",
    "wau_mau": "ratio",
    "events_per_active_user_28d": "mean",
}
"""Units of the usage features that are not counts."""


def _usage() -> dict[str, Measure]:
    out = {n: Measure(n, "usage", m, _USAGE_UNITS.get(n, "count")) for n, m in FEATURES.items()}
    for n in TRENDED:
        out[f"{n}_trend"] = Measure(
            f"{n}_trend",
            "usage",
            f"change of {n} against the prior 28 days, as a fraction",
            "change",
        )
    return out


SLA_HOURS = {"urgent": 24, "high": 72, "normal": 120, "low": 240}
"""Resolution time a ticket may take, by priority (no priority counts as normal)."""

MEASURES: dict[str, Measure] = {
    **_usage(),
    "open_tickets": Measure("open_tickets", "support", "tickets open at the end of the day"),
    "tickets_30d": Measure("tickets_30d", "support", "tickets opened in the last 30 days"),
    "sla_breaches_30d": Measure(
        "sla_breaches_30d",
        "support",
        "tickets opened in the last 30 days whose resolution took (or is taking) longer than "
        "the SLA of their priority",
    ),
    "ticket_csat_90d": Measure(
        "ticket_csat_90d", "support", "mean ticket CSAT (1-5) of tickets opened in 90 days", "mean"
    ),
    "latest_nps": Measure("latest_nps", "surveys", "the latest NPS answer (0-10) in 365 days"),
    "latest_csat": Measure("latest_csat", "surveys", "the latest CSAT answer (1-5) in 365 days"),
    "days_to_renewal": Measure(
        "days_to_renewal", "contract", "days to the next renewal date of an active line", "days"
    ),
    "recent_downgrade": Measure(
        "recent_downgrade",
        "contract",
        "1 when MRR is lower than 90 days ago (still > 0), else 0",
        "yes_no",
    ),
    "meetings_90d": Measure("meetings_90d", "engagement", "meetings with the CSM in 90 days"),
    "onboarding_sessions_90d": Measure(
        "onboarding_sessions_90d", "engagement", "onboarding sessions in the last 90 days"
    ),
    "programs_attended_90d": Measure(
        "programs_attended_90d",
        "engagement",
        "programmes of the cafeteria (webinars, trainings, events...) a contact attended in the "
        "last 90 days",
    ),
    "champion_present": Measure(
        "champion_present",
        "engagement",
        "1 when a champion contact is still at the customer",
        "yes_no",
    ),
    "csm_pulse": Measure(
        "csm_pulse", "pulse", "the CSM's own rating 1-5, while it has not expired"
    ),
}


LABELS: dict[str, str] = {
    "active_users_7d": "Active users (7 days)",
    "active_users_28d": "Active users (28 days)",
    "active_days_7d": "Active days (7 days)",
    "active_days_28d": "Active days (28 days)",
    "wau_mau": "WAU/MAU",
    "logins_7d": "Logins (7 days)",
    "logins_28d": "Logins (28 days)",
    "events_28d": "Events (28 days)",
    "distinct_features_28d": "Features used (28 days)",
    "advanced_features_28d": "Advanced features used (28 days)",
    "advanced_events_28d": "Advanced feature events (28 days)",
    "events_per_active_user_28d": "Events per active user (28 days)",
    "days_since_last_activity": "Days since last activity",
    "open_tickets": "Open tickets",
    "tickets_30d": "Tickets (30 days)",
    "sla_breaches_30d": "SLA breaches (30 days)",
    "ticket_csat_90d": "Ticket CSAT (90 days)",
    "latest_nps": "Latest NPS",
    "latest_csat": "Latest CSAT",
    "days_to_renewal": "Days to renewal",
    "recent_downgrade": "Downgraded in 90 days",
    "meetings_90d": "Meetings with the CSM (90 days)",
    "onboarding_sessions_90d": "Onboarding sessions (90 days)",
    "programs_attended_90d": "Programmes attended (90 days)",
    "champion_present": "Champion still there",
    "csm_pulse": "CSM pulse",
}
"""English name of each measure for people; Japanese in the message catalogue."""


def measure_label(name: str) -> str:
    """The measure's name for people, in the current language (the id when unknown)."""
    if name.endswith("_trend") and name.removesuffix("_trend") in LABELS:
        base = _(LABELS[name.removesuffix("_trend")])
        return _("{label}, change vs the prior 28 days", label=base)
    return _(LABELS[name]) if name in LABELS else name


def format_measure(name: str, value: float | None) -> str:
    """A measure's raw value as people read it, by its unit: ``365 days`` / ``365日``, ``12``,
    ``45.0%``, ``+12.5%``, ``4.2``, ``Yes`` / ``はい``; ``—`` without a value."""
    if value is None:
        return "—"
    measure = MEASURES.get(name)
    unit = measure.unit if measure else "mean"
    if unit == "yes_no":
        return pgettext("yes or no", "Yes") if value >= 0.5 else pgettext("yes or no", "No")
    if unit == "days":
        n = round(value)
        return npgettext("measure value", "{n} day", "{n} days", n)
    if unit == "ratio":
        return percent(value)
    if unit == "change":
        return ("+" if value > 0 else "") + percent(value)
    if unit == "mean":
        return number(value, 1)
    return number(round(value))
