"""Training and scoring rows: one per customer and scoring day ``t``, with features known on
``t`` and labels read from the subscriptions after ``t``.

Every feature has an owner that computes it as of a day: the usage features and the health
measures' raw values come from ``banso.health.inputs`` (which asks ``banso.usage.metrics``), the
health score from the scorecards (``banso.health.scoring``), the contract facts from
``banso.revenue.contracts``. What a day could not have known is left out:

- a contract line's end date later than ``t`` is unknown on ``t`` (a cancellation is only a fact
  once it has happened), so the contract features read each line as it stood on ``t``;
- ticket CSAT (given when the ticket closes, possibly after ``t``) and the CSM pulse (which can be
  entered for an earlier day) are not features; the pulse stays beside the number on the 360;
- the health score (a feature, and a baseline of the backtest) is the scorecard's score of the
  same knowable values: its contract measures from the lines as known on ``t``, without ticket
  CSAT and pulse (the card re-weights the measures it has).

Labels (``docs/metrics.md`` §5a facts): **churned** — a customer on ``t`` that is not a customer
on some day of ``(t, t + horizon]``; **contracted** — still a customer on ``t + horizon`` with
less MRR than on ``t`` (both at ``t``'s FX rates, so a rate change is not a contraction). A label
is complete when ``t + horizon`` is on or before the last day the data is known for.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from banso.health.inputs import HealthInputs
from banso.health.scorecard import Scorecard, choose_scorecard
from banso.health.scoring import score_rows
from banso.revenue import contracts
from banso.revenue.models import Subscription
from banso.usage.store import days as event_days

SCORING_STEP_DAYS = 28
"""Scoring days are this many days apart, ending with the as-of day."""

FIRST_DAY_MARGIN = 56
"""The first scoring day leaves the usage windows' 56 days of history (subscriptions and
events both) before it."""

LEAKY_OR_MANUAL = ("ticket_csat_90d", "csm_pulse", "days_to_renewal", "recent_downgrade")
"""Health inputs that are not features: CSAT and pulses can be entered after ``t`` for
earlier days; the two contract measures are recomputed below from lines as known on ``t``."""

CONTRACT_FEATURES = ("mrr_change_90d", "days_to_renewal", "term_months", "tenure_days")
HEALTH_FEATURES = ("health_score", "health_score_change_28d")
ACCOUNT_DAYS_PER_PASS = 400_000


@dataclass
class Rows:
    """Account-days aligned row by row; ``x`` holds ``names`` as float columns (NaN = none)."""

    account_id: np.ndarray
    day: np.ndarray
    x: np.ndarray
    names: list[str]
    churned: np.ndarray
    contracted: np.ndarray
    complete: np.ndarray

    def take(self, mask: np.ndarray) -> Rows:
        return Rows(
            self.account_id[mask],
            self.day[mask],
            self.x[mask],
            self.names,
            self.churned[mask],
            self.contracted[mask],
            self.complete[mask],
        )

    def column(self, name: str) -> np.ndarray:
        return self.x[:, self.names.index(name)]

    def to_arrow(self) -> pa.Table:
        columns: dict[str, pa.Array] = {
            "account_id": pa.array(self.account_id, pa.int64()),
            "day": pa.array(self.day, pa.date32()),
        }
        for i, name in enumerate(self.names):
            columns[name] = pa.array(self.x[:, i], pa.float64(), from_pandas=True)
        columns["churned"] = pa.array(self.churned, pa.bool_())
        columns["contracted"] = pa.array(self.contracted, pa.bool_())
        columns["complete"] = pa.array(self.complete, pa.bool_())
        return pa.table(columns)


def scoring_days(first: date, as_of: date, step: int = SCORING_STEP_DAYS) -> list[date]:
    """``as_of``, ``as_of - step``, … back to ``first + FIRST_DAY_MARGIN``, oldest first."""
    days = []
    day = as_of
    while day >= first + timedelta(days=FIRST_DAY_MARGIN):
        days.append(day)
        day -= timedelta(days=step)
    return days[::-1]


def first_data_day(app_db: Engine) -> date | None:
    """The first day of any subscription, or of the event store when it starts later: before
    it, every customer would look inactive (zero usage is not the same as no record of usage)."""
    with Session(app_db) as session:
        first: date | None = session.scalar(select(Subscription.start_date).order_by("start_date"))
    stored = event_days()
    if first is not None and stored:
        # the first UTC day file can hold the previous local day's last hours: start a day later
        first = max(first, date.fromisoformat(stored[0]) + timedelta(days=1))
    return first


def build_rows(
    app_db: Engine,
    days: list[date],
    horizon_days: int,
    known_until: date,
    cards: list[Scorecard],
    progress: Callable[[str, int, int | None], None] | None = None,
) -> Rows:
    """Rows for every customer on each of ``days`` (ascending, ``SCORING_STEP_DAYS`` apart)."""
    inputs = HealthInputs(app_db)
    accounts = {row["id"]: row for row in inputs.accounts().to_pylist()}
    # a few days per pass keep the joined usage windows of many accounts within memory
    per_pass = max(1, ACCOUNT_DAYS_PER_PASS // max(1, len(accounts)))
    parts = []
    for i in range(0, len(days), per_pass):
        parts.append(inputs.raw_values(days[i : i + per_pass]))
        if progress:
            progress("features", min(i + per_pass, len(days)), len(days))
    raw = pa.concat_tables(parts, promote_options="default")
    account_ids = np.asarray(raw["account_id"].to_numpy(zero_copy_only=False), dtype=np.int64)
    row_days = np.array(raw["day"].to_pylist(), dtype=object)
    measure_names = [
        c for c in raw.column_names if c not in ("account_id", "day", *LEAKY_OR_MANUAL)
    ]
    measures = np.column_stack([_floats(raw[c]) for c in measure_names])

    with Session(app_db) as session:
        lines = _lines_by_account(session)
        fx = contracts.fx_table(
            session,
            min(days) - timedelta(days=90),
            max(max(days) + timedelta(days=horizon_days), known_until),
        )
    contract = np.array(
        [
            _contract_features(lines.get(int(a), []), d, fx)
            for a, d in zip(account_ids, row_days, strict=True)
        ],
        dtype=float,
    ).reshape(len(account_ids), len(CONTRACT_FEATURES))
    labels = np.array(
        [
            _labels(lines.get(int(a), []), d, horizon_days, fx)
            for a, d in zip(account_ids, row_days, strict=True)
        ],
        dtype=bool,
    ).reshape(len(account_ids), 2)
    # the card's score from what was knowable on t: contract measures from the lines as known
    # then, no ticket CSAT or pulse (the card re-weights the measures it has)
    knowable = {c: _floats(raw[c]) for c in raw.column_names if c not in ("account_id", "day")}
    knowable["days_to_renewal"] = contract[:, CONTRACT_FEATURES.index("days_to_renewal")]
    mrr_change = contract[:, CONTRACT_FEATURES.index("mrr_change_90d")]
    knowable["recent_downgrade"] = np.where(np.isnan(mrr_change), np.nan, mrr_change < 0)
    knowable["ticket_csat_90d"] = np.full(len(account_ids), np.nan)
    knowable["csm_pulse"] = np.full(len(account_ids), np.nan)
    health = _health_scores(raw["account_id"].to_pylist(), knowable, cards, accounts)
    change = _change_since(account_ids, row_days, health, SCORING_STEP_DAYS)
    complete = np.array(
        [d + timedelta(days=horizon_days) <= known_until for d in row_days], dtype=bool
    )
    x = np.column_stack([measures, contract, health, change])
    names = [*measure_names, *CONTRACT_FEATURES, *HEALTH_FEATURES]
    return Rows(account_ids, row_days, x, names, labels[:, 0], labels[:, 1], complete)


def _floats(column: pa.ChunkedArray) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in column.to_pylist()], dtype=float)


def _health_scores(
    ids: list[int],
    values: dict[str, np.ndarray],
    cards: list[Scorecard],
    accounts: dict[int, dict[str, object]],
) -> np.ndarray:
    """Each row's overall health score as its scorecard computes it from ``values`` (no
    override: overrides are a person's judgement, entered for the current day)."""
    out = np.full(len(ids), np.nan)
    positions: dict[str, list[int]] = defaultdict(list)
    by_name = {c.name: c for c in cards}
    for pos, account_id in enumerate(ids):
        card = choose_scorecard(cards, accounts.get(account_id, {}))
        if card is not None:
            positions[card.name].append(pos)
    for name, pos in positions.items():
        card = by_name[name]
        picked = {m: values[m][pos] for m in card.measure_names if m in values}
        out[pos] = score_rows(card, picked, len(pos)).overall
    return out


