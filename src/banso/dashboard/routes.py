"""The home page: My book for a CSM (:mod:`banso.dashboard.book`); for leaders the dashboard of
revenue KPI tiles against last month, MRR movements, trends, and the renewals due soon. Figures
come from :mod:`banso.revenue.service`, defined once there. ``/book`` opens any member's book."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Annotated, Any

from babel.numbers import get_currency_precision
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from banso.account_views import accounts_list as accounts
from banso.config import get_settings
from banso.dashboard import book as my_book
from banso.dashboard.csm import csm_view
from banso.errors import BansoError, NotFound
from banso.evaluation.access import may_score, may_see
from banso.evaluation.periods import parse_period
from banso.evaluation.qualitative import MAX_NOTE, set_qualitative
from banso.health.overview import HealthOverview, health_overview, latest_scores
from banso.i18n import _
from banso.renewals.calendar import RenewalOutlook, renewal_outlook
from banso.revenue import cache as revenue_cache
from banso.revenue.fiscal import fiscal_periods, period_figures
from banso.revenue.months import (
    MonthRange,
    data_months,
    month_complete,
    month_label,
    month_text,
    parse_month,
    to_date,
)
from banso.revenue.service import BookFilter, book_choices
from banso.team.models import TeamMember
from banso.users.models import User
from banso.web.auth import Forbidden, current_user, db_session
from banso.web.params import MAX_ID, owner_parameter
from banso.web.templating import money, render

dashboard_pages = APIRouter(include_in_schema=False)

Owner = Annotated[
    str, Query(pattern=r"^([0-9]{0,19}|me)$", description="A team member's id, or me.")
]
Team = Annotated[str, Query(max_length=100, description="A team (team_members.team).")]
Touch = Annotated[str, Query(max_length=16, description="A touch model: high, low, tech.")]
Segment = Annotated[str, Query(max_length=100, description="An account segment.")]

_FISCAL = re.compile(r"^FY(\d{4})(?:-Q([1-4]))?$")
RENEWAL_WINDOW_DAYS = 90


@dataclass(frozen=True)
class Tile:
    label: str
    value: str
    change: str | None
    """Against the month before, as the user reads it (``+¥12,000``, ``-0.41 pt``)."""
    direction: int
    """1 up, -1 down, 0 unchanged or unknown: the arrow."""
    better: bool | None = None
    """Whether the change is good news (a falling churn rate is); None when unchanged."""


@dataclass(frozen=True)
class RenewalTile:
    """The renewal tile, from the renewal calendar (:func:`renewals.calendar.renewal_outlook`):
    MRR due in the current month and the next two, the part of it whose notice is given, and
    the last complete month's monthly renewal churn rate; money and rates as the user reads
    them."""

    first: str
    last: str
    """The months ahead, ``YYYY-MM``."""
    due: str
    lost: str
    rate_month: str
    rate: str
    """The rate of ``rate_month`` (``—`` when nothing was due then)."""
    months: list[tuple[str, str, str]]
    """(month as shown, due, lost) per month ahead."""


@dataclass(frozen=True)
class Dashboard:
    period: str
    """The period shown: ``2026-04``, ``FY2026 Q1`` or ``FY2026``, marked "to date" when it
    runs into a month not yet over."""
    value: str
    """The picker's value of the period shown (``2026-04``, ``FY2026-Q1``)."""
    complete: bool
    """Whether every month of the period is over."""
    choices: list[tuple[str, str]]
    """(value, label) the period picker offers: months newest first, then fiscal periods."""
    tiles: list[Tile]
    charts: dict[str, Any]
    """Data of the ECharts charts, JSON-ready floats for drawing only."""
    renewals: accounts.AccountPage
    renewal_health: dict[int, tuple[float | None, str | None]]
    """account id -> (score, band) of the renewing accounts that have been scored."""
    health: HealthOverview | None
    renewal: RenewalTile | None = None
    """None when there is no contract data to build the calendar from."""


