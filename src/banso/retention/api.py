"""``/api/churn-reasons`` and ``/api/goals``: the configured reasons, recording one for an
account and month (admin, ops and CSMs; a viewer gets 403; audited), the losses without a
reason, lost MRR by reason, and the goals' status. The same service functions as the CLI."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from banso.i18n import _
from banso.retention import goals as goals_service
from banso.retention import service
from banso.retention.reasons import load_reasons
from banso.revenue.months import default_last_month
from banso.users.models import User
from banso.web.auth import Forbidden, current_user, db_session, may_edit_account
from banso.web.params import MAX_ID, month_parameter, month_range

retention_api = APIRouter(prefix="/api", tags=["churn reasons and goals"])
MONTH_PATTERN = r"^[0-9]{4}-[0-9]{2}$"
MONTH_HELP = "A month YYYY-MM from 1990-01 to ten years ahead."
MONEY_KEYS = ("churned_mrr", "contraction_mrr", "lost_mrr")
MonthQuery = Annotated[str | None, Query(pattern=MONTH_PATTERN, description=MONTH_HELP)]


class ReasonChoice(BaseModel):
    code: str
    label: str = Field(description="In the request's language.")


class RecordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    month: str = Field(pattern=MONTH_PATTERN, description="The month of the churn or contraction.")
    reason: str = Field(max_length=64, description="A code from GET /api/churn-reasons.")
    note: str | None = Field(default=None, max_length=service.MAX_NOTE)


class RecordedOut(BaseModel):
    id: int
    account_id: int
    month: str
    reason: str
    note: str | None
    recorded_by: str
    recorded_at: str
    cta_id: int | None


@retention_api.get("/churn-reasons", response_model=list[ReasonChoice])
def api_reasons(user: Annotated[User, Depends(current_user)]) -> list[ReasonChoice]:
    """The configured churn reasons (``churn_reasons.yaml``, else the defaults)."""
    return [ReasonChoice(code=r.code, label=r.label()) for r in load_reasons().values()]


@retention_api.post(
    "/accounts/{account_id}/churn-reasons", response_model=RecordedOut, status_code=201
)
def api_record(
    account_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    body: RecordIn,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> RecordedOut:
    """Record why the account churned or contracted in ``month`` (a later one supersedes it)."""
    if user.role not in service.WRITER_ROLES or not may_edit_account(
        user, service.account_owner(session, account_id)
    ):
        raise Forbidden(_("A CSM records churn reasons on the accounts they own."))
    month = month_parameter(body.month, "month") or body.month
    entry = service.record(
        session, account_id, month, body.reason, actor=user.email, note=body.note
    )
    return RecordedOut(**service.reason_out(entry))


@retention_api.get("/churn-reasons/unreasoned")
def api_unreasoned(
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    start: MonthQuery = None,
    end: MonthQuery = None,
) -> list[dict[str, Any]]:
    """Accounts that churned or contracted (spec §3) from ``start`` to ``end`` with no reason
    recorded: month, account_id, account_name, segment, kind, churned/contraction/lost MRR."""
    first, last = month_range(start, end or default_last_month(session))
    rows = service.unreasoned(session, start=first, end=last)
    return [_rounded({k: v for k, v in r.items() if k not in ("reason", "note")}) for r in rows]


@retention_api.get("/churn-reasons/report")
def api_report(
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    start: MonthQuery = None,
    end: MonthQuery = None,
    by: Literal["segment"] | None = None,
) -> list[dict[str, Any]]:
    """Lost MRR (churned + contraction, spec §3) per month[, segment] and reason; the losses
    without a reason are the row with reason ``unreasoned``."""
    first, last = month_range(start, end or default_last_month(session))
    return [_rounded(r) for r in service.report(session, start=first, end=last, by=by)]


@retention_api.get("/goals")
def api_goals(
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> list[dict[str, Any]]:
    """Each goal of ``goals.yaml``: the latest complete month's value, the 12-month trend, the
    drivers and the status (met, on_track, off_track, missed, no_data)."""
    return goals_service.goal_status(session)


def _rounded(row: dict[str, Any]) -> dict[str, Any]:
    return {k: float(round(v, 2)) if k in MONEY_KEYS else v for k, v in row.items()}