def _change_since(
    account_ids: np.ndarray, days: np.ndarray, values: np.ndarray, step: int
) -> np.ndarray:
    """``value(t) - value(t - step)`` for the same account (NaN when it had no row then)."""
    index = {(int(a), d): v for a, d, v in zip(account_ids, days, values, strict=True)}
    gap = timedelta(days=step)
    return np.array(
        [
            v - index.get((int(a), d - gap), np.nan)
            for a, d, v in zip(account_ids, days, values, strict=True)
        ],
        dtype=float,
    )


def _lines_by_account(session: Session) -> dict[int, list[contracts.Line]]:
    lines: dict[int, list[contracts.Line]] = defaultdict(list)
    for s in session.scalars(select(Subscription)):
        lines[s.account_id].append(contracts.Line.of(s))
    return lines


def known_on(lines: list[contracts.Line], day: date) -> list[contracts.Line]:
    """The lines as they stood on ``day``: started by then, an end after ``day`` not yet known."""
    return [
        line
        if line.end_date is None or line.end_date <= day
        else contracts.Line(
            line.account_id,
            line.start_date,
            None,
            line.amount,
            line.currency,
            line.billing_period_months,
        )
        for line in lines
        if line.start_date <= day
    ]


def _contract_features(
    lines: list[contracts.Line], day: date, fx: contracts.FxTable
) -> tuple[float, float, float, float]:
    known = known_on(lines, day)
    mrr = contracts.account_mrr(known, day, fx)
    before = contracts.account_mrr(known, day - timedelta(days=90), fx)
    change = (mrr - before) / before if before > 0 else np.nan
    renewal = contracts.account_next_renewal(known, day)
    to_renewal = float((renewal - day).days) if renewal else np.nan
    active = [x for x in known if x.amount > 0 and contracts.is_active(x, day)]
    term = float(max((x.billing_period_months for x in active), default=0)) or np.nan
    starts = [x.start_date for x in known if x.amount > 0]
    tenure = float((day - min(starts)).days) if starts else np.nan
    return change, to_renewal, term, tenure


def _labels(
    lines: list[contracts.Line], day: date, horizon_days: int, fx: contracts.FxTable
) -> tuple[bool, bool]:
    end = day + timedelta(days=horizon_days)
    checks = {end} | {
        x.end_date for x in lines if x.end_date is not None and day < x.end_date <= end
    }
    churned = any(not contracts.is_customer(lines, d) for d in checks)
    if churned:
        return True, False
    now = sum(
        (contracts.line_mrr(x, fx, day) for x in lines if contracts.is_active(x, day)),
        start=0,
    )
    later = sum(
        (contracts.line_mrr(x, fx, day) for x in lines if contracts.is_active(x, end)),
        start=0,
    )
    return False, later < now
