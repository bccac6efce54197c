"""``GET /api/targets``: the fiscal year's plan (``banso targets build``) and plan vs actual
(``banso targets actual``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from banso.dates import EARLIEST_DAY
from banso.errors import BansoError
from banso.targets import actual as actual_module
from banso.targets import plan as plan_module
from banso.targets.config import load_targets
from banso.users.models import User
from banso.web.auth import current_user, db_session

targets_api = APIRouter(prefix="/api", tags=["targets"])


class TargetsOut(BaseModel):
    fiscal_year: int
    currency: str
    plan: list[dict[str, Any]] = Field(
        description="One row per month of the fiscal year: month, mrr_due, "
        "planned_renewal_churn_rate, renewal_target, expansion_target, new_target, "
        "total_target, rate_basis (override, m_minus_12, pooled or none)."
    )
    actual: list[dict[str, Any]] = Field(
        description="Plan vs actual per month that is over (and team or owner with `by`): "
        "renewal, expansion and new target and actual, totals, attainment. Empty when no "
        "month of the year is over yet."
    )


@targets_api.get("/targets", response_model=TargetsOut)
def api_targets(
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    fiscal_year: Annotated[int, Query(ge=EARLIEST_DAY.year, le=2100)],
    by: Annotated[Literal["team", "owner"] | None, Query()] = None,
) -> TargetsOut:
    """The plan of ``fiscal_year`` (named by the calendar year it starts in) from
    ``targets.yaml``, and plan vs actual for its months that are over."""
    targets = load_targets().model
    plan = plan_module.build_targets(session, fiscal_year, targets)
    try:
        versus = actual_module.targets_actual(session, fiscal_year, targets, by=by)
        actual = [actual_module.rounded(r) for r in versus.rows]
    except BansoError:  # no month of the year is over yet
        actual = []
    return TargetsOut(
        fiscal_year=fiscal_year,
        currency=plan.currency,
        plan=[plan_module.rounded(r) for r in plan.rows],
        actual=actual,
    )
