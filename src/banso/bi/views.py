"""The BI views: what Tableau, Metabase or Power BI read. Each view is a table of rows drawn
from the fact's owner (the app tables for records, ``revenue.service`` for the monthly KPIs,
``health.snapshots`` for the health history), with its columns in a fixed order and type.
``docs/bi.md`` documents every view and column (a test checks it against :data:`VIEWS`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

import pyarrow as pa
from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from banso.accounts.models import Account, Contact
from banso.activities.models import Activity
from banso.health import snapshots
from banso.playbooks.models import Cta
from banso.revenue.models import Subscription
from banso.revenue.service import revenue_report
from banso.segments.models import SegmentMembership
from banso.surveys.models import SurveyResponse
from banso.team.models import TeamMember

MONEY = pa.decimal128(22, 2)
"""Money in major units of the reporting currency, exact to the cent (never a float)."""
UTC_TIME = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class View:
    name: str
    schema: pa.Schema
    rows: Callable[[Session], pa.Table]


def _records(table: Table, schema: pa.Schema) -> Callable[[Session], pa.Table]:
    """The named columns of an app table, by id."""

    def rows(session: Session) -> pa.Table:
        columns = [table.c[name] for name in schema.names]
        found = session.execute(select(*columns).order_by(table.c.id)).all()
        return pa.Table.from_pylist([dict(r._mapping) for r in found], schema=schema)

    return rows


def _accounts(session: Session) -> pa.Table:
    found = session.execute(
        select(
            Account.id.label("account_id"), Account.name, Account.domain, Account.industry,
            Account.employee_count, Account.plan, Account.segment, Account.touch_model,
            Account.tier, Account.lifecycle_stage, Account.owner_id,
            TeamMember.name.label("owner_name"), Account.created_at,
        )
        .outerjoin(TeamMember, TeamMember.id == Account.owner_id)
        .order_by(Account.id)
    ).all()  # fmt: skip
    return pa.Table.from_pylist([dict(r._mapping) for r in found], schema=ACCOUNTS)


def _account_monthly_kpis(session: Session) -> pa.Table:
    """Spec §2-§4 figures of each account in each month of the default report range (the
    12 months up to the last complete month), each account its own book."""
    if session.scalar(select(Subscription.id).limit(1)) is None:
        return ACCOUNT_MONTHLY_KPIS.empty_table()  # no contract yet: no month to report
    report = revenue_report(session, books=select(Account.id, Account.id))
    out = []
    for row in report.rows:
        if row.get("book") is None:
            continue
        out.append(
            {
                "account_id": row["book"],
                "month": row["month"],
                **{key: _money(row[key]) for key in MONEY_COLUMNS},
            }
        )
    out.sort(key=lambda r: (r["account_id"], r["month"]))
    return pa.Table.from_pylist(out, schema=ACCOUNT_MONTHLY_KPIS)


def _health_history(session: Session) -> pa.Table:
    table = snapshots.read(columns="day, account_id, score, band", common_columns=True)
    if table.num_rows == 0:
        return HEALTH_HISTORY.empty_table()
    return table.select(HEALTH_HISTORY.names).cast(HEALTH_HISTORY)


def _money(value: Fraction | int | None) -> Decimal | None:
    """The report's exact amount rounded half to even to the cent, as its output contract
    rounds money (``revenue.service.rounded``), but kept a decimal."""
    if value is None:
        return None
    exact = Fraction(value)
    return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(
        CENT, rounding=ROUND_HALF_EVEN
    )


CENT = Decimal("0.01")


MONEY_COLUMNS = (
    "mrr_start", "mrr_end", "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr",
    "reactivation_mrr",
)  # fmt: skip

ACCOUNTS = pa.schema([
    ("account_id", pa.int64()), ("name", pa.string()), ("domain", pa.string()),
    ("industry", pa.string()), ("employee_count", pa.int64()), ("plan", pa.string()),
    ("segment", pa.string()), ("touch_model", pa.string()), ("tier", pa.string()),
    ("lifecycle_stage", pa.string()), ("owner_id", pa.int64()), ("owner_name", pa.string()),
    ("created_at", UTC_TIME),
])  # fmt: skip
CONTACTS = pa.schema([
    ("id", pa.int64()), ("account_id", pa.int64()), ("name", pa.string()),
    ("email", pa.string()), ("role", pa.string()), ("language", pa.string()),
    ("left_at", UTC_TIME),
])  # fmt: skip
SUBSCRIPTIONS = pa.schema([
    ("id", pa.int64()), ("account_id", pa.int64()), ("plan", pa.string()),
    ("start_date", pa.date32()), ("end_date", pa.date32()), ("amount", pa.int64()),
    ("currency", pa.string()), ("billing_period_months", pa.int64()),
])  # fmt: skip
ACCOUNT_MONTHLY_KPIS = pa.schema(
    [("account_id", pa.int64()), ("month", pa.string())] + [(key, MONEY) for key in MONEY_COLUMNS]
)
HEALTH_HISTORY = pa.schema([
    ("day", pa.date32()), ("account_id", pa.int64()), ("score", pa.float64()),
    ("band", pa.string()),
])  # fmt: skip
CTAS = pa.schema([
    ("id", pa.int64()), ("account_id", pa.int64()), ("playbook", pa.string()),
    ("type", pa.string()), ("priority", pa.string()), ("title", pa.string()),
    ("status", pa.string()), ("owner_id", pa.int64()), ("due_date", pa.date32()),
    ("outcome", pa.string()), ("created_at", UTC_TIME), ("closed_at", UTC_TIME),
])  # fmt: skip
ACTIVITIES = pa.schema([
    ("id", pa.int64()), ("account_id", pa.int64()), ("member_id", pa.int64()),
    ("kind", pa.string()), ("occurred_at", UTC_TIME), ("summary", pa.string()),
])  # fmt: skip
SURVEYS = pa.schema([
    ("id", pa.int64()), ("account_id", pa.int64()), ("contact_id", pa.int64()),
    ("survey_type", pa.string()), ("score", pa.int64()), ("comment", pa.string()),
    ("answered_at", UTC_TIME),
])  # fmt: skip
SEGMENT_MEMBERSHIPS = pa.schema([
    ("id", pa.int64()), ("account_id", pa.int64()), ("segment", pa.string()),
    ("start_date", pa.date32()), ("end_date", pa.date32()),
])  # fmt: skip

VIEWS: tuple[View, ...] = (
    View("accounts", ACCOUNTS, _accounts),
    View("contacts", CONTACTS, _records(Contact.__table__, CONTACTS)),  # type: ignore[arg-type]
    View("subscriptions", SUBSCRIPTIONS, _records(Subscription.__table__, SUBSCRIPTIONS)),  # type: ignore[arg-type]
    View("account_monthly_kpis", ACCOUNT_MONTHLY_KPIS, _account_monthly_kpis),
    View("health_history", HEALTH_HISTORY, _health_history),
    View("ctas", CTAS, _records(Cta.__table__, CTAS)),  # type: ignore[arg-type]
    View("activities", ACTIVITIES, _records(Activity.__table__, ACTIVITIES)),  # type: ignore[arg-type]
    View("survey_responses", SURVEYS, _records(SurveyResponse.__table__, SURVEYS)),  # type: ignore[arg-type]
    View(
        "segment_memberships",
        SEGMENT_MEMBERSHIPS,
        _records(SegmentMembership.__table__, SEGMENT_MEMBERSHIPS),  # type: ignore[arg-type]
    ),
)
"""Every BI view, in the order they are written."""
