"""A scorecard report as the JSON the CLI and the API give: money half-to-even to 2 decimals,
rates, attainments and the total to 6 (``0.869167`` is 86.9167 %), nulls kept."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from banso.evaluation.scorecard import Scorecard, ScorecardReport
from banso.revenue.months import month_label

BOOK_FIGURES = (
    ("mrr_start", 2),
    ("mrr_end", 2),
    ("churned_mrr", 2),
    ("contraction_mrr", 2),
    ("expansion_mrr", 2),
    ("renewal_due_mrr", 2),
    ("renewal_churned_mrr", 2),
    ("gross_mrr_churn_rate", 6),
    ("avg_monthly_gross_mrr_churn_rate", 6),
    ("renewal_churn_rate", 6),
    ("nrr_12m", 6),
)
"""The book's revenue figures of the period shown with a scorecard, with their decimals."""


def _round(value: Fraction | int | None, places: int) -> float | None:
    return None if value is None else float(round(Fraction(value), places))


def report_dict(report: ScorecardReport) -> dict[str, Any]:
    return {
        "period": report.period.label,
        "from": month_label(report.period.months.first),
        "to": month_label(report.period.months.last),
        "complete": report.complete,
        "currency": report.currency,
        "scorecards": [card_dict(c) for c in report.cards],
    }


def card_dict(card: Scorecard) -> dict[str, Any]:
    return {
        "member_id": card.member_id,
        "name": card.name,
        "email": card.email,
        "team": card.team,
        "job_title": card.job_title,
        "rule": None if card.rule is None else {"team": card.rule[0], "job_title": card.rule[1]},
        "accounts": card.accounts,
        "book": {key: _round(card.figures.get(key), places) for key, places in BOOK_FIGURES},
        "axes": [
            {
                "axis": a.axis,
                "weight": _round(a.weight, 6),
                "measure": a.measure,
                "actual": _round(a.actual, 2 if a.measure == "expansion_mrr" else 6),
                "target": _round(a.target, 2 if a.measure == "expansion_mrr" else 6),
                "attainment": _round(a.attainment, 6),
            }
            for a in card.axes
        ],
        "total": _round(card.total, 6),
        "missing": card.missing,
        "qualitative_note": card.qualitative_note,
    }
