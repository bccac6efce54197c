"""Revenue and retention KPIs, each defined once (spec: ``docs/metrics.md``).

The heavy part of every KPI is an Ibis expression over the app tables (``subscriptions``,
``accounts``, ``team_members``) and two small dimension tables, so DuckDB, PostgreSQL and Spark
compute it from one definition. The expressions return exact integer aggregates in **scaled
units**: an amount of ``u`` scaled units is ``u / Scale.denominator`` major units of the reporting
currency (see :class:`Scale`). The ratios (churn rates, NRR, ARPA, LTV, …) are then taken from
those integers with :class:`fractions.Fraction` in :func:`monthly_kpis` and
:func:`cohort_rows`, so nothing is rounded before output, on any engine.

Month indices: ``year * 12 + month - 1``; a subscription is active at the end of month ``m`` iff
``start_idx <= m < end_idx`` (``end_date`` is exclusive; an open end runs on).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import lcm

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from banso.i18n import _

MONEY, RATE, COUNT, LABEL = "money", "rate", "count", "label"


@dataclass(frozen=True)
class Kpi:
    """One KPI of the report: its output key, kind (money/rate/count/label) and label."""

    key: str
    kind: str
    label_en: str
    label_ja: str

    def label(self) -> str:
        """The label in the current language (the catalogue holds the Japanese)."""
        return _(self.label_en)


REVENUE_KPIS: tuple[Kpi, ...] = (
    Kpi("month", LABEL, "Month", "月"),
    Kpi("mrr_start", MONEY, "MRR at start", "期首MRR"),
    Kpi("mrr_end", MONEY, "MRR at end", "期末MRR"),
    Kpi("new_mrr", MONEY, "New MRR", "新規MRR"),
    Kpi("expansion_mrr", MONEY, "Expansion MRR", "拡大MRR"),
    Kpi("contraction_mrr", MONEY, "Contraction MRR", "縮小MRR"),
    Kpi("churned_mrr", MONEY, "Churned MRR", "解約MRR"),
    Kpi("reactivation_mrr", MONEY, "Reactivation MRR", "復活MRR"),
    Kpi("customers_start", COUNT, "Customers at start", "期首顧客数"),
    Kpi("customers_end", COUNT, "Customers at end", "期末顧客数"),
    Kpi("new_customers", COUNT, "New customers", "新規顧客数"),
    Kpi("expansion_customers", COUNT, "Expanding customers", "拡大顧客数"),
    Kpi("contraction_customers", COUNT, "Contracting customers", "縮小顧客数"),
    Kpi("churned_customers", COUNT, "Churned customers", "解約顧客数"),
    Kpi("reactivated_customers", COUNT, "Reactivated customers", "復活顧客数"),
    Kpi("logo_churn_rate", RATE, "Logo churn", "顧客解約率"),
    Kpi("mrr_churn_rate", RATE, "MRR churn", "月次解約率"),
    Kpi("gross_mrr_churn_rate", RATE, "Gross MRR churn", "ダウンセル込み解約率"),
    Kpi("net_mrr_churn_rate", RATE, "Net MRR churn", "純解約率"),
    Kpi("renewal_due_mrr", MONEY, "MRR due for renewal", "更新対象MRR"),
    Kpi("renewal_churned_mrr", MONEY, "MRR not renewed", "更新解約MRR"),
    Kpi("renewal_churn_rate", RATE, "Renewal churn", "月次更新解約率"),
    Kpi("nrr_1m", RATE, "NRR (1 month)", "月次売上継続率"),
    Kpi("nrr_12m", RATE, "NRR (12 months)", "売上継続率"),
    Kpi("grr_12m", RATE, "GRR (12 months)", "グロス売上継続率"),
    Kpi("arpa", MONEY, "ARPA", "顧客あたり平均MRR"),
    Kpi("quick_ratio", RATE, "Quick ratio", "クイックレシオ"),
    Kpi("ltv", MONEY, "LTV", "顧客生涯価値"),
)
"""The revenue report's columns, in the order of the output contract (spec §9)."""

COHORT_KPIS: tuple[Kpi, ...] = (
    Kpi("cohort", LABEL, "Cohort", "コホート"),
    Kpi("age", COUNT, "Age (months)", "経過月数"),
    Kpi("customers", COUNT, "Customers", "顧客数"),
    Kpi("logo_retention", RATE, "Logo retention", "顧客継続率"),
    Kpi("mrr", MONEY, "MRR", "MRR"),
    Kpi("revenue_retention", RATE, "Revenue retention", "売上継続率"),
)
"""The cohort table's columns (spec §8, §9)."""

KPI_KINDS: dict[str, str] = {k.key: k.kind for k in REVENUE_KPIS + COHORT_KPIS}


@dataclass(frozen=True)
class Scale:
    """How exact money becomes integers every engine sums without loss.

    A subscription's MRR in reporting-currency major units is
    ``amount / 10**e / bpm * rate``. With ``L`` the lcm of the billing periods present,
    ``p`` the decimal places of the FX rates used and ``emax`` the largest minor-unit exponent
    present, ``amount * (L / bpm) * (rate * 10**p) * 10**(emax - e)`` is an integer, and the MRR is
    that integer over ``denominator = L * 10**p * 10**emax``.

    Engines hold a line's and an account's value in 64-bit integers and sum over accounts in
    38-digit decimals, so a report is exact while, for every account, ``Σ |amount| × (L / bpm) ×
    (largest factor of its currency)`` is at most ``2**63 - 1``; ``revenue.service`` checks that
    bound before a report and refuses with a clear error beyond it.
    """

    period_lcm: int
    rate_decimals: int
    max_exponent: int

    @property
    def denominator(self) -> int:
        """Scaled units per major unit of the reporting currency."""
        return self.period_lcm * 10**self.rate_decimals * 10**self.max_exponent

    @classmethod
    def for_periods(
        cls, periods: Sequence[int], rate_decimals: int = 0, max_exponent: int = 0
    ) -> Scale:
        return cls(lcm(1, *periods), rate_decimals, max_exponent)


