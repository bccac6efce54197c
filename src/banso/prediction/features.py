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

import duckdb
import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
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
        fx = contracts.fx_table(
            session,
            min(days) - timedelta(days=90),
            max(max(days) + timedelta(days=horizon_days), known_until),
        )
    contract, labels = contract_facts(inputs.con.con, account_ids, row_days, horizon_days, fx)
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
    """A column as floats, null as NaN."""
    return np.asarray(
        pc.fill_null(column.cast(pa.float64()), np.nan).to_numpy(zero_copy_only=False),
        dtype=float,
    )


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
    # a card per account, not per row (an account has a row per scoring day)
    ids_array = np.asarray(ids, dtype=np.int64)
    unique, inverse = np.unique(ids_array, return_inverse=True)
    chosen = [choose_scorecard(cards, accounts.get(int(a), {})) for a in unique]
    names = np.array([c.name if c is not None else "" for c in chosen], dtype=object)[inverse]
    for name in sorted(set(names) - {""}):
        positions[name] = np.flatnonzero(names == name).tolist()
    for name, pos in positions.items():
        card = by_name[name]
        picked = {m: values[m][pos] for m in card.measure_names if m in values}
        out[pos] = score_rows(card, picked, len(pos)).overall
    return out


def _change_since(
    account_ids: np.ndarray, days: np.ndarray, values: np.ndarray, step: int
) -> np.ndarray:
    """``value(t) - value(t - step)`` for the same account (NaN when it had no row then)."""
    ordinal = np.array([d.toordinal() for d in days], dtype=np.int64)
    here = pd.DataFrame({"a": np.asarray(account_ids, dtype=np.int64), "d": ordinal - step})
    earlier = pd.DataFrame(
        {"a": np.asarray(account_ids, dtype=np.int64), "d": ordinal, "v": values}
    ).drop_duplicates(["a", "d"], keep="last")
    found = here.merge(earlier, on=["a", "d"], how="left")["v"].to_numpy(dtype=float)
    return values - found


def lines_by_account(session: Session) -> dict[int, list[contracts.Line]]:
    """Every account's lines, for :func:`row_contract_features` and :func:`row_labels` (the
    row-by-row statement of what :func:`contract_facts` computes set-based; tests compare them)."""
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


