"""Turn raw measure values into measure, group and overall scores — for many rows at once.

Rows are (account, day) pairs; columns are numpy arrays with NaN where a measure has no data.
A measure without data is skipped and the weights of the others in its group re-normalised; a
group without any measure with data is skipped and the group weights re-normalised. A row
without any data gets no score (NaN) and no band.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from banso.health.scorecard import MeasureRule, Scorecard

Floats = npt.NDArray[np.float64]


@dataclass
class ScoredRows:
    """Scores for n rows: ``overall`` and ``band`` plus per group and per measure columns.

    ``measure_weight[m]`` is the effective share (0-1) of measure ``m`` in the overall score of
    each row after re-normalisation (0 where it had no data); the shares of a row sum to 1."""

    overall: Floats
    band: list[str | None]
    group_score: dict[str, Floats]
    measure_score: dict[str, Floats]
    measure_weight: dict[str, Floats]


def measure_scores(rule: MeasureRule, raw: Floats) -> Floats:
    """0-100 per value of ``raw``; NaN where the value is missing or no threshold holds."""
    out = np.full(raw.shape, np.nan)
    present = ~np.isnan(raw)
    if rule.linear is not None:
        xs = np.array([x for x, _ in rule.linear], dtype=float)
        ys = np.array([s for _, s in rule.linear], dtype=float)
        out[present] = np.interp(raw[present], xs, ys)
        return out
    undecided = present.copy()
    for t in rule.thresholds or []:
        hold = undecided.copy()
        if t.min is not None:
            hold &= raw >= t.min
        if t.max is not None:
            hold &= raw <= t.max
        out[hold] = t.score
        undecided &= ~hold
    return out


def score_rows(card: Scorecard, raw: dict[str, Floats], n: int) -> ScoredRows:
    """Score ``n`` rows of raw values (missing measures count as no data)."""
    missing = np.full(n, np.nan)
    group_score: dict[str, Floats] = {}
    group_weight_present: dict[str, Floats] = {}
    measure_score: dict[str, Floats] = {}
    within_group: dict[str, Floats] = {}
    for gname, group in card.groups.items():
        num = np.zeros(n)
        den = np.zeros(n)
        for mname, rule in group.measures.items():
            s = measure_scores(rule, raw.get(mname, missing).astype(float))
            measure_score[mname] = s
            has = ~np.isnan(s)
            num += np.where(has, s * rule.weight, 0.0)
            den += np.where(has, rule.weight, 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            group_score[gname] = np.where(den > 0, num / den, np.nan)
            for mname, rule in group.measures.items():
                has = ~np.isnan(measure_score[mname])
                within_group[mname] = np.where(has & (den > 0), rule.weight / den, 0.0)
        group_weight_present[gname] = np.where(den > 0, group.weight, 0.0)

    total = sum(group_weight_present.values(), np.zeros(n))
    overall_num = np.zeros(n)
    measure_weight: dict[str, Floats] = {}
    with np.errstate(invalid="ignore", divide="ignore"):
        for gname, group in card.groups.items():
            share = np.where(total > 0, group_weight_present[gname] / total, 0.0)
            overall_num += np.where(share > 0, share * np.nan_to_num(group_score[gname]), 0.0)
            for mname in group.measures:
                measure_weight[mname] = share * within_group[mname]
        overall = np.where(total > 0, overall_num, np.nan)
    band = [None if np.isnan(v) else card.band(float(v)) for v in overall]
    return ScoredRows(overall, band, group_score, measure_score, measure_weight)