# ---------------------------------------------------------------------------------------------
# Ibis definitions: integer aggregates per month (and breakdown key).


def subscription_lines(subscriptions: ir.Table, scale: Scale) -> ir.Table:
    """Contract lines as month indices and ``unit`` = amount × (L / billing period).

    ``unit`` is the line's MRR in scaled units before currency conversion.
    """
    s = subscriptions
    multiplier = ibis.cases(
        *(
            (s.billing_period_months == bpm, scale.period_lcm // bpm)
            for bpm in _divisors(scale.period_lcm)
        ),
        else_=0,
    )
    return s.select(
        account_id=s.account_id.cast("int64"),
        currency=s.currency,
        bpm=s.billing_period_months.cast("int64"),
        start_idx=(s.start_date.year() * 12 + s.start_date.month() - 1).cast("int64"),
        start_day=s.start_date.day().cast("int64"),
        end_idx=(s.end_date.year() * 12 + s.end_date.month() - 1).cast("int64"),
        end_day=s.end_date.day().cast("int64"),
        unit=s.amount.cast("int64") * multiplier.cast("int64"),
    )


_OPEN_END = 10**9
"""Month index standing in for an open end: plain inequalities let engines use range joins."""


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def _converted(rows: ir.Table, fx: ir.Table | None) -> ir.Table:
    """``rows`` (with ``currency``, ``month_idx``, ``unit``) plus ``value`` in scaled units of the
    reporting currency at that month's rate; ``fx`` is (currency, month_idx, factor), or None when
    every line is in the reporting currency (factor 1)."""
    if fx is None:
        return rows.mutate(value=rows.unit)
    joined = rows.join(fx, [rows.currency == fx.currency, rows.month_idx == fx.month_idx])
    return joined.mutate(value=joined.unit * joined.factor)


def mrr_changes(
    lines: ir.Table,
    months: ir.Table,
    fx: ir.Table | None,
    steady: Mapping[str, int] | None,
    first_idx: int,
    last_idx: int,
) -> ir.Table:
    """``MRR(a, M)`` in scaled units (spec §2) as its changes: one row per account and month of
    ``first_idx..last_idx`` whose month-end MRR differs from the month before's.

    Columns: account_id, month_idx, mrr (``MRR(a, M)``, held until the account's next row),
    before (``MRR(a, M-1)``), until (the month of the account's next row, or ``last_idx + 1``),
    cohort_idx (the account's first month with MRR > 0 over all data: its cohort in spec §8 and
    the test of "before" in §3). An account-month without a row has the MRR of the account's
    latest earlier row, 0 before its first: an account paying the same for 20 months is one row.

    Built by cumulative deltas, so the cost grows with the lines, not with lines × months. A
    line in a ``steady`` currency (currency → its factor in every month of the range: with
    ``fx`` None, every line, at factor 1) adds its value in its start month and takes it away in
    its end month (``end_date`` is exclusive, so a line is active at the end of months
    ``start..end-1``; starting and ending in one month, it never shows). A line in another
    currency is worth a different amount each month (spec "Currency": converted at each
    month's rate, ``fx``): it adds its value at month M's rate in M and takes the same away in
    M + 1, for every month it is active. Per account, the running sum of its deltas in month
    order is its MRR after each change, exactly (integers).

    The rows are valid from ``first_idx`` on (``months`` covers ``first_idx..last_idx``): a
    line that started earlier is counted from ``first_idx``, so ``before`` is 0 there and the
    movements of ``first_idx`` itself are not meaningful; later months are exact. The cohort
    comes from the lines (all of them), since with amounts >= 0 and positive FX rates
    ``MRR(a, M) > 0`` exactly when a paid line is active at M, and a line is first active at the
    end of its start month.
    """
    live = lines.filter(
        (lines.start_idx <= last_idx)
        & (lines.end_idx.isnull() | (lines.end_idx > first_idx))
        & (lines.unit != 0)
    )
    if fx is None:
        fixed, moving = live.mutate(value=live.unit), None
    else:
        steady = dict(steady or {})
        in_steady = live.currency.isin(list(steady)) if steady else ibis.literal(False)
        fixed = live.filter(in_steady)
        factor = ibis.cases(
            *((fixed.currency == c, ibis.literal(f, "int64")) for c, f in steady.items()),
            else_=ibis.literal(0, "int64"),
        )
        fixed = fixed.mutate(value=fixed.unit * factor)
        moving = live.filter(~in_steady)
    one_month = [
        fixed.select(
            fixed.account_id,
            month_idx=ibis.greatest(fixed.start_idx, first_idx).cast("int64"),
            delta=fixed.value.cast("int64"),
        ),
        fixed.filter(fixed.end_idx.notnull() & (fixed.end_idx <= last_idx)).select(
            fixed.account_id,
            month_idx=fixed.end_idx.cast("int64"),
            delta=-fixed.value.cast("int64"),
        ),
    ]
    if moving is not None:
        active = moving.join(
            months,
            [
                months.month_idx >= moving.start_idx,
                months.month_idx < moving.end_idx.fill_null(_OPEN_END),
            ],
        ).select(moving.account_id, moving.currency, moving.unit, months.month_idx)
        valued = _converted(active, fx)
        worth = valued.group_by(["account_id", "month_idx"]).aggregate(
            value=valued.value.sum().cast("int64")
        )
        one_month.append(
            worth.select(
                worth.account_id, month_idx=worth.month_idx.cast("int64"), delta=worth.value
            )
        )
        one_month.append(
            worth.filter(worth.month_idx < last_idx).select(
                worth.account_id, month_idx=(worth.month_idx + 1).cast("int64"), delta=-worth.value
            )
        )
    deltas = ibis.union(*one_month)
    deltas = deltas.group_by(["account_id", "month_idx"]).aggregate(
        delta=deltas.delta.sum().cast("int64")
    )
    deltas = deltas.filter(deltas.delta != 0)
    running = ibis.cumulative_window(group_by=deltas.account_id, order_by=deltas.month_idx)
    following = ibis.window(group_by=deltas.account_id, order_by=deltas.month_idx)
    level = deltas.delta.sum().over(running).cast("int64")
    changes = deltas.select(
        deltas.account_id,
        deltas.month_idx,
        mrr=level,
        before=(level - deltas.delta).cast("int64"),
        until=deltas.month_idx.lead().over(following).fill_null(last_idx + 1).cast("int64"),
    )
    paid = lines.filter((lines.unit > 0) & (lines.start_idx < lines.end_idx.fill_null(_OPEN_END)))
    cohorts = paid.group_by("account_id").aggregate(cohort_idx=paid.start_idx.min())
    return changes.join(cohorts, "account_id").select(
        changes.account_id,
        changes.month_idx,
        changes.mrr,
        changes.before,
        changes.until,
        cohorts.cohort_idx,
    )


def month_end_mrr(changes: ir.Table, months: ir.Table, last_idx: int) -> ir.Table:
    """The month-end snapshot spelled out: one row per account and month up to ``last_idx``
    where ``MRR(a, M) > 0`` (spec §2), from :func:`mrr_changes`. Columns: account_id, month_idx,
    mrr, cohort_idx. Only the splits by the owner of each month need it (their keys are per
    account and month anyway); everything else is summed from the changes."""
    held = changes.filter(changes.mrr > 0)
    held = held.select(
        held.account_id,
        since=held.month_idx,
        until=held.until,
        mrr=held.mrr,
        cohort=held.cohort_idx,
    )
    spread = held.join(
        months,
        [
            months.month_idx >= held.since,
            months.month_idx < held.until,
            months.month_idx <= last_idx,
        ],
    )
    return spread.select(
        account_id=spread.account_id,
        month_idx=spread.month_idx,
        mrr=spread.mrr,
        cohort_idx=spread.cohort,
    )


def movements(
    changes: ir.Table,
    months: ir.Table,
    keys: ir.Table | None,
    last_idx: int,
    *,
    levels: bool = True,
) -> ir.Table:
    """MRR movements and customer counts per month (and key) up to ``last_idx`` (spec §2, §3),
    from :func:`mrr_changes`.

    Each account and month compares ``p = MRR(a, M-1)`` with ``c = MRR(a, M)``; netted per
    account. Columns: month_idx, [key,] the five movements' amounts and customer counts, and
    with ``levels`` mrr_start, mrr_end, customers_start, customers_end (only months where one of
    the customer counts is > 0 then).

    Movements happen only where an account's MRR changes, so they are summed over the rows of
    :func:`mrr_changes`. The levels are held between changes: per month (and key) the changes
    add ``c - p`` to the MRR and +1 (an account becoming a customer) or -1 (one leaving) to the
    customers, and a running sum over the months gives ``mrr_end`` and ``customers_end``,
    ``mrr_start``/``customers_start`` being the level before the month's change. With keys per
    account and month (the owner of each month), an account's key can change without its MRR
    changing, so the month-by-month snapshot (:func:`month_end_mrr`) is compared instead.
    """
    if keys is not None and "month_idx" in keys.columns:
        return _movements_month_by_month(month_end_mrr(changes, months, last_idx), keys, last_idx)
    rows = changes.filter(changes.month_idx <= last_idx)
    group = []
    if keys is not None:
        rows = rows.left_join(keys, "account_id").select(rows, keys.key)
        group = ["key"]
    c, p, accounts = rows.mrr, rows.before, rows.account_id
    arrived = (p == 0) & (c > 0)
    is_new = arrived & (rows.month_idx == rows.cohort_idx)
    is_back = arrived & (rows.month_idx > rows.cohort_idx)
    grew = (p > 0) & (c > p)
    shrank = (c > 0) & (c < p)
    left = (p > 0) & (c == 0)
    moves = {
        "new_mrr": _total(c, is_new),
        "new_customers": accounts.count(where=is_new),
        "reactivation_mrr": _total(c, is_back),
        "reactivated_customers": accounts.count(where=is_back),
        "expansion_mrr": _total(c - p, grew),
        "expansion_customers": accounts.count(where=grew),
        "contraction_mrr": _total(p - c, shrank),
        "contraction_customers": accounts.count(where=shrank),
        "churned_mrr": _total(p, left),
        "churned_customers": accounts.count(where=left),
    }
    if not levels:
        return rows.group_by([*group, "month_idx"]).aggregate(**moves)
    steps = rows.group_by([*group, "month_idx"]).aggregate(
        **moves,
        d_mrr=_total(c - p),
        d_customers=(accounts.count(where=arrived) - accounts.count(where=left)).cast("int64"),
    )
    held = _held(
        steps, group, {"mrr_end": "d_mrr", "customers_end": "d_customers"}, months, last_idx
    )
    held = held.select(
        *group,
        "month_idx",
        mrr_start=(held.mrr_end - held.d_mrr).cast(_EXACT_SUM),
        mrr_end=held.mrr_end,
        customers_start=(held.customers_end - held.d_customers).cast("int64"),
        customers_end=held.customers_end,
        **{name: held[name] for name in moves},
    )
    return held.filter((held.customers_start > 0) | (held.customers_end > 0))


def _movements_month_by_month(snapshot: ir.Table, keys: ir.Table, last_idx: int) -> ir.Table:
    """:func:`movements` from the month-end snapshot (:func:`month_end_mrr`) and keys per
    account and month: each account-month with ``p > 0`` or ``c > 0`` is compared."""
    cur = snapshot.select(
        c_account=snapshot.account_id,
        c_month=snapshot.month_idx,
        c=snapshot.mrr,
        c_cohort=snapshot.cohort_idx,
    )
    prev = snapshot.select(
        p_account=snapshot.account_id,
        p_month=snapshot.month_idx + 1,
        p=snapshot.mrr,
        p_cohort=snapshot.cohort_idx,
    )
    both = cur.join(
        prev, [cur.c_account == prev.p_account, cur.c_month == prev.p_month], how="outer"
    )
    pairs = both.select(
        account_id=ibis.coalesce(both.c_account, both.p_account),
        month_idx=ibis.coalesce(both.c_month, both.p_month),
        c=both.c.fill_null(0),
        p=both.p.fill_null(0),
        cohort_idx=ibis.coalesce(both.c_cohort, both.p_cohort),
    )
    pairs = pairs.filter(pairs.month_idx <= last_idx)
    pairs = _with_key(pairs, keys)
    c, p, accounts = pairs.c, pairs.p, pairs.account_id
    arrived = (p == 0) & (c > 0)
    is_new = arrived & (pairs.month_idx == pairs.cohort_idx)
    is_back = arrived & (pairs.month_idx > pairs.cohort_idx)
    grew = (p > 0) & (c > p)
    shrank = (c > 0) & (c < p)
    left = (p > 0) & (c == 0)
    return pairs.group_by(["month_idx", "key"]).aggregate(
        mrr_start=_total(p),
        mrr_end=_total(c),
        customers_start=accounts.count(where=p > 0),
        customers_end=accounts.count(where=c > 0),
        new_mrr=_total(c, is_new),
        new_customers=accounts.count(where=is_new),
        reactivation_mrr=_total(c, is_back),
        reactivated_customers=accounts.count(where=is_back),
        expansion_mrr=_total(c - p, grew),
        expansion_customers=accounts.count(where=grew),
        contraction_mrr=_total(p - c, shrank),
        contraction_customers=accounts.count(where=shrank),
        churned_mrr=_total(p, left),
        churned_customers=accounts.count(where=left),
    )


def retention_12m(
    changes: ir.Table, months: ir.Table, keys: ir.Table | None, last_idx: int
) -> ir.Table:
    """NRR/GRR numerators and base per month (spec §6), from :func:`mrr_changes`.

    Cohort K = accounts with ``MRR(a, M-12) > 0``; columns month_idx, [key,] base (Σ_K MRR at
    M-12), kept (Σ_K MRR at M), kept_gross (Σ_K min(MRR at M, MRR at M-12)); only months with
    base > 0.

    Each level of an account (a row of :func:`mrr_changes`, held ``month_idx..until-1``) that is
    > 0, moved 12 months on, is paired with each level of the same account it overlaps: over
    the months they share, the pair (MRR at M-12, MRR at M) is constant, so it adds its base,
    kept and kept_gross in the first shared month and removes them after the last; those deltas
    summed per month (and key) and run over the months give the sums. An account has few levels,
    so the pairs are about as many as the levels, and no per-account window is needed.
    With keys per account and month (the owner of each month), month by month instead.
    """
    if keys is not None and "month_idx" in keys.columns:
        return _retention_month_by_month(month_end_mrr(changes, months, last_idx), keys, last_idx)
    then = changes.filter(changes.mrr > 0)
    then = then.select(
        t_account=then.account_id,
        t_lo=(then.month_idx + 12).cast("int64"),
        t_hi=(then.until + 12).cast("int64"),
        then=then.mrr,
    )
    now = changes.select(
        n_account=changes.account_id, n_lo=changes.month_idx, n_hi=changes.until, now=changes.mrr
    )
    # each of the account's levels 12 months on beside each of its levels it overlaps
    pairs = then.join(
        now, [then.t_account == now.n_account, now.n_lo < then.t_hi, then.t_lo < now.n_hi]
    )
    pairs = pairs.select(
        account_id=pairs.t_account,
        lo=ibis.greatest(pairs.t_lo, pairs.n_lo).cast("int64"),
        hi=ibis.least(pairs.t_hi, pairs.n_hi, last_idx + 1).cast("int64"),
        base=pairs.then,
        kept=pairs.now,
        kept_gross=ibis.least(pairs.now, pairs.then).cast("int64"),
    )
    pairs = pairs.filter(pairs.lo < pairs.hi)
    group = []
    if keys is not None:
        pairs = pairs.left_join(keys, "account_id").select(pairs, keys.key)
        group = ["key"]
    sums = ("base", "kept", "kept_gross")
    one = ibis.literal(1, "int64")
    deltas = pairs.select(*group, month_idx=pairs.lo, sign=one, **{n: pairs[n] for n in sums})
    deltas = deltas.union(
        pairs.filter(pairs.hi <= last_idx).select(
            *group, month_idx=pairs.hi, sign=-one, **{n: pairs[n] for n in sums}
        )
    )
    steps = deltas.group_by([*group, "month_idx"]).aggregate(
        **{f"d_{n}": _total(deltas[n] * deltas.sign) for n in sums}
    )
    held = _held(steps, group, {n: f"d_{n}" for n in sums}, months, last_idx)
    held = held.select(*group, "month_idx", *sums)
    return held.filter(held.base > 0)


def _retention_month_by_month(snapshot: ir.Table, keys: ir.Table, last_idx: int) -> ir.Table:
    """:func:`retention_12m` from the month-end snapshot and keys per account and month."""
    then = snapshot.select(
        t_account=snapshot.account_id, month_idx=snapshot.month_idx + 12, then=snapshot.mrr
    )
    then = then.filter(then.month_idx <= last_idx)
    now = snapshot.select(
        n_account=snapshot.account_id, n_month=snapshot.month_idx, now=snapshot.mrr
    )
    joined = then.left_join(
        now, [then.t_account == now.n_account, then.month_idx == now.n_month]
    ).select(account_id=then.t_account, month_idx=then.month_idx, then=then.then, now=now.now)
    joined = joined.mutate(now=joined.now.fill_null(0))
    joined = _with_key(joined, keys)
    return joined.group_by(["month_idx", "key"]).aggregate(
        base=_total(joined.then),
        kept=_total(joined.now),
        kept_gross=_total(ibis.least(joined.now, joined.then)),
    )


def _held(
    steps: ir.Table,
    group: Sequence[str],
    running: Mapping[str, str],
    months: ir.Table,
    last_idx: int,
) -> ir.Table:
    """Levels that change only in some months, spelled out over every month of ``months``.

    ``steps`` has one row per group and month in which something changes: ``running`` names
    each level and the column of ``steps`` by which it changes in that month. A running sum per
    group in month order gives each level from that month until the group's next row (or
    ``last_idx``). Result: per group and month of ``months`` up to ``last_idx`` from the group's
    first row,
    the levels, and every other column of ``steps`` in the month of its row, 0 in the months
    held after it.
    """
    by = list(group) or None
    upto = ibis.cumulative_window(group_by=by, order_by=steps.month_idx)
    following = ibis.window(group_by=by, order_by=steps.month_idx)
    others = [c for c in steps.columns if c not in (*group, "month_idx")]
    levels = steps.select(
        *group,
        *others,
        since=steps.month_idx,
        until=steps.month_idx.lead().over(following),
        **{
            name: steps[column].sum().over(upto).cast(steps[column].type())
            for name, column in running.items()
        },
    )
    spread = levels.join(
        months,
        [
            months.month_idx >= levels.since,
            months.month_idx < levels.until.fill_null(last_idx + 1),
            months.month_idx <= last_idx,
        ],
    )
    first = spread.month_idx == spread.since
    return spread.select(
        *group,
        month_idx=spread.month_idx,
        **{name: spread[name] for name in running},
        **{
            c: ibis.ifelse(first, spread[c], ibis.literal(0).cast(spread[c].type())) for c in others
        },
    )


def renewal_due_spans(
    lines: ir.Table,
    months: ir.Table,
    fx: ir.Table | None,
    first_idx: int,
    last_idx: int,
) -> ir.Table:
    """Lines due for renewal (spec §5) as runs of due months, without one row per month.

    Renewal date k of a line falls in month ``start_idx + k × bpm`` on day
    ``min(start day, days in that month)``. A line is due in M when a renewal date b falls in M
    and ``end_date`` is open or ``>= b``; it is not renewed when ``end_date = b``. Only the
    months ``first_idx..last_idx`` are asked about (``months`` covers them, with their length
    in days).

    A monthly line is due in every month from the one after its start to its end (or
    ``last_idx``), so it is one row: ``lo..hi``, found arithmetically. A line billed every
    ``bpm`` > 1 months has a row per renewal date in the months asked (``lo = hi``): each such
    line is paired with each month (a cross join with a table of a few dozen rows) and kept
    where a whole number of its billing periods has passed. Columns: account_id, currency,
    unit, lo, hi, end_day, ended (the line is not renewed at ``hi``: ``end_date`` is that
    renewal date), value_end (the line's value at month ``hi``'s FX rate).
    """
    started = lines.filter(lines.start_idx < last_idx)
    # monthly lines: the renewal day in the end month decides whether that month is due
    monthly = started.filter(started.bpm == 1)
    end_month = months.select(e_idx=months.month_idx, e_days=months.days)
    monthly = monthly.left_join(end_month, monthly.end_idx == end_month.e_idx).select(
        monthly, end_month.e_days
    )
    end_renewal_day = ibis.least(monthly.start_day, monthly.e_days)
    reaches_end = monthly.end_day >= end_renewal_day.fill_null(0)
    hi = ibis.cases(
        (monthly.end_idx.isnull() | (monthly.end_idx > last_idx), ibis.literal(last_idx)),
        (reaches_end, monthly.end_idx),
        else_=monthly.end_idx - 1,
    )
    runs = monthly.select(
        monthly.account_id,
        monthly.currency,
        monthly.unit,
        lo=ibis.greatest(monthly.start_idx + 1, first_idx).cast("int64"),
        hi=hi.cast("int64"),
        end_day=monthly.end_day,
        ended=(hi == monthly.end_idx) & (monthly.end_day == end_renewal_day),
    )
    runs = runs.filter(runs.lo <= runs.hi)
    # lines billed every few months: one row per renewal date
    pairs = started.filter(started.bpm > 1).cross_join(months)
    step = pairs.month_idx - pairs.start_idx
    due = pairs.filter(
        (step > 0)
        & (step % pairs.bpm == 0)
        & (pairs.month_idx >= first_idx)
        & (pairs.month_idx <= last_idx)
        & (pairs.month_idx <= pairs.end_idx.fill_null(_OPEN_END))
    )
    due = due.mutate(renewal_day=ibis.least(due.start_day, due.days))
    at_renewal = due.end_idx == due.month_idx
    due = due.filter(
        due.end_idx.isnull()
        | (due.end_idx > due.month_idx)
        | (at_renewal & (due.end_day >= due.renewal_day))
    )
    points = due.select(
        due.account_id,
        due.currency,
        due.unit,
        lo=due.month_idx,
        hi=due.month_idx,
        end_day=due.end_day,
        ended=at_renewal & (due.end_day == due.renewal_day),
    )
    spans = runs.union(points)
    valued = _converted(spans.mutate(month_idx=spans.hi), fx)
    return valued.select(
        valued.account_id,
        valued.currency,
        valued.unit,
        valued.lo,
        valued.hi,
        valued.end_day,
        valued.ended,
        value_end=valued.value.cast("int64"),
    )


def _spans_per_month(
    spans: ir.Table,
    months: ir.Table,
    keys: ir.Table | None,
    last_idx: int,
    *,
    by_currency: bool,
) -> ir.Table:
    """Per month (and key, and currency when ``by_currency``) of the runs ``lo..hi`` in
    ``spans`` covering it: ``n`` (how many runs) and ``units`` (Σ ``unit``); only months with
    ``n > 0``.

    With keys per account (or none), by cumulative deltas: each run adds itself in month ``lo``
    and removes itself in ``hi + 1``; a running sum per group gives the level after each
    change, held until the next change. With keys per account and month (the owner of each
    month), the runs are spread over their months and keyed month by month.
    """
    group = ["currency"] if by_currency else []
    units = spans.unit.cast(_EXACT_SUM) if by_currency else ibis.literal(0).cast(_EXACT_SUM)
    carried = {"account_id": spans.account_id, **{g: spans[g] for g in group}}
    if keys is not None and "month_idx" in keys.columns:
        spread = spans.join(
            months, [months.month_idx >= spans.lo, months.month_idx <= spans.hi]
        ).select(**carried, units=units, month_idx=months.month_idx)
        spread = _with_key(spread, keys)
        return spread.group_by(["month_idx", "key", *group]).aggregate(
            n=spread.account_id.count(), units=spread.units.sum().cast(_EXACT_SUM)
        )
    rows = spans.select(**carried, lo=spans.lo, hi=spans.hi, units=units)
    if keys is not None:
        rows = rows.left_join(keys, "account_id").select(rows, keys.key)
        group = ["key", *group]
    one = ibis.literal(1, "int64")
    starts = rows.select(*group, month_idx=rows.lo, dn=one, du=rows.units)
    stops = rows.select(*group, month_idx=rows.hi + 1, dn=-one, du=-rows.units)
    deltas = starts.union(stops)
    deltas = deltas.group_by([*group, "month_idx"]).aggregate(
        dn=deltas.dn.sum(), du=deltas.du.sum().cast(_EXACT_SUM)
    )
    running = ibis.cumulative_window(group_by=group or None, order_by=deltas.month_idx)
    following = ibis.window(group_by=group or None, order_by=deltas.month_idx)
    levels = deltas.select(
        *group,
        since=deltas.month_idx,
        until=deltas.month_idx.lead().over(following).fill_null(last_idx + 1),
        n=deltas.dn.sum().over(running),
        units=deltas.du.sum().over(running).cast(_EXACT_SUM),
    )
    levels = levels.filter(levels.n > 0)
    held = levels.join(months, [months.month_idx >= levels.since, months.month_idx < levels.until])
    return held.select(*group, month_idx=held.month_idx, n=held.n, units=held.units)


def renewals(
    spans: ir.Table,
    lines: ir.Table,
    months: ir.Table,
    fx: ir.Table | None,
    keys: ir.Table | None,
    last_idx: int,
) -> ir.Table:
    """MRR due for renewal and MRR not renewed per month (spec §5), from
    :func:`renewal_due_spans`. Due: Σ of the lines due in the month at its FX rate. Per account
    and month, lost = max(0, ended − replaced), replaced being the MRR of the account's lines
    that start on a date on which one of its not-renewed lines ended (valued at that month's
    rate). Columns: month_idx, [key,] due, lost.
    """
    held = _spans_per_month(spans, months, keys, last_idx, by_currency=True)
    if fx is None:
        held = held.mutate(value=held.units)
    else:
        held = held.join(fx, [held.currency == fx.currency, held.month_idx == fx.month_idx])
        held = held.mutate(value=(held.units * held.factor.cast(_EXACT_SUM)).cast(_EXACT_SUM))
    group = ["month_idx"] if keys is None else ["month_idx", "key"]
    due = held.group_by(group).aggregate(due=held.value.sum().cast(_EXACT_SUM))

    ended = spans.filter(spans.ended)
    ended = ended.select(
        ended.account_id, month_idx=ended.hi, end_day=ended.end_day, value=ended.value_end
    )
    ends = ended.select(e_account=ended.account_id, e_month=ended.month_idx, e_day=ended.end_day)
    ends = ends.distinct()
    starts = lines.join(
        ends,
        [
            lines.account_id == ends.e_account,
            lines.start_idx == ends.e_month,
            lines.start_day == ends.e_day,
        ],
    ).select(lines.account_id, lines.currency, lines.unit, month_idx=ends.e_month)
    starts = _converted(starts, fx)
    replaced = starts.group_by(["account_id", "month_idx"]).aggregate(replaced=starts.value.sum())
    replaced = replaced.select(
        r_account=replaced.account_id, r_month=replaced.month_idx, replaced=replaced.replaced
    )
    # Only accounts with a line not renewed can lose anything: net them on that small set.
    ended = ended.group_by(["account_id", "month_idx"]).aggregate(ended=ended.value.sum())
    lost = ended.left_join(
        replaced, [ended.account_id == replaced.r_account, ended.month_idx == replaced.r_month]
    ).select(
        ended.account_id,
        ended.month_idx,
        lost=ibis.greatest(ended.ended - replaced.replaced.fill_null(0), 0).cast("int64"),
    )
    if keys is not None:
        lost = _with_key(lost, keys)
    lost = lost.group_by(group).aggregate(lost=_total(lost.lost))
    zero = ibis.literal(0).cast(_EXACT_SUM)
    both = due.select(*group, due=due.due.cast(_EXACT_SUM), lost=zero).union(
        lost.select(*group, due=zero, lost=lost.lost.cast(_EXACT_SUM))
    )
    return both.group_by(group).aggregate(
        due=both.due.sum().cast(_EXACT_SUM), lost=both.lost.sum().cast(_EXACT_SUM)
    )


def renewal_counts(
    spans: ir.Table, months: ir.Table, keys: ir.Table | None, last_idx: int
) -> ir.Table:
    """Lines due (one per line and renewal date) and accounts with a line due, per month (and
    key), from :func:`renewal_due_spans`. An account is counted once a month however many of
    its runs cover it: its runs are first merged into disjoint ones. Columns: month_idx,
    [key,] lines_due, accounts_due."""
    group = ["month_idx"] if keys is None else ["month_idx", "key"]
    zero = ibis.literal(0, "int64")
    lines_due = _spans_per_month(spans, months, keys, last_idx, by_currency=False)
    accounts = _spans_per_month(_disjoint(spans), months, keys, last_idx, by_currency=False)
    both = lines_due.select(*group, lines=lines_due.n, accounts=zero).union(
        accounts.select(*group, lines=zero, accounts=accounts.n)
    )
    return both.group_by(group).aggregate(
        lines_due=both.lines.sum(), accounts_due=both.accounts.sum()
    )


def _disjoint(spans: ir.Table) -> ir.Table:
    """Each account's runs ``lo..hi`` merged where they overlap (gaps and islands): a run
    starts a new island when it begins after every earlier run of the account has ended.
    Columns: account_id, lo, hi."""
    runs = spans.select(spans.account_id, spans.lo, spans.hi).distinct()
    order = [runs.lo, runs.hi]
    before = ibis.window(group_by=runs.account_id, order_by=order, rows=(None, -1))
    reach = runs.hi.max().over(before)
    runs = runs.mutate(new=ibis.ifelse(reach.isnull() | (runs.lo > reach), 1, 0).cast("int64"))
    upto = ibis.cumulative_window(group_by=runs.account_id, order_by=[runs.lo, runs.hi])
    runs = runs.mutate(island=runs.new.sum().over(upto))
    return runs.group_by(["account_id", "island"]).aggregate(lo=runs.lo.min(), hi=runs.hi.max())


def cohort_counts(changes: ir.Table, months: ir.Table, last_idx: int) -> ir.Table:
    """Per cohort and month end: accounts with MRR > 0 and their MRR (spec §8), from
    :func:`mrr_changes`: per cohort, the changes of its accounts' MRR and of how many of them
    pay, run over the months.

    Columns: cohort_idx, month_idx, retained, mrr; only months with retained > 0.
    """
    rows = changes.filter(changes.month_idx <= last_idx)
    arrived = (rows.before == 0) & (rows.mrr > 0)
    left = (rows.before > 0) & (rows.mrr == 0)
    steps = rows.group_by(["cohort_idx", "month_idx"]).aggregate(
        d_retained=(rows.account_id.count(where=arrived) - rows.account_id.count(where=left)).cast(
            "int64"
        ),
        d_mrr=_total(rows.mrr - rows.before),
    )
    held = _held(
        steps, ["cohort_idx"], {"retained": "d_retained", "mrr": "d_mrr"}, months, last_idx
    )
    held = held.filter(held.retained > 0)
    return held.select("cohort_idx", "month_idx", "retained", "mrr")


def _total(values: ir.IntegerColumn, where: ir.BooleanValue | None = None) -> ir.NumericScalar:
    """Σ ``values`` over accounts, exactly, on every engine: one account's amount fits 64 bits
    (:func:`banso.revenue.service` checks that on input), a book's sum of them may not, so it is
    summed as a 38-digit decimal (DuckDB's int128, PostgreSQL's numeric, Spark's decimal)."""
    return values.cast(_EXACT_SUM).sum(where=where)


_EXACT_SUM = dt.Decimal(38, 0)


def breakdown_keys(accounts: ir.Table, team_members: ir.Table, by: str) -> ir.Table:
    """Each account's breakdown key for ``--by`` (a :data:`BREAKDOWNS` choice): its plan,
    segment, industry, touch model, tier, or owner's email.

    The key is the account's current attribute, so movements stay per account (an account's
    movement lands in its one key). Columns: account_id, key (null when the attribute is empty).
    """
    if by == "owner":
        joined = accounts.left_join(team_members, accounts.owner_id == team_members.id)
        return joined.select(account_id=joined.id.cast("int64"), key=joined.email)
    return accounts.select(account_id=accounts.id.cast("int64"), key=accounts[BREAKDOWNS[by]])


def _with_key(rows: ir.Table, keys: ir.Table) -> ir.Table:
    """``rows`` (per account and month) with their breakdown key: keys per account, or per
    account and month when ``keys`` has a ``month_idx`` (the owner of each month)."""
    if "month_idx" in keys.columns:
        on = [rows.account_id == keys.account_id, rows.month_idx == keys.month_idx]
        return rows.left_join(keys, on).select(rows, keys.key)
    return rows.left_join(keys, "account_id").select(rows, keys.key)


BREAKDOWNS: dict[str, str] = {
    "plan": "plan",
    "segment": "segment",
    "owner": "owner_id",
    "industry": "industry",
    "touch": "touch_model",
    "tier": "tier",
}
"""``--by`` choices and the account column each splits by (the one grouping of every report
that splits by account: revenue, renewal calendar); segment, touch model and tier are set by
``banso.segments``."""

# ---------------------------------------------------------------------------------------------
# Exact ratios from the integer aggregates.


def _ratio(num: Fraction | int, den: Fraction | int) -> Fraction | None:
    """``num / den`` exactly; None when the denominator is 0 (spec §4: null, never 0)."""
    return None if den == 0 else Fraction(num) / Fraction(den)


def monthly_kpis(
    label: str,
    agg: Mapping[str, int],
    scale: Scale,
    gross_margin: Fraction,
) -> dict[str, object]:
    """One month's report row (spec §9 keys) from its integer aggregates, exact values.

    ``agg`` holds the movement, renewal and 12-month retention aggregates of :func:`movements`,
    :func:`renewals` and :func:`retention_12m` in scaled units (0 where an aggregate has no row).
    Money is a Fraction of reporting-currency major units; rates are Fractions or None.
    """
    d = scale.denominator

    def money(key: str) -> Fraction:
        return Fraction(agg.get(key, 0), d)

    mrr_start, mrr_end = money("mrr_start"), money("mrr_end")
    new, back = money("new_mrr"), money("reactivation_mrr")
    grew, shrank, lost = money("expansion_mrr"), money("contraction_mrr"), money("churned_mrr")
    customers_start = agg.get("customers_start", 0)
    customers_end = agg.get("customers_end", 0)
    logo_churn = _ratio(agg.get("churned_customers", 0), customers_start)
    arpa = _ratio(mrr_end, customers_end)
    ltv = None
    if arpa is not None and logo_churn:
        ltv = arpa * gross_margin / logo_churn
    return {
        "month": label,
        "mrr_start": mrr_start,
        "mrr_end": mrr_end,
        "new_mrr": new,
        "expansion_mrr": grew,
        "contraction_mrr": shrank,
        "churned_mrr": lost,
        "reactivation_mrr": back,
        "customers_start": customers_start,
        "customers_end": customers_end,
        "new_customers": agg.get("new_customers", 0),
        "expansion_customers": agg.get("expansion_customers", 0),
        "contraction_customers": agg.get("contraction_customers", 0),
        "churned_customers": agg.get("churned_customers", 0),
        "reactivated_customers": agg.get("reactivated_customers", 0),
        "logo_churn_rate": logo_churn,
        "mrr_churn_rate": _ratio(lost, mrr_start),
        "gross_mrr_churn_rate": _ratio(lost + shrank, mrr_start),
        "net_mrr_churn_rate": _ratio(lost + shrank - grew, mrr_start),
        "renewal_due_mrr": money("due"),
        "renewal_churned_mrr": money("lost"),
        "renewal_churn_rate": _ratio(agg.get("lost", 0), agg.get("due", 0)),
        "nrr_1m": _ratio(mrr_start + grew - shrank - lost, mrr_start),
        "nrr_12m": _ratio(agg.get("kept", 0), agg.get("base", 0)),
        "grr_12m": _ratio(agg.get("kept_gross", 0), agg.get("base", 0)),
        "arpa": arpa,
        "quick_ratio": _ratio(new + back + grew, lost + shrank),
        "ltv": ltv,
    }


def cohort_rows(
    cohort_label: str,
    size: int,
    by_age: Sequence[tuple[int, int]],
    scale: Scale,
) -> list[dict[str, object]]:
    """One cohort's rows (spec §8): ``by_age[k]`` = (accounts with MRR > 0, their MRR in scaled
    units) at the end of month cohort + k. Exact values."""
    base = by_age[0][1] if by_age else 0
    return [
        {
            "cohort": cohort_label,
            "age": age,
            "customers": size,
            "logo_retention": _ratio(retained, size),
            "mrr": Fraction(mrr, scale.denominator),
            "revenue_retention": _ratio(mrr, base),
        }
        for age, (retained, mrr) in enumerate(by_age)
    ]
