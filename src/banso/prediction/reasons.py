"""Per-account reasons: which features move this account's churn probability most, in words a
CSM can act on.

A feature's contribution is how much the probability falls when that one value is replaced by
the training rows' median (what a typical customer shows): positive = it raises the risk. The
three largest positive contributions become sentences such as "Active users fell 40 % in 28 days".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from banso.health.measures import format_measure, measure_label
from banso.i18n import _, ngettext, number, percent

MAX_REASONS = 3


@dataclass(frozen=True)
class Reason:
    feature: str
    value: float | None
    typical: float | None
    contribution: float
    """Probability points this value adds against the typical value (0.05 = 5 points)."""

    def sentence(self) -> str:
        return describe(self.feature, self.value, self.typical)


def contributions(model: Any, x: np.ndarray, names: list[str], typical: np.ndarray) -> list[Reason]:
    """Every feature's contribution for the one row ``x``, largest risk first."""
    return contributions_of_rows(model, x.reshape(1, -1), names, typical)[0]


def contributions_of_rows(
    model: Any, rows: np.ndarray, names: list[str], typical: np.ndarray
) -> list[list[Reason]]:
    """:func:`contributions` of many rows with one call of the model (a call costs far more
    than a row)."""
    n, k = rows.shape
    base = model.predict_proba(rows)[:, 1]
    swapped = np.repeat(rows, k, axis=0)
    swapped[np.arange(n * k), np.tile(np.arange(k), n)] = np.tile(typical, n)
    probs = model.predict_proba(swapped)[:, 1].reshape(n, k)
    out = []
    for r in range(n):
        reasons = [
            Reason(name, _num(rows[r, i]), _num(typical[i]), float(base[r] - probs[r, i]))
            for i, name in enumerate(names)
        ]
        out.append(sorted(reasons, key=lambda x: -x.contribution))
    return out


def top_reasons(all_reasons: list[Reason]) -> list[Reason]:
    """The few values that raise the risk by at least half a point."""
    return [r for r in all_reasons if r.contribution >= 0.005][:MAX_REASONS]


def describe(feature: str, value: float | None, typical: float | None) -> str:
    """One sentence about one feature's value, in the current language."""
    if value is None and feature == "days_to_renewal":
        return _("No yearly renewal date (billed monthly or quarterly)")
    if value is None:
        return _("{feature}: no data", feature=feature_label(feature))
    if feature.endswith("_trend"):
        label = measure_label(feature.removesuffix("_trend"))
        if value < 0:
            return _("{label} fell {change} in 28 days", label=label, change=percent(-value))
        return _("{label} rose {change} in 28 days", label=label, change=percent(value))
    if feature == "days_since_last_activity":
        n = round(value)
        return ngettext("No product activity for {n} day", "No product activity for {n} days", n)
    if feature == "days_to_renewal":
        n = round(value)
        return ngettext("Renewal in {n} day", "Renewal in {n} days", n)
    if feature == "mrr_change_90d":
        if value < 0:
            return _("MRR fell {change} in 90 days", change=percent(-value))
        return _("MRR rose {change} in 90 days", change=percent(value))
    if feature == "health_score_change_28d":
        return _("Health score changed {change} points in 28 days", change=_signed(value))
    shown, usual = format_value(feature, value), format_value(feature, typical)
    return _(
        "{feature} is {value} (typical: {typical})",
        feature=feature_label(feature),
        value=shown,
        typical=usual,
    )


def feature_label(feature: str) -> str:
    labels = {
        "health_score": _("Health score"),
        "health_score_change_28d": _("Health score change over 28 days"),
        "mrr_change_90d": _("MRR change over 90 days"),
        "days_to_renewal": _("Days to the next renewal"),
        "term_months": _("Contract term (months)"),
        "tenure_days": _("Days as a customer"),
        "mrr": _("MRR"),
    }
    if feature.endswith("_prior28d"):
        base = measure_label(feature.removesuffix("_prior28d"))
        return labels.get(feature) or _("{label}, the 28 days before", label=base)
    return labels.get(feature) or measure_label(feature)


def format_value(feature: str, value: float | None) -> str:
    if value is None:
        return "—"
    if feature in ("health_score", "term_months", "mrr"):
        return number(round(value))
    if feature == "tenure_days":
        n = round(value)
        return ngettext("{n} day", "{n} days", n)
    return format_measure(feature, value)


def _signed(value: float) -> str:
    return ("+" if value > 0 else "") + number(value, 1)


def _num(value: float) -> float | None:
    return None if np.isnan(value) else float(value)