def row_contract_features(
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


def row_labels(
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


# ---------------------------------------------------------------------------------------------
# Contract features and labels of every row at once: DuckDB over revenue.contracts' Ibis facts.

_ROWS = ibis.table(
    {"row": "int64", "account_id": "int64", "day": "date", "before": "date", "end": "date"},
    name="churn_rows",
)
_FX = ibis.table(contracts.FX_FACTOR_SCHEMA, name="churn_fx")


def contract_facts(
    con: duckdb.DuckDBPyConnection,
    account_ids: np.ndarray,
    days: np.ndarray,
    horizon_days: int,
    fx: contracts.FxTable,
) -> tuple[np.ndarray, np.ndarray]:
    """The contract features (:data:`CONTRACT_FEATURES`, float, NaN = none) and the labels
    (churned, contracted) of each ``(account_ids[i], days[i])``, as :func:`row_contract_features`
    and :func:`row_labels` give them row by row, in a few set-based queries over the table
    ``subscriptions`` (:data:`contracts.SUBSCRIPTION_COLUMNS`) registered on ``con``.
    ``fx`` must hold the months from 90 days before the first day to the last horizon's end."""
    n = len(account_ids)
    day = np.asarray([d.toordinal() for d in days], dtype=np.int64) if n else np.empty(0, int)
    epoch = date(1970, 1, 1).toordinal()

    def as_dates(ordinals: np.ndarray) -> pa.Array:
        return pa.array(ordinals - epoch, pa.int32()).cast(pa.date32())

    con.register(
        "churn_rows",
        pa.table(
            {
                "row": pa.array(np.arange(n), pa.int64()),
                "account_id": pa.array(account_ids, pa.int64()),
                "day": as_dates(day),
                "before": as_dates(day - 90),
                "end": as_dates(day + horizon_days),
            }
        ),
    )
    first = min(days) - timedelta(days=90) if n else date(1970, 1, 1)
    last = max(days) + timedelta(days=horizon_days) if n else first
    factors, divisor = contracts.fx_factor_rows(fx, first, last)
    con.register("churn_fx", factors)
    features = np.full((n, len(CONTRACT_FEATURES)), np.nan)
    labels = np.zeros((n, 2), dtype=bool)
    if n == 0:
        return features, labels

    def fetch(expr: ibis.Table) -> dict[str, np.ndarray]:
        table = con.sql(contracts.duckdb_select(expr)).to_arrow_table()
        return {c: table[c].to_numpy(zero_copy_only=False) for c in table.column_names}

    # MRR on t and 90 days before (account_mrr: the lines known on t give the same sums)
    r, s = _ROWS, contracts.SUBSCRIPTIONS
    mrr_days = r.select(day=r.day).union(r.select(day=r.before)).distinct()
    mrr = contracts.customers_on_days(s, mrr_days, fx.reporting, _FX, divisor)
    now = r.left_join(mrr, [r.account_id == mrr.account_id, r.day == mrr.day])
    now = now.select(r.row, on_day=mrr.mrr, on_day_found=mrr.account_id.notnull())
    before = r.left_join(mrr, [r.account_id == mrr.account_id, r.before == mrr.day])
    before = before.select(r.row, before=mrr.mrr, before_found=mrr.account_id.notnull())
    got = fetch(now.join(before, "row").order_by("row"))
    # no row: not a customer, MRR 0; a row with a null MRR: a line's rate is missing
    unvalued = (got["on_day_found"] & pd.isna(got["on_day"])) | (
        got["before_found"] & pd.isna(got["before"])
    )
    _raise_missing_rate(con, unvalued, fx)
    mrr_now = np.where(got["on_day_found"], _float(got["on_day"]), 0.0)
    mrr_before = np.where(got["before_found"], _float(got["before"]), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        change = np.where(mrr_before > 0, (mrr_now - mrr_before) / mrr_before, np.nan)

    # the paid lines known on t: renewal, billing term, tenure
    k = r.join(s, [s.account_id == r.account_id, s.start_date <= r.day, s.amount > 0])
    known_end = ibis.ifelse(k.end_date > k.day, ibis.null("date"), k.end_date)
    renewal = contracts.next_renewal_expr(k.start_date, known_end, k.billing_period_months, k.day)
    yearly = k.billing_period_months >= contracts.RENEWAL_TERM_MONTHS
    active = contracts.is_active_expr(k.start_date, k.end_date, k.day)
    per_row = k.group_by("row").aggregate(
        renewal=ibis.ifelse(yearly, renewal, ibis.null("date")).min(),
        term=ibis.ifelse(active, k.billing_period_months, ibis.null("int64")).max(),
        first_start=k.start_date.min(),
        day=k.day.first(),
    )
    per_row = per_row.select(
        "row",
        "term",
        to_renewal=per_row.renewal.delta(per_row.day, unit="day"),
        tenure=per_row.day.delta(per_row.first_start, unit="day"),
    )
    got = fetch(per_row)
    rows = got["row"].astype(np.int64)
    features[:, 0] = change
    features[rows, 1] = _float(got["to_renewal"])
    features[rows, 2] = _float(got["term"])
    features[rows, 3] = _float(got["tenure"])
    features[:, 2][features[:, 2] == 0] = np.nan

    # churned: not a customer on t + horizon or on a line's end within (t, t + horizon]
    ends = r.join(s, [s.account_id == r.account_id, s.end_date > r.day, s.end_date <= r.end])
    checks = r.select("row", "account_id", check=r.end).union(
        ends.select(ends.row, ends.account_id, check=ends.end_date)
    )
    checks = checks.distinct()
    paid = s.filter(s.amount > 0)
    on = checks.left_join(
        paid,
        [
            paid.account_id == checks.account_id,
            contracts.is_active_expr(paid.start_date, paid.end_date, checks.check),
        ],
    )
    customer = on.group_by(["row", "check"]).aggregate(lines=on.start_date.count())
    lost = customer.filter(customer.lines == 0).select("row").distinct()
    churned = np.zeros(n, dtype=bool)
    churned[fetch(lost)["row"].astype(np.int64)] = True

    # contracted: less MRR on t + horizon than on t, both at t's rates (unrounded, exact)
    a = r.join(s, [s.account_id == r.account_id, s.start_date <= r.end])
    a = a.mutate(month_idx=a.day.year() * 12 + a.day.month() - 1)
    a = a.left_join(_FX, [a.currency == _FX.currency, a.month_idx == _FX.month_idx])
    scaled = (
        a.amount.cast("decimal(38, 0)")
        * (contracts.MRR_SCALE // a.billing_period_months)
        * a.per_minor.cast("decimal(38, 0)")
    )
    on_day = contracts.is_active_expr(a.start_date, a.end_date, a.day)
    on_end = contracts.is_active_expr(a.start_date, a.end_date, a.end)
    sums = a.group_by("row").aggregate(
        now=ibis.ifelse(on_day, scaled, 0).sum(),
        later=ibis.ifelse(on_end, scaled, 0).sum(),
        missing=(a.per_minor.isnull() & (on_day | on_end)).sum(),
    )
    fewer = np.zeros(n, dtype=bool)
    fewer[fetch(sums.filter(sums.later < sums.now).select("row"))["row"].astype(np.int64)] = True
    unvalued = np.zeros(n, dtype=bool)
    unvalued[fetch(sums.filter(sums.missing > 0).select("row"))["row"].astype(np.int64)] = True
    _raise_missing_rate(con, unvalued & ~churned, fx)
    labels[:, 0] = churned
    labels[:, 1] = ~churned & fewer
    return features, labels


def _float(values: np.ndarray) -> np.ndarray:
    """Numbers with None/NaT as NaN."""
    return np.array(pd.to_numeric(pd.Series(values), errors="coerce"), dtype=float)


def _raise_missing_rate(
    con: duckdb.DuckDBPyConnection, rows: np.ndarray, fx: contracts.FxTable
) -> None:
    """:class:`contracts.MissingFxRate` naming a currency and month without a rate, when any of
    ``rows`` (of ``churn_rows``) needed one (as the row-by-row facts raise)."""
    if not rows.any():
        return
    first = int(np.flatnonzero(rows)[0])
    found = con.execute(
        "SELECT s.currency, r.day, r.before, r.end FROM churn_rows r JOIN subscriptions s "
        "USING (account_id) WHERE r.row = ? AND s.currency <> ?",
        [first, fx.reporting],
    ).fetchall()
    for currency, *on in found:
        for day in on:
            fx.factor(currency, day)  # raises for the missing one