@dashboard_pages.get("/")
def dashboard_page(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    period: str = "",
    owner: Owner = "",
    team: Team = "",
    touch: Touch = "",
    segment: Segment = "",
) -> Response:
    """The home page: a CSM's own book, everyone else's company dashboard."""
    if user.role == "csm":
        return _book_page(request, session, user, None)
    return company_dashboard_page(request, user, session, period, owner, team, touch, segment)


@dashboard_pages.get("/dashboard")
def company_dashboard_page(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    period: str = "",
    owner: Owner = "",
    team: Team = "",
    touch: Touch = "",
    segment: Segment = "",
) -> Response:
    """The company dashboard for every role (a CSM's home is their book; this is one click
    away); its revenue figures are those of the accounts the filters let through (owner, team,
    touch model, segment: :class:`BookFilter`)."""
    book = BookFilter.of(owner_parameter(session, user, owner), team, touch, segment)
    filters = {"book": book, "book_choices": book_choices(session)}
    try:
        view = dashboard(session, period or None, book)
    except BansoError as no_data:
        return render(request, "dashboard.html", {"view": None, "message": str(no_data)} | filters)
    return render(request, "dashboard.html", {"view": view, "message": None} | filters)


@dashboard_pages.get("/book")
def book_page(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    owner: Annotated[
        str, Query(pattern=r"^[0-9]{0,19}$", description="A team member's id; default: mine.")
    ] = "",
) -> Response:
    """A team member's book: the signed-in user's own by default; anyone may read another's
    (every role reads every account)."""
    owner_id = owner_parameter(session, user, owner)
    member = session.get(TeamMember, owner_id) if owner_id is not None else None
    return _book_page(request, session, user, member)


