"""``/api/renewals``: the renewal pipeline (one row per account and renewal date), the
risk-weighted forecast by month, and the CSM's forecast of a renewal with its history. The same
service as ``banso renewals list`` / ``forecast`` (:mod:`banso.renewals.pipeline`); writes:
admin and ops any account, a CSM the accounts they own, a viewer none (403); each audited."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from banso import dates
from banso.accounts.models import Account
from banso.errors import InvalidValue, NotFound
from banso.i18n import _
from banso.renewals import pipeline
from banso.renewals.calendar import renewal_calendar, rounded
from banso.revenue.months import with_completeness
from banso.users.models import User
from banso.web.auth import Forbidden, current_user, db_session, may_edit_account
from banso.web.params import MAX_ID, UtcDateTime, month_range, owner_parameter

renewals_api = APIRouter(prefix="/api", tags=["renewals"])
AccountId = Annotated[int, Path(ge=1, le=MAX_ID, description="The account's id.")]
RenewalDay = Annotated[date, Path(description="The renewal date, YYYY-MM-DD.")]
Status = Literal["commit", "likely", "at_risk", "lost"]


class RenewalOut(BaseModel):
    account_id: int
    account_name: str
    renewal_date: date
    subscription_ids: list[int] = Field(description="The contract lines due that day.")
    mrr_due: float = Field(description="MRR due (spec §5), reporting currency, 2 decimals.")
    owner_id: int | None
    owner: str | None = Field(description="The owner's name.")
    health_band: str | None = Field(description="green, yellow or red today; null: not scored.")
    health_score: float | None
    forecast: Status | None = Field(description="The CSM's forecast; null when none is set.")
    forecast_note: str | None
    churn_reason: str | None = Field(
        description="The churn reason recorded for the account in the renewal's month, if any."
    )
    probability: float | None = Field(
        description="The forecast's probability, else the band's past renewal rate (or the "
        "overall rate when the band has too few past renewals); null with no past renewals."
    )
    probability_source: str = Field(description="forecast, band:<band>, overall or none.")
    probability_sample: int | None = Field(description="Past renewals behind the rate.")
    expected_mrr: float | None = Field(description="mrr_due × probability.")


class MonthOut(BaseModel):
    month: str
    renewals: int
    mrr_due: float
    expected_mrr: float = Field(description="Σ expected_mrr: the risk-weighted forecast.")
    actual_mrr: float | None = Field(description="MRR renewed (due − lost), once it is over.")
    variance: float | None = Field(description="actual_mrr − expected_mrr, once it is over.")


class ForecastIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Status | None = Field(description="null clears the forecast.")
    note: str | None = Field(default=None, max_length=pipeline.MAX_NOTE)
    reason: str | None = Field(
        default=None,
        max_length=64,
        description="With status lost: a churn reason code (GET /api/churn-reasons "
        "lists them), recorded for the renewal's month.",
    )


class ForecastOut(BaseModel):
    account_id: int
    renewal_date: date
    status: Status | None
    note: str | None
    set_by: str
    set_at: UtcDateTime


def _window(start: date, end: date) -> None:
    for name, day in (("from", start), ("to", end)):
        if not dates.accepted_day(day):
            raise InvalidValue(
                name,
                _(
                    "a day from {first} to {last}",
                    first=dates.EARLIEST_DAY.isoformat(),
                    last=dates.latest_day().isoformat(),
                ),
            )
    if start > end:
        raise InvalidValue("from", _("from ({first}) is after to ({last}).", first=start, last=end))


@renewals_api.get("/renewals", response_model=list[RenewalOut])
def api_renewals(
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    start: Annotated[date, Query(alias="from", description="First renewal day.")],
    end: Annotated[date, Query(alias="to", description="Last renewal day.")],
    owner: Annotated[
        str,
        Query(
            pattern=r"^(me|[0-9]{1,19})?$",
            description="me (the signed-in CSM), a team member's id, or empty for everyone.",
        ),
    ] = "",
    band: Literal["", "green", "yellow", "red"] = "",
    forecast: Literal["", "commit", "likely", "at_risk", "lost", "none"] = "",
) -> list[dict]:
    """The renewal pipeline of the window, by renewal date."""
    _window(start, end)
    rows = pipeline.pipeline(
        session,
        start,
        end,
        owner_id=owner_parameter(session, user, owner),
        band=band or None,
        forecast=forecast or None,
    )
    return [pipeline.rounded(r) for r in rows]


@renewals_api.get("/renewals/months", response_model=list[MonthOut])
def api_renewal_months(
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    start: Annotated[date, Query(alias="from", description="First renewal day.")],
    end: Annotated[date, Query(alias="to", description="Last renewal day.")],
) -> list[dict]:
    """The risk-weighted forecast per month (Σ expected MRR) and, for months that are over,
    the MRR actually renewed."""
    _window(start, end)
    rows = pipeline.pipeline(session, start, end)
    return [pipeline.rounded(r) for r in pipeline.by_month(session, rows)]


@renewals_api.put("/renewals/{account_id}/{renewal_date}/forecast", response_model=ForecastOut)
def api_set_forecast(
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    account_id: AccountId,
    renewal_date: RenewalDay,
    body: ForecastIn,
) -> ForecastOut:
    """Set (or clear) the forecast of the account's renewal on that date; every change is kept."""
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(_("No account with id {id}.", id=account_id))
    if not may_edit_account(user, account.owner_id):
        raise Forbidden(_("Only the account's owner, ops or an admin can set its forecast."))
    row = pipeline.set_forecast(
        session, account_id, renewal_date, body.status, body.note, body.reason
    )
    return ForecastOut.model_validate(row, from_attributes=True)


