"""The health measures a scorecard may use: name -> category and meaning.

Raw values are computed per account and as-of date by ``banso.health.inputs``; a measure with
no value for an account (no data) is skipped and the weights of the others re-normalised.
"""

from __future__ import annotations

from dataclasses import dataclass

from banso.usage.metrics import FEATURES, TRENDED


@dataclass(frozen=True)
class Measure:
    name: str
    category: str
    meaning: str


def _usage() -> dict[str, Measure]:
    out = {n: Measure(n, "usage", m) for n, m in FEATURES.items()}
    for n in TRENDED:
        out[f"{n}_trend"] = Measure(
            f"{n}_trend", "usage", f"change of {n} against the prior 28 days, as a fraction"
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
        "ticket_csat_90d", "support", "mean ticket CSAT (1-5) of tickets opened in 90 days"
    ),
    "latest_nps": Measure("latest_nps", "surveys", "the latest NPS answer (0-10) in 365 days"),
    "latest_csat": Measure("latest_csat", "surveys", "the latest CSAT answer (1-5) in 365 days"),
    "days_to_renewal": Measure(
        "days_to_renewal", "contract", "days to the next renewal date of an active line"
    ),
    "recent_downgrade": Measure(
        "recent_downgrade", "contract", "1 when MRR is lower than 90 days ago (still > 0), else 0"
    ),
    "meetings_90d": Measure("meetings_90d", "engagement", "meetings with the CSM in 90 days"),
    "onboarding_sessions_90d": Measure(
        "onboarding_sessions_90d", "engagement", "onboarding sessions in the last 90 days"
    ),
    "champion_present": Measure(
        "champion_present", "engagement", "1 when a champion contact is still at the customer"
    ),
    "csm_pulse": Measure(
        "csm_pulse", "pulse", "the CSM's own rating 1-5, while it has not expired"
    ),
}
