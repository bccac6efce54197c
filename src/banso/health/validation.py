"""Does the score predict what happened next? The "backbone" check of a health score.

For every scored (account, day) in the window, the outcome is read ``horizon`` days later from
the subscriptions: churned (no paid MRR left), contracted (less MRR), expanded (more MRR), and,
for accounts with a renewal date in the horizon, renewed (still a customer at its end).
Reported: per-band rates, where lost and gained MRR came from, ROC AUC and top-decile lift of
(100 - score) against churn, and each measure's own AUC. ``fit`` suggests weights from the
same history with a time-based split.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import duckdb
import ibis
import numpy as np
import pyarrow as pa
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sqlalchemy.engine import Engine

from banso.analytics.engines import read_arrow
from banso.errors import BansoError
from banso.health import snapshots
from banso.health.measures import MEASURES
from banso.health.scorecard import Scorecard
from banso.i18n import _
from banso.revenue import contracts


@dataclass
class Observations:
    """Scored account-days with their outcomes; arrays aligned row by row."""

    table: pa.Table

    def column(self, name: str) -> np.ndarray:
        return np.array(
            [np.nan if v is None else v for v in self.table[name].to_pylist()], dtype=float
        )


class NoObservations(BansoError):
    """No scored account-day in the window to validate."""


def observations(
    app_db: Engine, start: date | None, end: date | None, horizon_days: int
) -> Observations:
    """Snapshots in ``[start, end]`` whose horizon is complete, joined to their outcomes.

    A horizon is complete when ``day + horizon`` is on or before the last scored day (the
    data is known up to there). Without ``start``/``end``: all such scored days."""
    days = snapshots.scored_days()
    if not days:
        raise BansoError(_("No health scores yet; run `banso health score` first."))
    subs = read_arrow(app_db, list(contracts.SUBSCRIPTION_COLUMNS))
    con = duckdb.connect()
    con.register("subscriptions", subs)
    data_end = days[-1]
    last_complete = data_end - timedelta(days=horizon_days)
    first = start or days[0]
    last = min(end or last_complete, last_complete)
    if last < first:
        raise BansoError(
            _(
                "No scored day from {start} has a complete {horizon}-day horizon before {end}.",
                start=first,
                horizon=horizon_days,
                end=data_end,
            )
        )
    scores = snapshots.read(start=first, end=last)
    if "mrr" not in scores.column_names:
        # the days in the window scored no account (or their files were quarantined)
        raise NoObservations(
            _("No account was scored from {start} to {end}.", start=first, end=last)
        )
    con.register("scores", scores)
    # outcomes from revenue.contracts: MRR at the horizon's end, next renewals of the day's lines
    horizon = timedelta(days=horizon_days)
    ends = sorted({d + horizon for d in scores["day"].to_pylist()})
    con.register("horizon_days", pa.table({"day": pa.array(ends, pa.date32())}))
    if ends:
        customers = contracts.customers_duckdb(con, app_db, "horizon_days", ends[0], ends[-1])
        con.execute(f"CREATE TEMP TABLE mrr_after AS {customers}")
    else:
        con.execute("CREATE TEMP TABLE mrr_after (day DATE, account_id BIGINT, mrr BIGINT)")
    due = contracts.lines_renewing_next(
        contracts.SUBSCRIPTIONS, ibis.table({"account_id": "int64", "day": "date"}, name="scores")
    )
    con.execute(f"CREATE TEMP TABLE next_renewals AS {contracts.duckdb_select(due)}")
    table = con.sql(_OUTCOMES.format(h=int(horizon_days))).to_arrow_table()
    return Observations(table)


_OUTCOMES = """
WITH later AS (
    SELECT s.account_id, s.day, a.mrr AS mrr_after,
        EXISTS (SELECT 1 FROM next_renewals r
                WHERE r.account_id = s.account_id AND r.day = s.day
                  AND r.next_renewal::DATE <= s.day + {h}) AS renewal_due
    FROM scores s
    LEFT JOIN mrr_after a ON a.account_id = s.account_id AND a.day = (s.day + {h})::DATE
)
SELECT s.*, coalesce(l.mrr_after, 0) AS mrr_after,
    (coalesce(l.mrr_after, 0) = 0) AS churned,
    (l.mrr_after > 0 AND l.mrr_after < s.mrr) AS contracted,
    (coalesce(l.mrr_after, 0) > s.mrr) AS expanded,
    coalesce(l.renewal_due, false) AS renewal_due
