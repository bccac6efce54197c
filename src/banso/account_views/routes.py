"""Accounts pages (list, CSV export, 360 view, logging an activity) and their JSON API."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from pydantic import AwareDatetime, BaseModel, Field, field_validator
from sqlalchemy.orm import Session

from banso import dates
from banso.account_views import account360
from banso.account_views import accounts_list as views
from banso.accounts.lifecycle import current_interval
from banso.accounts.models import TOUCH_MODELS, Account
from banso.accounts.service import existing_account
from banso.activities import service as activities
from banso.errors import InvalidValue
from banso.health import service as health_service
from banso.health import snapshots
from banso.health.measures import format_measure, measure_label
from banso.i18n import _, current_language
from banso.onboarding import service as onboarding
from banso.playbooks import ctas
from banso.segments import service as segments
from banso.spreadsheet_cells import spreadsheet_row
from banso.success import service as success_plans
from banso.users.models import User
from banso.web.auth import EDITOR_ROLES, Forbidden, current_user, db_session, may_edit_account
from banso.web.params import AccountId, UtcDateTime, check_timestamp, owner_parameter
from banso.web.templating import render

accounts_pages = APIRouter(include_in_schema=False)
accounts_api = APIRouter(prefix="/api", tags=["accounts"])
MAX_SUMMARY_CHARS = 10_000


SortKey = Literal[
    "name", "kana", "plan", "segment", "owner", "lifecycle", "score", "mrr", "renewal"
]
BandChoice = Literal["", "green", "yellow", "red", "at_risk", "none"]
MAX_PAGE = 1_000_000
MAX_RENEWAL_DAYS = 3650
TextFilter = Annotated[str, Query(max_length=200)]


def account_filter(
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    q: TextFilter = "",
    owner: Annotated[
        str,
        Query(
            pattern=r"^(me|[0-9]{1,19})?$",
            description="me (the signed-in CSM), a team member's id, or empty for everyone.",
        ),
    ] = "",
    plan: TextFilter = "",
    segment: TextFilter = "",
    lifecycle: TextFilter = "",
    renewal: Annotated[
        str,
        Query(
            pattern=r"^[0-9]{0,4}$",
            description=f"Days (0-{MAX_RENEWAL_DAYS}) within which a subscription ends.",
        ),
    ] = "",
    band: Annotated[
        BandChoice,
        Query(description="Health band; at_risk for red or yellow, none for accounts not scored."),
    ] = "",
    churned: Annotated[
        bool,
        Query(
            description="Also list the accounts that have churned (were customers before today, "
            "are not today); left out by default."
        ),
    ] = False,
    sort: SortKey = "name",
    desc: bool = False,
    page: Annotated[
        int, Query(ge=1, le=MAX_PAGE, description="1-based; a page past the last is empty.")
    ] = 1,
) -> views.AccountFilter:
    """The list's query string as a filter; ``owner=me`` means the signed-in CSM's accounts."""
    owner_id = owner_parameter(session, user, owner)
    if renewal and int(renewal) > MAX_RENEWAL_DAYS:
        reason = _("Give a value of at most {limit}.", limit=MAX_RENEWAL_DAYS)
        raise InvalidValue("renewal", reason)
    return views.AccountFilter(
        q=q,
        owner_id=owner_id,
        plan=plan,
        segment=segment,
        lifecycle=lifecycle,
        renewal_days=int(renewal) if renewal else None,
        band=band,
        include_churned=churned,
        sort=sort,
        descending=desc,
        page=page,
    )


@accounts_pages.get("/accounts")
def accounts_list(
    request: Request,
    flt: Annotated[views.AccountFilter, Depends(account_filter)],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> Response:
    result = views.list_accounts(session, flt)
    context = {"result": result, "flt": flt, "params": dict(request.query_params)}
    if request.headers.get("hx-request") == "true":
        return render(request, "accounts/_table.html", context)
    context["choices"] = views.filter_choices(session)
    return render(request, "accounts/list.html", context)


@accounts_pages.get("/accounts/export.csv")
def accounts_export(
    flt: Annotated[views.AccountFilter, Depends(account_filter)],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> Response:
    """Every account of the current view as CSV (UTF-8 with BOM so Excel reads the kanji)."""
    header = [
        _("Account"),
        _("Kana"),
        _("Domain"),
        _("Plan"),
        _("Segment"),
        _("Owner"),
        _("Lifecycle stage"),
        _("Health score"),
        _("Health band"),
        _("MRR"),
        _("Next renewal"),
    ]
    rows = [
        [
            r.name,
            r.kana,
            r.domain,
            r.plan,
            r.segment,
            r.owner,
            r.lifecycle_stage,
            None if r.health_score is None else round(r.health_score, 1),
            r.health_band,
            r.mrr,
            r.next_renewal.isoformat() if r.next_renewal else "",
        ]
        for r in views.iter_accounts(session, flt)
    ]
    return StreamingResponse(
        _csv_lines(header, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="accounts.csv"'},
    )


@accounts_pages.get("/accounts/{account_id}")
def account_page(
    request: Request,
    account_id: AccountId,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> Response:
    view = account360.account_360(session, account_id)
    context = {
        "view": view,
        "health": account360.account_health_view(account_id),
        "churn": account360.account_churn_view(session, account_id),
        "incomplete_days": snapshots.incomplete_days(),
        "section": ctas.cta_section(session, view="account", account_id=account_id),
        "writer": ctas.Writer.of(user, EDITOR_ROLES),
        "account_owner_id": view.account.owner_id,
        "today": dates.today(),
        "can_edit": can_edit_account(user, view.account),
        "kinds": activities.LOGGABLE_KINDS,
        "measure_label": measure_label,
        "format_measure": format_measure,
        "pulse": health_service.current_pulse(session, account_id, dates.today()),
        "touch_override": segments.current_override(session, account_id),
        "segment_history": segments.account_history(session, account_id),
        "touch_models": TOUCH_MODELS,
    }
    plan = success_plans.plan_section(session, account_id, today=dates.today())
    context |= success_plans.section_values(plan, partial(may_edit_account, user))
    context["stage_since"] = current_interval(session, account_id)
    context |= onboarding.milestones_context(
        session, account_id, dates.today(), current_language(), context["can_edit"]
    )
    return render(request, "accounts/detail.html", context)


@accounts_pages.post("/accounts/{account_id}/activities")
def account_log_activity(
    account_id: AccountId,
    kind: Annotated[str, Form()],
    summary: Annotated[str, Form()],
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> Response:
    _check_can_edit(session, user, account_id)
    activities.log_activity(
        session, account_id, kind=kind, summary=summary, member_id=user.team_member_id
    )
    return RedirectResponse(f"/accounts/{account_id}#timeline", status_code=303)


@accounts_pages.post("/accounts/{account_id}/pulse")
def account_set_pulse(
    account_id: AccountId,
    rating: Annotated[int, Form(ge=1, le=5)],
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    comment: Annotated[str, Form()] = "",
) -> Response:
    _check_can_edit(session, user, account_id)
    health_service.record_pulse(
        session, account_id, rating=rating, comment=comment, member_id=user.team_member_id
    )
    return RedirectResponse(f"/accounts/{account_id}?pulse=saved#health", status_code=303)


@accounts_pages.post("/accounts/{account_id}/triage")
def account_set_triage(
    account_id: AccountId,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    it_literacy: Annotated[str, Form(max_length=1)] = "",
    motivation: Annotated[str, Form(max_length=1)] = "",
) -> Response:
    """The CSM's triage ratings (1-5, blank: not rated); audited."""
    _check_can_edit(session, user, account_id)
    segments.set_ratings(
        session,
        account_id,
        it_literacy=_rating(it_literacy, "it_literacy"),
        motivation=_rating(motivation, "motivation"),
    )
    return RedirectResponse(f"/accounts/{account_id}?triage=saved#triage", status_code=303)


