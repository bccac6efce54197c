"""The renewal calendar: MRR due for renewal, renewed and lost per month (and owner, segment,
touch model or plan), past and future (``docs/metrics.md``, "Renewal calendar").

``mrr_due`` and ``mrr_lost`` are spec §5's ``renewal_due_mrr`` and ``renewal_churned_mrr``,
computed by :func:`banso.revenue.service.renewal_months` from the same definitions as
``banso metrics revenue``; this module only shapes them: ``mrr_renewed`` = due − lost, and
``renewal_churn_rate`` = lost / due for months that are over (null for the current month and
later ones, whose losses are only the notice given so far).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

from sqlalchemy.orm import Session

from banso import data_versions, dates
from banso.errors import BansoError
from banso.i18n import _
from banso.revenue.metrics import COUNT, LABEL, MONEY, RATE, Kpi
from banso.revenue.months import MonthRange, month_complete, month_label, parse_month
from banso.revenue.service import renewal_months

BREAKDOWNS = ("owner", "segment", "touch", "plan")
"""``--by`` choices: those of ``revenue.metrics.BREAKDOWNS`` the calendar offers."""

CALENDAR_KPIS: tuple[Kpi, ...] = (
    Kpi("month", LABEL, "Month", "月"),
    Kpi("lines_due", COUNT, "Lines due", "更新対象の契約行数"),
    Kpi("accounts_due", COUNT, "Accounts due", "更新対象の顧客数"),
    Kpi("mrr_due", MONEY, "MRR due for renewal", "更新対象MRR"),
    Kpi("mrr_renewed", MONEY, "MRR renewed", "更新MRR"),
    Kpi("mrr_lost", MONEY, "MRR not renewed", "更新解約MRR"),
    Kpi("renewal_churn_rate", RATE, "Renewal churn", "月次更新解約率"),
)
"""The calendar's columns, in output order (the ``--by`` key follows ``month``)."""

KINDS: dict[str, str] = {k.key: k.kind for k in CALENDAR_KPIS}


@dataclass
class RenewalCalendar:
    """The calendar's rows, exact (``Fraction`` money in major units of ``currency``, rates
    ``Fraction`` or None), one per month and key, months in order."""

    months: MonthRange
    currency: str
    rows: list[dict[str, Any]]
    by: str | None = None


def renewal_calendar(
    session: Session,
    *,
    start: str,
    end: str,
    by: str | None = None,
    min_term_months: int = 1,
    engine: str = "duckdb",
) -> RenewalCalendar:
    """The renewal calendar of the months ``start``..``end`` (``YYYY-MM``, inclusive)."""
    first, last = parse_month(start, "--from"), parse_month(end, "--to")
    if first > last:
        raise BansoError(
            _(
                "--from {start} is after --to {end}; give the earlier month first.",
                start=month_label(first),
                end=month_label(last),
            )
        )
    if by is not None and by not in BREAKDOWNS:
        raise BansoError(
            _(
                "Unknown breakdown {by}; choose one of {choices}.",
                by=by,
                choices=", ".join(BREAKDOWNS),
            )
        )
    if min_term_months < 1:
        raise BansoError(
            _("--min-term-months must be 1 or more, not {value}.", value=min_term_months)
        )
    found = renewal_months(
        session,
        MonthRange(first, last),
        engine=engine,
        by=by,
        min_term_months=min_term_months,
    )
    rows = []
    for r in found.rows:
        row: dict[str, Any] = {"month": r["month"]}
        if by is not None:
            row[by] = r["key"]
        due, lost = r["due"], r["lost"]
        over = month_complete(parse_month(r["month"], "month"))
        row.update(
            lines_due=r["lines_due"],
            accounts_due=r["accounts_due"],
            mrr_due=due,
            mrr_renewed=due - lost,
            mrr_lost=lost,
            renewal_churn_rate=Fraction(lost) / due if over and due else None,
        )
        rows.append(row)
    return RenewalCalendar(found.months, found.currency, rows, by)


def rounded(row: dict[str, Any]) -> dict[str, Any]:
    """A row with the output contract's rounding: money half-to-even to 2 decimals, rates to
    6, as JSON numbers; counts, labels and nulls unchanged."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        kind = KINDS.get(key)
        if value is None or kind not in (MONEY, RATE):
            out[key] = value
        else:
            out[key] = float(round(Fraction(value), 2 if kind == MONEY else 6))
    return out


OUTLOOK_MONTHS = 3
"""The renewal outlook (the dashboard's renewal tile) looks this many months ahead, the current
month first."""


@dataclass(frozen=True)
class RenewalOutlook:
    """The dashboard's renewal tile: the calendar rows of the last complete month and of the
    :data:`OUTLOOK_MONTHS` months from the current one, exact like :class:`RenewalCalendar`."""

    currency: str
    last: dict[str, Any]
    """The last complete month's row (its ``renewal_churn_rate`` is 月次更新解約率)."""
    ahead: list[dict[str, Any]]
    """The months ahead, the current month first; ``mrr_lost`` is the notice given so far."""

    @property
    def due(self) -> Fraction:
        return sum((Fraction(r["mrr_due"]) for r in self.ahead), Fraction(0))

    @property
    def lost(self) -> Fraction:
        return sum((Fraction(r["mrr_lost"]) for r in self.ahead), Fraction(0))


def renewal_outlook(session: Session) -> RenewalOutlook:
    """The renewal calendar of the last complete month and the next :data:`OUTLOOK_MONTHS`
    months (``banso renewals calendar --from LAST --to LAST+3``), kept per database and day
    until the revenue data version changes (any write to subscriptions, FX rates or accounts),
    as every dashboard view asks for it."""
    key = (
        session.get_bind().url.render_as_string(hide_password=True),
        data_versions.current(session, data_versions.REVENUE),
        dates.today(),
    )
    found = _OUTLOOK.get(key)
    if found is None:
        over = dates.last_complete_month()
        last = over.year * 12 + over.month - 1
        calendar = renewal_calendar(
            session, start=month_label(last), end=month_label(last + OUTLOOK_MONTHS)
        )
        found = RenewalOutlook(calendar.currency, calendar.rows[0], calendar.rows[1:])
        _OUTLOOK.clear()  # only the newest state of one database is worth keeping
        _OUTLOOK[key] = found
    return found


_OUTLOOK: dict[tuple[str, int, date], RenewalOutlook] = {}
