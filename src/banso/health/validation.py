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
    cut = days[max(1, int(len(days) * train_share)) - 1]
    day = np.array(t["day"].to_pylist(), dtype=object)
    train, test = day <= cut, day > cut
    churned = np.array(t["churned"].to_pylist(), dtype=bool)
    names = [m for m in card.measure_names if f"score__{m}" in t.column_names]
    scores = np.column_stack([obs.column(f"score__{m}") for m in names])
    present = ~np.isnan(scores)
    if churned[train].all() or not churned[train].any():
        raise BansoError(_("The training period needs both churned and retained accounts."))
    # no data = neutral: the training mean of the measure, so absence neither helps nor hurts
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a measure never present: mean of none
        means = np.nanmean(np.where(present[train], scores[train], np.nan), axis=0)
    means = np.where(np.isnan(means), 50.0, means)
    filled = np.where(present, scores, means)
    model = LogisticRegression(max_iter=1000)
    model.fit(filled[train] / 100.0, churned[train])
    # a higher measure score should mean less churn: only negative coefficients earn weight
    raw_weights = np.clip(-model.coef_[0], 0, None)
    if raw_weights.sum() == 0:
        raise BansoError(_("No measure predicted churn in the training period."))
    weights = raw_weights / raw_weights.sum()
    w = np.where(present, weights, 0.0)
    with np.errstate(invalid="ignore"):
        suggested = np.where(
            w.sum(axis=1) > 0, (np.nan_to_num(scores) * w).sum(axis=1) / w.sum(axis=1), np.nan
        )
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
