"""NPS, CSAT and CES with a 95 % confidence interval (docs/surveys.md states each method).

- NPS = % promoters (9–10) − % detractors (0–6), in points from −100 to 100. Each answer is
  +1 / 0 / −1; the NPS is their mean × 100. Interval: normal approximation with the variance of
  those values, ``p + d − (p − d)²`` (``p``, ``d`` the shares of promoters and detractors), over
  ``n``: NPS ± 1.96 × 100 × √(variance / n).
- CSAT = % of answers 4–5 on the 1–5 scale. Interval: Wilson score interval.
- CES = the mean on the 1–7 scale. Interval: normal approximation, mean ± 1.96 × s / √n with the
  sample standard deviation ``s`` (n − 1); none for a single answer.

Point estimates are exact fractions; intervals are floats (statistics, not money).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

Z95 = 1.959963984540054
"""The 97.5th percentile of the standard normal distribution."""


@dataclass(frozen=True)
class Estimate:
    """A score over ``count`` answers and its 95 % interval (None when it cannot be given)."""

    count: int
    value: Fraction
    low: float | None
    high: float | None


def category(survey_type: str, score: int) -> str:
    """``promoter`` / ``passive`` / ``detractor`` for NPS; ``satisfied`` / ``unsatisfied`` for
    CSAT; ``easy`` (5–7) / ``neutral`` (4) / ``hard`` (1–3) for CES."""
    if survey_type == "nps":
        return "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
    if survey_type == "csat":
        return "satisfied" if score >= 4 else "unsatisfied"
    return "easy" if score >= 5 else "neutral" if score == 4 else "hard"


def estimate(survey_type: str, scores: Sequence[int]) -> Estimate | None:
    """The survey type's score of ``scores``; None without answers."""
    if not scores:
        return None
    if survey_type == "nps":
        return nps(scores)
    if survey_type == "csat":
        return csat(scores)
    return ces(scores)


def nps(scores: Sequence[int]) -> Estimate:
    n = len(scores)
    p = Fraction(sum(1 for s in scores if s >= 9), n)
    d = Fraction(sum(1 for s in scores if s <= 6), n)
    value = (p - d) * 100
    variance = float(p + d - (p - d) ** 2)
    half = Z95 * 100 * math.sqrt(variance / n)
    return Estimate(n, value, float(value) - half, float(value) + half)


def csat(scores: Sequence[int]) -> Estimate:
    n = len(scores)
    k = sum(1 for s in scores if s >= 4)
    value = Fraction(k, n) * 100
    low, high = wilson(k, n)
    return Estimate(n, value, low * 100, high * 100)


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``successes / n``."""
    p = successes / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    denominator = 1 + z * z / n
    return (centre - spread) / denominator, (centre + spread) / denominator


def ces(scores: Sequence[int]) -> Estimate:
    n = len(scores)
    mean = Fraction(sum(scores), n)
    if n < 2:
        return Estimate(n, mean, None, None)
    variance = sum((s - mean) ** 2 for s in scores) / (n - 1)
    half = Z95 * math.sqrt(float(variance) / n)
    return Estimate(n, mean, float(mean) - half, float(mean) + half)