FROM scores s LEFT JOIN later l USING (account_id, day)
WHERE s.score IS NOT NULL
ORDER BY s.day, s.account_id
"""


def validate(obs: Observations, card: Scorecard) -> dict[str, Any]:
    """The validation report (see docs/health.md for every key)."""
    t = obs.table
    n = t.num_rows
    churned = np.array(t["churned"].to_pylist(), dtype=bool)
    contracted = np.array(t["contracted"].to_pylist(), dtype=bool)
    expanded = np.array(t["expanded"].to_pylist(), dtype=bool)
    due = np.array(t["renewal_due"].to_pylist(), dtype=bool)
    band = np.array(t["band"].to_pylist(), dtype=object)
    accounts = np.array(t["account_id"].to_pylist())
    score = obs.column("score")
    mrr, after = obs.column("mrr"), obs.column("mrr_after")
    lost = np.clip(mrr - after, 0, None)
    gained = np.clip(after - mrr, 0, None)
    risk = 100.0 - score

    bands = []
    for b in card.bands:
        sel = band == b.name
        k = int(sel.sum())
        bands.append(
            {
                "band": b.name,
                "observations": k,
                "accounts": int(len(set(accounts[sel].tolist()))),
                "churn_rate": _rate(churned[sel]),
                "renewal_rate": _rate(~churned[sel & due]),
                "contraction_rate": _rate(contracted[sel]),
                "expansion_rate": _rate(expanded[sel]),
                "lost_mrr_share": _share(lost, sel),
                "expansion_mrr_share": _share(gained, sel),
            }
        )
    red, green = card.bands[0].name, card.bands[-1].name
    measures = []
    for m in card.measure_names:
        name = f"score__{m}"
        if name not in t.column_names:
            continue
        values = obs.column(name)
        has = ~np.isnan(values)
        measures.append(
            {
                "measure": m,
                "auc": _auc(churned[has], 100.0 - values[has]),
                "observations": int(has.sum()),
            }
        )
    return {
        "observations": n,
        "accounts": int(len(set(accounts.tolist()))),
        "first_day": str(t["day"][0]) if n else None,
        "last_day": str(t["day"][n - 1]) if n else None,
        "churn_rate": _rate(churned),
        "roc_auc": _auc(churned, risk),
        "top_decile_lift": _lift(churned, risk),
        "bands": bands,
        "red_band": red,
        "green_band": green,
        "lost_mrr_share_red": _share(lost, band == red),
        "expansion_mrr_share_green": _share(gained, band == green),
        "red_to_green_churn_ratio": _ratio(
            _rate(churned[band == red]), _rate(churned[band == green])
        ),
        "measures": measures,
    }


def fit(obs: Observations, card: Scorecard, train_share: float = 0.7) -> dict[str, Any]:
    """Suggest measure weights by logistic regression on the earlier days; compare AUCs of
    the current and the suggested scorecard on the later, held-out days."""
    t = obs.table
    days = sorted(set(t["day"].to_pylist()))
    if len(days) < 2:
        raise BansoError(_("Fitting needs scored history on at least two days."))
    cut = _cut(days, train_share)
    day = np.array(t["day"].to_pylist(), dtype=object)
    train, test = day <= cut, day > cut
    churned = np.array(t["churned"].to_pylist(), dtype=bool)
    names = [m for m in card.measure_names if f"score__{m}" in t.column_names]
    scores = np.column_stack([obs.column(f"score__{m}") for m in names])
    if churned[train].all() or not churned[train].any():
        raise BansoError(_("The training period needs both churned and retained accounts."))
    weights = _suggest_weights(scores[train], churned[train])
    if weights is None:
        raise BansoError(_("No measure predicted churn in the training period."))
    suggested = _weighted(scores, weights)
    current = obs.column("computed_score")
    return {
        "train_days": [str(days[0]), str(cut)],
        "test_days": [str(next(d for d in days if d > cut)) if test.any() else None, str(days[-1])],
        "current_auc_test": _auc(churned[test], 100.0 - current[test]),
        "suggested_auc_test": _auc(
            churned[test & ~np.isnan(suggested)], 100.0 - suggested[test & ~np.isnan(suggested)]
        ),
        "weights": [
            {
                "measure": m,
                "current_weight": _current_weight(card, m),
                "suggested_weight": round(float(wt), 4),
            }
            for m, wt in zip(names, weights, strict=True)
        ],
    }


def _cut(days: list[date], train_share: float) -> date:
    """The last training day: the earlier ``train_share`` of ``days`` (at least one)."""
    return days[max(1, int(len(days) * train_share)) - 1]


def _suggest_weights(scores: np.ndarray, churned: np.ndarray) -> np.ndarray | None:
    """Weights (summing to 1) of measure scores (0-100, NaN = no data) from a logistic
    regression of churn; only a measure whose higher score means less churn earns weight.
    None when none does."""
    present = ~np.isnan(scores)
    # no data = neutral: the training mean of the measure, so absence neither helps nor hurts
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a measure never present: mean of none
        means = np.nanmean(np.where(present, scores, np.nan), axis=0)
    means = np.where(np.isnan(means), 50.0, means)
    model = LogisticRegression(max_iter=1000)
    model.fit(np.where(present, scores, means) / 100.0, churned)
    raw_weights = np.clip(-model.coef_[0], 0, None)
    if raw_weights.sum() == 0:
        return None
    return raw_weights / raw_weights.sum()


def _weighted(scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The scorecard's overall score: the weighted mean of the measures that have data."""
    w = np.where(~np.isnan(scores), weights, 0.0)
    with np.errstate(invalid="ignore"):
        return np.where(
            w.sum(axis=1) > 0, (np.nan_to_num(scores) * w).sum(axis=1) / w.sum(axis=1), np.nan
        )


