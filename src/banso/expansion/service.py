"""Expansion opportunities: open (by hand or from a playbook), list, update, close won/lost,
and the report that matches won opportunities with spec §3's expansion MRR.

Plain functions over a ``Session``; they do not commit (the CLI command or request does). Every
write is audited (``opportunity.create``, ``opportunity.update``, ``opportunity.close``).
Expansion MRR comes from :func:`banso.revenue.service.expansion_by_account` and the customer
counts from :func:`banso.revenue.service.revenue_report`: nothing is recomputed here.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from fractions import Fraction
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from banso.accounts.models import Account
from banso.audit.service import record
from banso.config import get_settings
from banso.errors import BansoError, ConfigRejected, NotFound
from banso.expansion.models import (
    CLOSED_STAGES,
    DEFAULT_STAGES,
    OPPORTUNITY_KINDS,
    Opportunity,
)
from banso.i18n import _
from banso.labels import label
from banso.revenue import service as revenue
from banso.revenue.contracts import minor_exponent
from banso.team.models import TeamMember
from banso.yamlconfig import read_model

MANUAL = "manual"


# ---------------------------------------------------------------- configuration


class ExpansionConfigError(ConfigRejected):
    """``expansion.yaml`` is not valid."""


class ExpansionConfig(BaseModel):
    """``<config>/expansion.yaml``: the open stages of an opportunity, in order."""

    model_config = ConfigDict(extra="forbid")
    stages: list[str] = Field(default_factory=lambda: list(DEFAULT_STAGES), min_length=1)

    @field_validator("stages")
    @classmethod
    def _stages(cls, value: list[str]) -> list[str]:
        for stage in value:
            if stage in CLOSED_STAGES:
                raise ValueError(f"{stage!r} is a closed stage; list only the open ones")
            if not stage or not stage.replace("_", "").isalnum() or stage.lower() != stage:
                raise ValueError(f"{stage!r} must be lower-case letters, digits or _")
        if len(set(value)) != len(value):
            raise ValueError("a stage is listed twice")
        return value


def open_stages() -> list[str]:
    """The open stages, first to last: ``expansion.yaml`` when it exists, else the defaults."""
    path = get_settings().config_path / "expansion.yaml"
    if not path.exists():
        return list(DEFAULT_STAGES)
    loaded = read_model(path, ExpansionConfig, ExpansionConfigError, whole="(expansion)")
    return loaded.model.stages


# ---------------------------------------------------------------- writes


def _kind(kind: str) -> str:
    if kind not in OPPORTUNITY_KINDS:
        raise BansoError(
            _("Unknown kind {kind}; choose one of {choices}.", kind=kind,
              choices=", ".join(OPPORTUNITY_KINDS))
        )  # fmt: skip
    return kind


def _stage(stage: str) -> str:
    stages = open_stages()
    if stage not in stages:
        raise BansoError(
            _("Unknown stage {stage}; choose one of {choices} (close with won or lost).",
              stage=stage, choices=", ".join(stages))
        )  # fmt: skip
    return stage


def _money(value: int) -> int:
    if value < 0:
        raise BansoError(_("The expected MRR must be 0 or more (got {value}).", value=value))
    return value


def get_account(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(_("No account with id {id}.", id=account_id))
    return account


def _member(session: Session, email: str) -> TeamMember:
    member = session.scalar(select(TeamMember).where(TeamMember.email == email.strip().lower()))
    if member is None:
        member = session.scalar(select(TeamMember).where(TeamMember.email == email.strip()))
    if member is None:
        raise BansoError(_("No team member with email {email}.", email=email))
    return member


def get(session: Session, opportunity_id: int) -> Opportunity:
    opportunity = session.get(Opportunity, opportunity_id)
    if opportunity is None:
        raise NotFound(_("No opportunity with id {id}.", id=opportunity_id))
    return opportunity


def add(
    session: Session,
    account_id: int,
    kind: str,
    *,
    expected_mrr: int = 0,
    stage: str | None = None,
    close_date: date | None = None,
    owner: str | None = None,
    notes: str | None = None,
) -> Opportunity:
    """Open an opportunity by hand; the owner defaults to the account's owner."""
    account = get_account(session, account_id)
    opportunity = Opportunity(
        account_id=account.id,
        kind=_kind(kind),
        expected_mrr=_money(expected_mrr),
        stage=_stage(stage) if stage else open_stages()[0],
        close_date=close_date,
        owner_id=_member(session, owner).id if owner else account.owner_id,
        source=MANUAL,
        notes=notes,
    )
    session.add(opportunity)
    session.flush()
    record(session, "opportunity.create", f"opportunity:{opportunity.id}", **as_dict(opportunity))
    return opportunity


