"""Which segment each account is in on a day: the rule set as one Ibis expression over the
accounts, their MRR that day (``revenue.contracts.customers_on_days``, the one MRR definition)
and their health band that day (``banso.health`` snapshots), run on DuckDB like the health
inputs. Nothing here writes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import ibis
import ibis.expr.types as ir
import pyarrow as pa
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.analytics.engines import connect
from banso.errors import BansoError
from banso.health import snapshots
from banso.i18n import _
from banso.revenue import contracts
from banso.segments.config import Bounds, CompiledRule, RuleSet

ACCOUNT_COLUMNS = (
    Account.id,
    Account.employee_count,
    Account.industry,
    Account.plan,
    Account.lifecycle_stage,
    Account.it_literacy,
    Account.motivation,
)

ASSIGNMENT_SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.int64()),
        pa.field("segment", pa.string()),
        pa.field("mrr", pa.int64()),
    ]
)
"""One row per account: its segment and its MRR that day (minor units of the reporting
currency, 0 for an account that is not a customer that day)."""


class MissingHealth(BansoError):
    """The rules ask for a health band and the day has no health scores."""

    def __init__(self, day: date) -> None:
        super().__init__(
            _(
                "The segment rules use health bands and {day} has no health scores; run "
                "`banso health score --from {day} --to {day}` first.",
                day=day,
            )
        )


def assign_segments(session: Session, rules: RuleSet, day: date) -> pa.Table:
    """Every account's segment on ``day`` (:data:`ASSIGNMENT_SCHEMA`, by account id)."""
    # the MRR is read whatever the rules use: each evaluation reports the MRR per segment
    columns = {
        "accounts": list(ACCOUNT_COLUMNS),
        "subscriptions": list(contracts.SUBSCRIPTION_COLUMNS),
    }
    conn = connect("duckdb", session.get_bind(), columns)
    accounts = conn.table("accounts")
    mrr = _mrr_on(session, conn.table("subscriptions"), day)
    joined = accounts.left_join(mrr, accounts.id == mrr.account_id)
    features = joined.select(
        account_id=joined.id.cast("int64"),
        mrr=joined.mrr.fill_null(0).cast("int64"),
        employees=joined.employee_count,
        industry=joined.industry,
        plan=joined.plan,
        lifecycle_stage=joined.lifecycle_stage,
        it_literacy=joined.it_literacy,
        motivation=joined.motivation,
    )
    if any("health_band" in r.fields for r in rules.rules):
        bands = _bands_on(day)
        with_band = features.left_join(bands, features.account_id == bands.band_account_id)
        features = with_band.select(*features.columns, health_band=with_band.band)
    segment = _segment_expr(features, rules.rules, rules.default)
    result = features.select("account_id", segment=segment, mrr="mrr").order_by("account_id")
    return result.to_pyarrow().cast(ASSIGNMENT_SCHEMA)


def _mrr_on(session: Session, subscriptions: ir.Table, day: date) -> ir.Table:
    """``(account_id, mrr)`` of the customers on ``day``; an MRR an FX rate is missing for is
    left blank (:func:`contracts.customers_on_days`) and counts as 0 here."""
    fx = contracts.fx_table(session, day)
    days = ibis.memtable(pa.table({"day": pa.array([day], pa.date32())}))
    if not fx.factors:
        customers = contracts.customers_on_days(subscriptions, days, fx.reporting)
    else:
        factors, divisor = contracts.fx_factor_rows(fx, day, day)
        customers = contracts.customers_on_days(
            subscriptions, days, fx.reporting, ibis.memtable(factors), divisor
        )
    return customers.select(account_id=customers.account_id, mrr=customers.mrr)


def _bands_on(day: date) -> ir.Table:
    if day not in set(snapshots.scored_days()):
        raise MissingHealth(day)
    table = snapshots.read(start=day, end=day, columns="account_id, band", common_columns=True)
    table = pa.table(
        {
            "band_account_id": table.column("account_id").cast(pa.int64()),
            "band": table.column("band").cast(pa.string()),
        }
    )
    return ibis.memtable(table)


def _segment_expr(features: ir.Table, rules: list[CompiledRule], default: str) -> ir.StringValue:
    """The first matching rule's segment (``rules`` come highest priority first), else
    ``default``."""
    if not rules:
        return ibis.literal(default)
    branches = [(_matches(features, r), ibis.literal(r.segment)) for r in rules]
    return ibis.cases(*branches, else_=ibis.literal(default))


def _matches(features: ir.Table, rule: CompiledRule) -> ir.BooleanValue:
    conditions = [_holds(features[name], bounds) for name, bounds in rule.fields.items()]
    result: ir.BooleanValue = ibis.literal(True)
    for condition in conditions:
        result = result & condition
    return result


def _holds(column: ir.Column, bounds: Bounds) -> ir.BooleanValue:
    """The condition on one field; a blank value meets no condition."""
    if bounds.values is not None:
        return column.notnull() & column.isin(sorted(bounds.values))
    checks: list[Callable[[ir.Column], ir.BooleanValue]] = [lambda c: c.notnull()]
    if bounds.low is not None:
        low = bounds.low
        checks.append(lambda c: c >= low)
    if bounds.high is not None:
        high = bounds.high
        checks.append(lambda c: c < high)
    result = checks[0](column)
    for check in checks[1:]:
        result = result & check(column)
    return result