PROPOSE_EVERY_DAYS = 28
"""``banso health fit`` computes the raw values of measures the card lacks on every this many
scored days (ending with the last), not on every day: each day costs a scoring pass."""

MIN_GAIN = 0.002
"""A proposed measure must raise the ROC AUC on the inner selection days by at least this."""


def proposal_days(obs: Observations, every: int = PROPOSE_EVERY_DAYS) -> list[date]:
    """The scored days whose raw values :func:`propose` reads: every ``every`` days back from
    the last."""
    days = sorted(set(obs.table["day"].to_pylist()))
    if not days:
        return []
    return sorted(d for d in days if (days[-1] - d).days % every == 0)


def raw_values(
    app_db: Engine, days: list[date], advance: Callable[[int], None] | None = None
) -> pa.Table:
    """Every measure's raw value on ``days`` (``health.inputs``, a few days per pass;
    ``advance(n)`` after each pass of ``n`` days)."""
    from banso.health.inputs import HealthInputs

    inputs = HealthInputs(app_db)
    parts = []
    for i in range(0, len(days), 8):
        parts.append(inputs.raw_values(days[i : i + 8]))
        if advance is not None:
            advance(len(days[i : i + 8]))
    return pa.concat_tables(parts, promote_options="permissive") if parts else pa.table({})


def propose(
    obs: Observations,
    card: Scorecard,
    raw: pa.Table,
    train_share: float = 0.7,
    max_new: int = 3,
) -> dict[str, Any]:
    """Measures the card lacks that help predict churn, on the days that ``raw`` (every
    measure's raw value, :func:`raw_values`) covers.

    Each candidate is scored 0-100 linearly between its 5th and 95th percentile on the
    earliest training days, in the direction that goes with less churn there. Candidates are
    chosen forward, one at a time, by the ROC AUC they add to the card's measures (weights as
    :func:`fit` suggests them) on the later training days: the same time split as ``fit``
    inside the training period, so the held-out days decide nothing. The held-out figures
    compare the card's measures with and without the chosen ones."""
    t = obs.table
    if "account_id" not in raw.column_names:  # no day to read
        raw = pa.table({"account_id": pa.array([], pa.int64()), "day": pa.array([], pa.date32())})
    key = {
        (a, d): i
        for i, (a, d) in enumerate(
            zip(raw["account_id"].to_pylist(), raw["day"].to_pylist(), strict=True)
        )
    }
    rows, picks = [], []
    for i, (a, d) in enumerate(zip(t["account_id"].to_pylist(), t["day"].to_pylist(), strict=True)):
        j = key.get((a, d))
        if j is not None:
            rows.append(i)
            picks.append(j)
    all_days = sorted(set(t["day"].to_pylist()))
    cut = _cut(all_days, train_share)
    day = np.array(t["day"].take(pa.array(rows, pa.int64())).to_pylist(), dtype=object)
    train, test = day <= cut, day > cut
    train_days = sorted(set(day[train]))
    result: dict[str, Any] = {
        "days": len(set(day)),
        "rows": len(rows),
        "proposals": [],
        "base_auc_test": None,
        "proposed_auc_test": None,
    }
    if len(train_days) < 2:
        result["reason"] = "too_few_days"
        return result
    inner_cut = _cut(train_days, train_share)
    fit_rows, sel_rows = train & (day <= inner_cut), train & (day > inner_cut)
    churned = np.array(t["churned"].to_pylist(), dtype=bool)[rows]
    if len(set(churned[fit_rows])) < 2 or len(set(churned[sel_rows])) < 2:
        result["reason"] = "no_churn"
        return result
    names = [m for m in card.measure_names if f"score__{m}" in t.column_names]
    base = np.column_stack([obs.column(f"score__{m}")[rows] for m in names])
    raw_picked = raw.take(pa.array(picks, pa.int64()))
    candidates: dict[str, tuple[np.ndarray, list[list[float]]]] = {}
    for m in MEASURES:
        if m in card.measure_names or m not in raw_picked.column_names:
            continue
        scored = _candidate_score(_raw_floats(raw_picked[m]), churned, fit_rows)
        if scored is not None:
            candidates[m] = scored

    def sel_auc(columns: np.ndarray) -> float | None:
        weights = _suggest_weights(columns[fit_rows], churned[fit_rows])
        if weights is None:
            return None
        score = _weighted(columns[sel_rows], weights)
        known = ~np.isnan(score)
        return _auc(churned[sel_rows][known], 100.0 - score[known])

    chosen: list[str] = []
    gains: dict[str, float] = {}
    current = sel_auc(base) or 0.5
    while len(chosen) < max_new:
        tried = {
            m: sel_auc(np.column_stack([base, *(candidates[c][0] for c in chosen), s]))
            for m, (s, _points) in candidates.items()
            if m not in chosen
        }
        tried = {m: a for m, a in tried.items() if a is not None}
        if not tried:
            break
        best = max(tried, key=lambda m: tried[m])
        if tried[best] - current < MIN_GAIN:
            break
        gains[best] = round(tried[best] - current, 6)
        chosen.append(best)
        current = tried[best]
    # held out: the card's measures alone against them with the chosen ones, fitted on all
    # the training days
    extended = np.column_stack([base, *(candidates[c][0] for c in chosen)])
    result["base_auc_test"] = _held_out_auc(base, churned, train, test)
    result["proposed_auc_test"] = _held_out_auc(extended, churned, train, test)
    weights = _suggest_weights(extended[train], churned[train]) if chosen else None
    for k, m in enumerate(chosen):
        result["proposals"].append(
            {
                "measure": m,
                "linear": candidates[m][1],
                "selection_auc_gain": gains[m],
                "suggested_weight": None
                if weights is None
                else round(float(weights[len(names) + k]), 4),
            }
        )
    if not chosen:
        result["reason"] = "none_helped"
    return result