@renewals_api.get(
    "/renewals/{account_id}/{renewal_date}/forecasts", response_model=list[ForecastOut]
)
def api_forecast_history(
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    account_id: AccountId,
    renewal_date: RenewalDay,
) -> list[ForecastOut]:
    """Every forecast set on the renewal, oldest first (who, when)."""
    if session.get(Account, account_id) is None:
        raise NotFound(_("No account with id {id}.", id=account_id))
    return [
        ForecastOut.model_validate(r, from_attributes=True)
        for r in pipeline.forecast_history(session, account_id, renewal_date)
    ]


# ---------------------------------------------------------------- the renewal calendar
MONTH_PATTERN = r"^[0-9]{4}-[0-9]{2}$"
MONTH_HELP = "A month YYYY-MM from 1990-01 to ten years ahead."


class CalendarOut(BaseModel):
    currency: str
    months: list[dict[str, Any]] = Field(
        description="One row per month (and key) with month, [the --by key,] lines_due, "
        "accounts_due, mrr_due, mrr_renewed, mrr_lost (money rounded to 2 decimals) and "
        "renewal_churn_rate (6 decimals; null for the current month and later ones, and when "
        "nothing was due). A month not yet over also has `complete: false`."
    )


@renewals_api.get("/renewals/calendar", response_model=CalendarOut)
def api_calendar(
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    start: Annotated[str, Query(pattern=MONTH_PATTERN, description=MONTH_HELP)],
    end: Annotated[str, Query(pattern=MONTH_PATTERN, description=MONTH_HELP)],
    by: Annotated[Literal["owner", "segment", "touch", "plan"] | None, Query()] = None,
    min_term_months: Annotated[int, Query(ge=1, le=120)] = 1,
) -> CalendarOut:
    """MRR due for renewal, renewed and not renewed per month from ``start`` to ``end``, past
    and future (spec §5; future months take the contracts as they stand today)."""
    first, last = month_range(start, end)
    assert first is not None and last is not None
    report = renewal_calendar(
        session, start=first, end=last, by=by, min_term_months=min_term_months
    )
    return CalendarOut(
        currency=report.currency,
        months=[with_completeness(rounded(r)) for r in report.rows],
    )