@dashboard_pages.get("/team/{member_id:int}")
def csm_page(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    member_id: int,
    period: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    """A CSM's page: their book, its KPIs and their scorecard of ``period``. Only for whoever
    may see the scorecard (themselves, their team's manager, an admin: 403 otherwise)."""
    member = _member(session, member_id)
    if not may_see(session, user, member.id):
        raise Forbidden(_("Only the CSM, their team's manager or an admin can see this page."))
    view = csm_view(session, user, member, period or None)
    context = {
        "view": view,
        "max_note": MAX_NOTE,
        "minor": lambda major: _minor(major, view.currency),
    }
    return render(request, "csm.html", context)


@dashboard_pages.post("/team/{member_id:int}/qualitative")
def csm_qualitative(
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
    member_id: int,
    period: Annotated[str, Form(max_length=16)],
    score: Annotated[int, Form(ge=0, le=100)],
    note: Annotated[str, Form(max_length=MAX_NOTE)] = "",
) -> Response:
    """Enter the member's qualitative score of ``period`` (a manager of their team or an admin;
    audited), then show the page again."""
    member = _member(session, member_id)
    if not may_score(session, user, member.id):
        raise Forbidden(_("Only a manager of the CSM's team or an admin can score a CSM."))
    chosen = parse_period(period)
    set_qualitative(session, member.id, chosen, score, note)
    return RedirectResponse(f"/team/{member.id}?period={chosen.label}", 303)


def _member(session: Session, member_id: int) -> TeamMember:
    member = session.get(TeamMember, member_id) if 1 <= member_id <= MAX_ID else None
    if member is None:
        raise NotFound(_("There is no team member with id {id}.", id=member_id))
    return member


def _book_page(
    request: Request, session: Session, user: User, member: TeamMember | None
) -> Response:
    mine = member is None
    member = member or my_book.member_of(session, user)
    view = my_book.book(session, member) if member is not None else None
    context = {
        "view": view,
        "mine": mine or (member is not None and member.id == user.team_member_id),
        "members": accounts.filter_choices(session).owners,
        "email": user.email,
        "scorecard": member is not None and may_see(session, user, member.id),
    }
    return render(request, "book.html", context)


def dashboard(session: Session, period: str | None, book: BookFilter | None = None) -> Dashboard:
    """KPIs of ``period`` against the period before it, and the monthly trends of the 12 months
    up to its end. ``period``: ``YYYY-MM``, ``FY2026`` or ``FY2026-Q2`` (fiscal years start in
    BANSO_FISCAL_YEAR_START); default the last complete month with data. The current month is
    shown only when asked for, labelled "to date". A fiscal period still running is cut at the
    last complete month with data (at the current month when none of it is over) and compared
    with the as-long stretch before it. ``book``: the revenue figures of those accounts only
    (the renewals and health panels stay the company's)."""
    data = data_months(session)
    value, label, months, complete = _period_months(period, data.default, data.newest)
    if not complete:
        label = to_date(label)
    previous = MonthRange(2 * months.first - months.last - 1, months.first - 1)
    first = min(previous.first, revenue_cache.dashboard_range(months.last).first)
    report = revenue_cache.revenue_report(
        session, start=month_label(first), end=month_label(months.last), book=book
    )
    by_month = {parse_month(r["month"], "month"): r for r in report.rows}

    def figures(span: MonthRange) -> dict[str, Any]:
        monthly = [by_month[m] for m in range(span.first, span.last + 1)]
        return monthly[0] if len(monthly) == 1 else period_figures(monthly)

    now, before = figures(months), figures(previous)
    rows = [by_month[m] for m in range(months.last - revenue_cache.TREND_MONTHS, months.last + 1)]
    currency = report.currency
    tiles = [
        _money_tile(_("MRR"), now["mrr_end"], before["mrr_end"], currency),
        _money_tile(_("ARR"), 12 * now["mrr_end"], 12 * before["mrr_end"], currency),
        _rate_tile(_("NRR (12 months)"), now["nrr_12m"], before["nrr_12m"]),
        _rate_tile(_("GRR (12 months)"), now["grr_12m"], before["grr_12m"]),
        _rate_tile(
            _("Monthly MRR churn rate"),
            now["mrr_churn_rate"],
            before["mrr_churn_rate"],
            higher_is_better=False,
        ),
        _rate_tile(
            _("Monthly renewal churn rate"),
            now["renewal_churn_rate"],
            before["renewal_churn_rate"],
            higher_is_better=False,
        ),
    ]
    trend = rows[1:]
    charts = {
        "currency": currency,
        "waterfall": {
            "title": _("MRR movements in {month}", month=label),
            "labels": [
                _("Start"),
                _("New"),
                _("Reactivation"),
                _("Expansion"),
                _("Contraction"),
                _("Churned"),
                _("End"),
            ],
            "values": [
                _draw(now["mrr_start"]),
                _draw(now["new_mrr"]),
                _draw(now["reactivation_mrr"]),
                _draw(now["expansion_mrr"]),
                -_draw(now["contraction_mrr"]),
                -_draw(now["churned_mrr"]),
                _draw(now["mrr_end"]),
            ],
        },
        # series are lists keyed by the figure, not objects keyed by the translated name:
        # tojson sorts object keys, so the order (and the colours) would follow the language
        "retention": {
            "title": _("NRR and GRR (12 months)"),
            "months": [month_text(r["month"]) for r in trend],
            "series": [
                _series(key, name, [_draw(r[key]) for r in trend])
                for key, name in (("nrr_12m", _("NRR")), ("grr_12m", _("GRR")))
            ],
        },
        "churn": {
            "title": _("Churn rates"),
            "months": [month_text(r["month"]) for r in trend],
            "series": [
                _series(key, name, [_draw(r[key]) for r in trend])
                for key, name in (
                    ("mrr_churn_rate", _("Monthly MRR churn rate")),
                    ("renewal_churn_rate", _("Monthly renewal churn rate")),
                )
            ],
        },
    }
    renewals = accounts.renewals_due(session, RENEWAL_WINDOW_DAYS, limit=20)
    picker = _picker(data.newest)
    renewal_health = latest_scores({r.id for r in renewals.rows})
    try:
        renewal = _renewal_tile(renewal_outlook(session))
    except BansoError:
        renewal = None
    return Dashboard(
        label,
        value,
        complete,
        picker,
        tiles,
        charts,
        renewals,
        renewal_health,
        health_overview(session),
        renewal,
    )


def _renewal_tile(outlook: RenewalOutlook) -> RenewalTile:
    currency = outlook.currency
    rate = outlook.last["renewal_churn_rate"]
    return RenewalTile(
        first=outlook.ahead[0]["month"],
        last=outlook.ahead[-1]["month"],
        due=money(_minor(outlook.due, currency), currency),
        lost=money(_minor(outlook.lost, currency), currency),
        rate_month=outlook.last["month"],
        rate="—" if rate is None else f"{_hundredths(Fraction(rate) * 100)}%",
        months=[
            (
                month_text(r["month"]),
                money(_minor(r["mrr_due"], currency), currency),
                money(_minor(r["mrr_lost"], currency), currency),
            )
            for r in outlook.ahead
        ],
    )


def _period_months(
    period: str | None, default: int, newest: int
) -> tuple[str, str, MonthRange, bool]:
    """The picker value, label and months of ``period``, and whether it is over: default the
    month ``default`` (the last complete month with data); a month is cut at ``newest`` (the
    current month at most), a fiscal period at ``default`` (at ``newest`` when it has no
    complete month)."""
    if not period:
        return month_label(default), month_label(default), MonthRange(default, default), True
    match = _FISCAL.match(period.strip())
    if match is None:
        month = min(parse_month(period, "period"), newest)
        single = MonthRange(month, month)
        return month_label(month), month_label(month), single, month_complete(month)
    year, quarter = int(match.group(1)), match.group(2)
    start_month = get_settings().fiscal_year_start
    label, months = fiscal_periods(year, int(quarter) if quarter else None, start_month)[
        -1 if quarter is None else 0
    ]
    if months.first > newest:
        raise BansoError(_("{period} starts after the last month with data.", period=period))
    cut = default if months.first <= default else newest
    shown = MonthRange(months.first, min(months.last, cut))
    return label.replace(" ", "-"), label, shown, month_complete(months.last)


def _picker(newest: int) -> list[tuple[str, str]]:
    """(value, label) choices: the last 24 months (the current one marked "to date"), then this
    and last fiscal year's quarters and years (marked "to date" while not over)."""
    choices = [(month_label(m), month_text(month_label(m))) for m in range(newest, newest - 24, -1)]
    start_month = get_settings().fiscal_year_start
    this_year = (newest - (start_month - 1)) // 12
    for year in (this_year, this_year - 1):
        for label, months in fiscal_periods(year, None, start_month):
            if months.first <= newest:
                value = label.replace(" ", "-")
                choices.append((value, label if month_complete(months.last) else to_date(label)))
    return choices


def _minor(major: Fraction | int, currency: str) -> int:
    return round(Fraction(major) * 10 ** get_currency_precision(currency))


def _money_tile(label: str, now: Fraction, before: Fraction, currency: str) -> Tile:
    delta = _minor(now, currency) - _minor(before, currency)
    sign = "+" if delta > 0 else ""
    direction = (delta > 0) - (delta < 0)
    return Tile(
        label,
        money(_minor(now, currency), currency),
        sign + money(delta, currency),
        direction,
        direction > 0 if direction else None,
    )


def _rate_tile(
    label: str, now: Fraction | None, before: Fraction | None, *, higher_is_better: bool = True
) -> Tile:
    if now is None:
        return Tile(label, "—", None, 0)
    value = f"{_hundredths(Fraction(now) * 100)}%"
    if before is None:
        return Tile(label, value, None, 0)
    points = (Fraction(now) - Fraction(before)) * 100
    sign = "+" if points > 0 else ""
    change = _("{delta} pt", delta=f"{sign}{_hundredths(points)}")
    direction = (points > 0) - (points < 0)
    better = (direction > 0) == higher_is_better if direction else None
    return Tile(label, value, change, direction, better)


def _hundredths(value: Fraction) -> Decimal:
    """``value`` rounded half-even to two decimals, exactly (no binary float on the way)."""
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal("0.01"))


def _series(key: str, name: str, data: list[float | None]) -> dict[str, Any]:
    """One line of a trend chart: ``key`` (the report's figure) picks its colour in
    dashboard.js, ``name`` is its legend in the reader's language."""
    return {"key": key, "name": name, "data": data}


def _draw(value: Fraction | int | None) -> float | None:
    # Charts need JSON numbers; exact figures stay in the tiles and the revenue service.
    return None if value is None else float(round(Fraction(value), 6))