def _raw_floats(column: pa.ChunkedArray) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in column.to_pylist()], dtype=float)


def _candidate_score(
    x: np.ndarray, churned: np.ndarray, fit_rows: np.ndarray
) -> tuple[np.ndarray, list[list[float]]] | None:
    """``x`` as a 0-100 measure score and its ``linear`` points, or None when it cannot be
    one (too little data or no spread on the fitting days)."""
    known = fit_rows & ~np.isnan(x)
    if known.sum() < 30 or len(set(churned[known])) < 2:
        return None
    lo, hi = (float(v) for v in np.percentile(x[known], [5, 95]))
    if hi <= lo:
        return None
    up = roc_auc_score(churned[known], x[known]) < 0.5  # higher values go with less churn
    share = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    score = 100.0 * (share if up else 1.0 - share)
    lo_r, hi_r = round(lo, 4), round(hi, 4)
    points = [[lo_r, 0.0], [hi_r, 100.0]] if up else [[lo_r, 100.0], [hi_r, 0.0]]
    return score, points


def _held_out_auc(
    columns: np.ndarray, churned: np.ndarray, train: np.ndarray, test: np.ndarray
) -> float | None:
    weights = _suggest_weights(columns[train], churned[train])
    if weights is None or not test.any():
        return None
    score = _weighted(columns[test], weights)
    known = ~np.isnan(score)
    return _auc(churned[test][known], 100.0 - score[known])


def _current_weight(card: Scorecard, measure: str) -> float:
    """Nominal share of ``measure`` in ``card`` when every measure has data."""
    for name, g in card.groups.items():
        if measure in g.measures:
            return round(card.group_share(name) * card.measure_share(name, measure), 4)
    return 0.0


def _rate(flags: np.ndarray) -> float | None:
    return None if flags.size == 0 else round(float(flags.mean()), 6)


def _share(amounts: np.ndarray, selected: np.ndarray) -> float | None:
    total = amounts.sum()
    return None if total == 0 else round(float(amounts[selected].sum() / total), 6)


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else round(a / b, 4)


def _auc(labels: np.ndarray, risk: np.ndarray) -> float | None:
    if labels.size == 0 or labels.all() or not labels.any():
        return None
    return round(float(roc_auc_score(labels, risk)), 6)


def _lift(labels: np.ndarray, risk: np.ndarray) -> float | None:
    """Churn rate among the riskiest tenth over the overall churn rate."""
    if labels.size < 10 or not labels.any():
        return None
    top = np.argsort(-risk, kind="stable")[: max(1, labels.size // 10)]
    return round(float(labels[top].mean() / labels.mean()), 4)