@accounts_pages.post("/accounts/{account_id}/touch-override")
def account_set_touch_override(
    account_id: AccountId,
    touch_model: Annotated[Literal["high", "low", "tech"], Form()],
    reason: Annotated[str, Form(max_length=2000)],
    until: Annotated[date, Form()],
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    tier: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """Serve the account with another touch model until a day (audited)."""
    _check_can_edit(session, user, account_id)
    segments.set_override(session, account_id, touch_model, reason, until, tier=tier or None)
    return RedirectResponse(f"/accounts/{account_id}?touch=saved#triage", status_code=303)


@accounts_pages.post("/accounts/{account_id}/touch-override/clear")
def account_clear_touch_override(
    account_id: AccountId,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> Response:
    _check_can_edit(session, user, account_id)
    segments.clear_override(session, account_id)
    return RedirectResponse(f"/accounts/{account_id}?touch=cleared#triage", status_code=303)


def _rating(value: str, field: str) -> int | None:
    if not value.strip():
        return None
    if value.strip() not in {"1", "2", "3", "4", "5"}:
        raise InvalidValue(field, _("a rating is a whole number from 1 to 5"))
    return int(value)


class AccountOut(BaseModel):
    id: int
    name: str
    kana: str | None
    domain: str | None
    plan: str | None
    segment: str | None
    owner: str | None
    lifecycle_stage: str | None
    health_score: float | None = Field(description="0-100 on the newest scored day.")
    health_band: str | None = Field(description="green, yellow or red on the newest scored day.")
    mrr: int | None = Field(description="MRR today, minor units of the reporting currency.")
    next_renewal: date | None


class AccountPageOut(BaseModel):
    total: int
    page: int
    pages: int
    items: list[AccountOut]


class ContactOut(BaseModel):
    id: int
    name: str | None
    kana: str | None
    email: str | None
    role: str | None
    left_at: UtcDateTime | None


class TimelineItemOut(BaseModel):
    at: UtcDateTime
    kind: str
    title: str
    detail: str | None
    amount: int | None = Field(
        default=None, description="A deal's or invoice's amount, minor units of currency."
    )
    currency: str | None = None


class Account360Out(BaseModel):
    account: AccountOut
    mrr_by_currency: dict[str, int] = Field(
        description="MRR today per currency of the lines, minor units of each (before FX)."
    )
    contacts: list[ContactOut]
    timeline: list[TimelineItemOut]


class ActivityIn(BaseModel):
    kind: Literal["note", "call", "meeting", "email"]
    summary: str = Field(min_length=1, max_length=MAX_SUMMARY_CHARS)
    occurred_at: AwareDatetime | None = Field(
        default=None, description="When it happened, with a time zone; default now."
    )

    @field_validator("occurred_at")
    @classmethod
    def _within_bounds(cls, value: datetime | None) -> datetime | None:
        if value is not None:
            check_timestamp(value, latest=datetime.now(UTC) + timedelta(days=1))
        return value


class ActivityOut(BaseModel):
    id: int
    account_id: int
    kind: str
    summary: str | None
    occurred_at: UtcDateTime


@accounts_api.get("/accounts", response_model=AccountPageOut)
def api_accounts(
    flt: Annotated[views.AccountFilter, Depends(account_filter)],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> AccountPageOut:
    """Accounts matching the search and filters, one page of 50.

    ``band`` filters by health band on the newest scored day (green, yellow, red, or ``none``
    for accounts without one); ``sort=score`` orders by health score."""
    result = views.list_accounts(session, flt)
    items = [AccountOut(**r.__dict__) for r in result.rows]
    return AccountPageOut(total=result.total, page=result.page, pages=result.pages, items=items)


@accounts_api.get("/accounts/{account_id}", response_model=Account360Out)
def api_account(
    account_id: AccountId,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> Account360Out:
    """One account: header facts, contacts and its timeline."""
    view = account360.account_360(session, account_id)
    a = view.account
    return Account360Out(
        account=AccountOut(
            id=a.id,
            name=a.name,
            kana=a.kana,
            domain=a.domain,
            plan=a.plan,
            segment=a.segment,
            owner=view.owner.name if view.owner else None,
            lifecycle_stage=a.lifecycle_stage,
            health_score=view.health.score if view.health else None,
            health_band=view.health.band if view.health else None,
            mrr=view.mrr,
            next_renewal=view.next_renewal,
        ),
        mrr_by_currency=view.mrr_by_currency,
        contacts=[ContactOut.model_validate(c, from_attributes=True) for c in view.contacts],
        timeline=[TimelineItemOut(**t.__dict__) for t in view.timeline],
    )


@accounts_api.post("/accounts/{account_id}/activities", response_model=ActivityOut, status_code=201)
def api_log_activity(
    account_id: AccountId,
    body: ActivityIn,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> ActivityOut:
    """Log a note, call, meeting or e-mail (admin/ops: any account; CSM: own accounts)."""
    _check_can_edit(session, user, account_id)
    activity = activities.log_activity(
        session,
        account_id,
        kind=body.kind,
        summary=body.summary,
        member_id=user.team_member_id,
        occurred_at=body.occurred_at,
    )
    return ActivityOut.model_validate(activity, from_attributes=True)


class SubscriptionOut(BaseModel):
    id: int
    source: str
    external_id: str
    plan: str | None
    start_date: date
    end_date: date | None = Field(description="First day without service (exclusive).")
    amount: int = Field(description="Price per billing period, minor units of currency.")
    currency: str
    billing_period_months: int


class HealthOut(BaseModel):
    day: date
    scorecard: str
    score: float | None = Field(description="0-100.")
    band: str | None
    trend_7d: str | None
    trend_28d: str | None
    measures: dict[str, dict[str, float | None]] = Field(
        description="Per measure: raw value, score 0-100 and effective weight 0-1."
    )


@accounts_api.get("/accounts/{account_id}/subscriptions", response_model=list[SubscriptionOut])
def api_subscriptions(
    account_id: AccountId,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> list[SubscriptionOut]:
    """The account's contract lines, oldest first."""
    subs = account360.subscriptions_of(session, account_id)
    return [SubscriptionOut.model_validate(s, from_attributes=True) for s in subs]


@accounts_api.get("/accounts/{account_id}/contacts", response_model=list[ContactOut])
def api_contacts(
    account_id: AccountId,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> list[ContactOut]:
    """The account's contacts with their roles; people who left come last."""
    view = account360.account_360(session, account_id, timeline_limit=0)
    return [ContactOut.model_validate(c, from_attributes=True) for c in view.contacts]


@accounts_api.get("/accounts/{account_id}/activities", response_model=list[ActivityOut])
def api_activities(
    account_id: AccountId,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ActivityOut]:
    """The account's CSM activities, newest first."""
    found = account360.activities_of(session, account_id, limit=limit)
    return [ActivityOut.model_validate(a, from_attributes=True) for a in found]


@accounts_api.get("/accounts/{account_id}/health", response_model=HealthOut | None)
def api_health(
    account_id: AccountId,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> HealthOut | None:
    """The account's health on its latest scored day (null before any scoring)."""
    existing_account(session, account_id)
    view = account360.account_health_view(account_id)
    if view is None:
        return None
    return HealthOut.model_validate(view.current, from_attributes=True)


def can_edit_account(user: User, account: Account) -> bool:
    """Admin and ops change any account; a CSM the accounts they own; a viewer none."""
    return may_edit_account(user, account.owner_id)


def _check_can_edit(session: Session, user: User, account_id: int) -> None:
    if not can_edit_account(user, existing_account(session, account_id)):
        raise Forbidden


def _csv_lines(header: list[str], rows: list[list[object]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield "\ufeff"
    for row in [header, *rows]:
        writer.writerow(spreadsheet_row(["" if v is None else v for v in row]))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