def open_from_playbook(
    session: Session,
    account: Account,
    kind: str,
    expected_mrr: int,
    day: date,
    playbook: str,
) -> tuple[Opportunity, bool]:
    """The playbook's open opportunity of this kind on the account, or a new one at the first
    stage (``created`` tells which). A repeat firing never opens a second one."""
    found = session.scalar(
        select(Opportunity).where(
            Opportunity.account_id == account.id,
            Opportunity.source == playbook,
            Opportunity.kind == kind,
            Opportunity.closed_at.is_(None),
        )
    )
    if found is not None:
        return found, False
    opportunity = Opportunity(
        account_id=account.id,
        kind=kind,
        expected_mrr=expected_mrr,
        stage=open_stages()[0],
        owner_id=account.owner_id,
        source=playbook,
        notes=None,
        created_at=datetime.combine(day, datetime.min.time(), UTC),
    )
    session.add(opportunity)
    session.flush()
    record(
        session, "opportunity.create", f"opportunity:{opportunity.id}",
        actor=f"playbook:{playbook}", **as_dict(opportunity),
    )  # fmt: skip
    return opportunity, True


def update(
    session: Session,
    opportunity_id: int,
    *,
    stage: str | None = None,
    expected_mrr: int | None = None,
    close_date: date | None = None,
    owner: str | None = None,
    kind: str | None = None,
    notes: str | None = None,
) -> Opportunity:
    """Change an open opportunity; only the given fields change."""
    opportunity = get(session, opportunity_id)
    if opportunity.closed_at is not None:
        raise BansoError(
            _("Opportunity {id} is closed ({stage}); it can no longer change.",
              id=opportunity.id, stage=label(opportunity.stage, "opportunity_stage"))
        )  # fmt: skip
    changes: dict[str, Any] = {}
    new: dict[str, Any] = {
        "stage": _stage(stage) if stage is not None else None,
        "expected_mrr": _money(expected_mrr) if expected_mrr is not None else None,
        "close_date": close_date,
        "owner_id": _member(session, owner).id if owner is not None else None,
        "kind": _kind(kind) if kind is not None else None,
        "notes": notes,
    }
    for name, value in new.items():
        if value is not None and getattr(opportunity, name) != value:
            changes[name] = {"from": getattr(opportunity, name), "to": value}
            setattr(opportunity, name, value)
    session.flush()
    if changes:
        record(session, "opportunity.update", f"opportunity:{opportunity.id}", changes=changes)
    return opportunity


def close(
    session: Session,
    opportunity_id: int,
    outcome: str,
    day: date,
    *,
    expected_mrr: int | None = None,
    notes: str | None = None,
) -> Opportunity:
    """Close as ``won`` or ``lost`` on ``day`` (its close date from now on)."""
    if outcome not in CLOSED_STAGES:
        raise BansoError(_("Close an opportunity as won or lost (got {outcome}).", outcome=outcome))
    opportunity = get(session, opportunity_id)
    if opportunity.closed_at is not None:
        raise BansoError(
            _("Opportunity {id} is already closed ({stage}).", id=opportunity.id,
              stage=label(opportunity.stage, "opportunity_stage"))
        )  # fmt: skip
    before = opportunity.stage
    opportunity.stage = outcome
    opportunity.close_date = day
    opportunity.closed_at = datetime.now(UTC)
    if expected_mrr is not None:
        opportunity.expected_mrr = _money(expected_mrr)
    if notes:
        opportunity.notes = notes
    session.flush()
    record(
        session, "opportunity.close", f"opportunity:{opportunity.id}", outcome=outcome,
        stage_before=before, close_date=day, expected_mrr=opportunity.expected_mrr,
    )  # fmt: skip
    return opportunity


# ---------------------------------------------------------------- reads


def as_dict(o: Opportunity, account: str | None = None, owner: str | None = None) -> dict[str, Any]:
    return {
        "id": o.id,
        "account_id": o.account_id,
        "account_name": account,
        "kind": o.kind,
        "expected_mrr": o.expected_mrr,
        "stage": o.stage,
        "status": "closed" if o.closed_at is not None else "open",
        "close_date": o.close_date.isoformat() if o.close_date else None,
        "owner": owner,
        "owner_id": o.owner_id,
        "source": o.source,
        "notes": o.notes,
    }


def list_opportunities(
    session: Session,
    *,
    status: str | None = "open",
    kind: str | None = None,
    stage: str | None = None,
    owner_id: int | None = None,
    account_id: int | None = None,
    opportunity_id: int | None = None,
) -> list[dict[str, Any]]:
    """Opportunities by close date (open ones without a date last), then id."""
    if status not in (None, "open", "closed"):
        raise BansoError(_("--status must be open or closed (got {status}).", status=status))
    query = (
        select(Opportunity, Account.name, TeamMember.email)
        .join(Account, Account.id == Opportunity.account_id)
        .outerjoin(TeamMember, TeamMember.id == Opportunity.owner_id)
    )
    if status == "open":
        query = query.where(Opportunity.closed_at.is_(None))
    elif status == "closed":
        query = query.where(Opportunity.closed_at.is_not(None))
    if kind is not None:
        query = query.where(Opportunity.kind == _kind(kind))
    if stage is not None:
        query = query.where(Opportunity.stage == stage)
    if owner_id is not None:
        query = query.where(Opportunity.owner_id == owner_id)
    if account_id is not None:
        query = query.where(Opportunity.account_id == account_id)
    if opportunity_id is not None:
        query = query.where(Opportunity.id == opportunity_id)
    query = query.order_by(Opportunity.close_date.is_(None), Opportunity.close_date, Opportunity.id)
    return [as_dict(o, name, email) for o, name, email in session.execute(query).all()]


def report(
    session: Session,
    *,
    start: str | None = None,
    end: str | None = None,
    engine: str = "duckdb",
    by: str | None = None,
) -> list[dict[str, Any]]:
    """Per month of ``start..end`` (and per ``by`` key: plan, segment, owner, industry, as
    ``banso metrics revenue --by`` splits): opportunities won in the month, their expected MRR,
    the expansion MRR (spec §3) of the accounts they were won on in that month, the month's
    total expansion MRR, and the upsell and cross-sell rates (``docs/metrics.md``). Exact values
    (Fractions, major units of the reporting currency). With ``by``, an opportunity counts in
    its account's key, like the account's movements in the KPIs."""
    months, per_account = revenue.expansion_by_account(session, start=start, end=end, engine=engine)
    kpis = revenue.revenue_report(session, start=start, end=end, engine=engine, by=by)
    keys = revenue.account_keys(session, by, engine=engine) if by is not None else {}
    divisor = 10 ** minor_exponent(kpis.currency)
    won: dict[tuple[str, Any], list[Opportunity]] = defaultdict(list)
    for o in session.scalars(
        select(Opportunity).where(Opportunity.stage == "won", Opportunity.close_date.is_not(None))
    ):
        month = o.close_date.strftime("%Y-%m")  # type: ignore[union-attr]
        won[(month, keys.get(o.account_id) if by is not None else None)].append(o)
    rows = []
    for kpi in kpis.rows:
        month = kpi["month"]
        key = kpi[by] if by is not None else None
        opportunities = won.get((month, key), [])
        accounts = {o.account_id for o in opportunities}
        upsell = {o.account_id for o in opportunities if o.kind in ("upsell", "seats")}
        cross = {o.account_id for o in opportunities if o.kind == "cross_sell"}
        start_customers = kpi["customers_start"]
        row: dict[str, Any] = {"month": month}
        if by is not None:
            row[by] = key
        row.update(
            {
                "won": len(opportunities),
                "won_expected_mrr": Fraction(sum(o.expected_mrr for o in opportunities), divisor),
                "won_actual_expansion_mrr": sum(
                    (per_account.get((month, a), Fraction(0)) for a in accounts), Fraction(0)
                ),
                "won_accounts": len(accounts),
                "won_accounts_expanded": sum(1 for a in accounts if (month, a) in per_account),
                "expansion_mrr": kpi["expansion_mrr"],
                "customers_start": start_customers,
                "upsell_accounts": len(upsell),
                "cross_sell_accounts": len(cross),
                "upsell_rate": Fraction(len(upsell), start_customers) if start_customers else None,
                "cross_sell_rate": (
                    Fraction(len(cross), start_customers) if start_customers else None
                ),
            }
        )
        rows.append(row)
    assert sorted({r["month"] for r in rows}) == months.labels()
    return rows


MONEY_KEYS = ("won_expected_mrr", "won_actual_expansion_mrr", "expansion_mrr")
RATE_KEYS = ("upsell_rate", "cross_sell_rate")


def rounded(row: dict[str, Any]) -> dict[str, Any]:
    """A report row as output: money half-to-even to 2 decimals, rates to 6 (like every KPI),
    as JSON numbers."""
    out = dict(row)
    for key in (*MONEY_KEYS, *RATE_KEYS):
        value = row.get(key)
        if value is not None:
            out[key] = float(round(Fraction(value), 2 if key in MONEY_KEYS else 6))
    return out
