"""Revenue reports kept in the app database until the data under them changes.

At 100,000 accounts a revenue report takes seconds; the dashboard and the Metrics page ask for
the same few reports again and again. Each report is stored with the revenue data version
(:mod:`banso.data_versions`) it was computed at and served while that version is current, so a
cached figure is always the figure a fresh computation would give. The daily run fills the
dashboard's report ahead of the first visit (:func:`warm`).

Reports are stored exactly: fractions as numerator/denominator pairs, never floats.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime
from fractions import Fraction
from typing import Any

from sqlalchemy import BigInteger, DateTime, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from banso import data_versions, dates
from banso.config import get_settings
from banso.db import Base, session_scope, utcnow
from banso.errors import BansoError
from banso.revenue import fiscal, service
from banso.revenue.fiscal import PeriodSummary
from banso.revenue.months import (
    MonthRange,
    default_last_month,
    month_label,
    parse_month,
    resolve_range,
)
from banso.revenue.service import BookFilter, CohortReport, RevenueReport, Row
from banso.team.models import TeamMember

log = logging.getLogger(__name__)

TREND_MONTHS = 12
"""The dashboard shows 12 months of trend before the month it reports."""


class ReportCache(Base):
    __tablename__ = "report_cache"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[str] = mapped_column(Text)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def revenue_report(
    session: Session,
    *,
    start: str | None = None,
    end: str | None = None,
    by: str | None = None,
    owner_id: int | None = None,
    book: BookFilter | None = None,
) -> RevenueReport:
    """:func:`banso.revenue.service.revenue_report` on DuckDB, from the cache when current.

    A month's rows do not depend on the range asked for, so they are kept per month: the
    dashboard's 13 months, the Metrics page's 12 and a fiscal year's share what they overlap,
    and only the months missing from the cache are computed (as one range). ``owner_id``: one
    team member's book (kept apart per member; a change of owner is a write to the accounts,
    which moves the revenue data version on). ``book``: the accounts a :class:`BookFilter` lets
    through (owner, team, touch model, segment), kept apart per filter the same way."""
    months = resolve_range(session, start, end, default_span=12)
    version = data_versions.current(session, data_versions.REVENUE)
    if owner_id is not None:
        book = BookFilter(owner_id=owner_id)
    kind = f"revenue-month-{book.cache_key()}" if book else "revenue-month"
    keys = {m: _key(kind, MonthRange(m, m), by) for m in _span(months)}
    stored = _load_many(session, list(keys.values()), version)
    missing = [m for m in _span(months) if keys[m] not in stored]
    currency = get_settings().reporting_currency
    rows_by_month = {m: stored[keys[m]] for m in _span(months) if keys[m] in stored}
    if missing:
        report = service.revenue_report(
            session,
            start=month_label(missing[0]),
            end=month_label(missing[-1]),
            by=by,
            book=book or None,
        )
        currency = report.currency
        fresh: dict[int, list[Row]] = {}
        for row in report.rows:
            fresh.setdefault(parse_month(row["month"], "month"), []).append(row)
        _store_many(
            session,
            version,
            {keys[m]: {"currency": currency, "rows": fresh.get(m, [])} for m in missing},
        )
        rows_by_month.update({m: {"currency": currency, "rows": fresh.get(m, [])} for m in missing})
    rows = [row for m in _span(months) for row in _rows(rows_by_month[m]["rows"])]
    return RevenueReport(months, currency, rows, by)


def cohort_report(
    session: Session,
    *,
    start: str | None = None,
    end: str | None = None,
    book: BookFilter | None = None,
) -> CohortReport:
    """:func:`banso.revenue.service.cohort_report` on DuckDB, from the cache when current."""
    months = resolve_range(session, start, end, default_span=None)
    key = _key(f"cohorts-{book.cache_key()}" if book else "cohorts", months, None)
    version = data_versions.current(session, data_versions.REVENUE)
    stored = _load_many(session, [key], version).get(key)
    if stored is not None:
        return CohortReport(months, stored["currency"], _rows(stored["rows"]))
    report = service.cohort_report(
        session, start=month_label(months.first), end=month_label(months.last), book=book or None
    )
    _store_many(session, version, {key: {"currency": report.currency, "rows": report.rows}})
    return report


def fiscal_summary(
    session: Session,
    *,
    fiscal_year: int | None = None,
    quarter: int | None = None,
    book: BookFilter | None = None,
) -> list[PeriodSummary]:
    """:func:`banso.revenue.fiscal.fiscal_summary` over the cached monthly report (of the
    accounts ``book`` lets through)."""

    def reports(session: Session, *, start: str, end: str) -> RevenueReport:
        return revenue_report(session, start=start, end=end, book=book)

    return fiscal.fiscal_summary(session, fiscal_year=fiscal_year, quarter=quarter, reports=reports)


def dashboard_range(last: int) -> MonthRange:
    """The months the dashboard reads for a one-month period ending with month ``last``."""
    return MonthRange(last - TREND_MONTHS, last)


def warm(session: Session) -> bool:
    """Compute what the dashboard and the Metrics page show by default (13 months of revenue
    rows, the cohorts of the last 12 months) and every team member's book for the last complete
    month (:func:`warm_books`) when the cache lacks it; True when computed."""
    try:
        last = parse_month(default_last_month(session), "month")
    except BansoError:
        return False  # nothing to report on yet
    version = data_versions.current(session, data_versions.REVENUE)
    months = dashboard_range(last)
    cohorts = MonthRange(last - 11, last)
    wanted = [_key("revenue-month", MonthRange(m, m), None) for m in _span(months)]
    wanted.append(_key("cohorts", cohorts, None))
    books = warm_books(session)
    if len(_load_many(session, wanted, version)) == len(wanted):
        return books
    first, end = month_label(months.first), month_label(months.last)
    revenue_report(session, start=first, end=end)
    cohort_report(session, start=month_label(cohorts.first), end=end)
    return True


def warm_books(session: Session) -> bool:
    """Every team member's book (:func:`revenue_report` with ``owner_id``) for the last complete
    month, from one report broken down by owner: at 100,000 accounts one report for all owners
    takes a few seconds, where each book alone costs about 0.2 s of query compilation whatever
    its size. A member's book is its owner row of that report (tests prove the two agree); a
    member who owns nothing has none here and is computed on the first visit. True when
    computed."""
    month = dates.last_complete_month()
    label = month_label(month.year * 12 + month.month - 1)
    months = MonthRange(*(parse_month(label, "month"),) * 2)
    version = data_versions.current(session, data_versions.REVENUE)
    marker = _key("books-warmed", months, None)
    if _load_many(session, [marker], version):
        return False
    ids = dict(session.execute(select(TeamMember.email, TeamMember.id)).all())
    report = revenue_report(session, start=label, end=label, by="owner")
    entries: dict[str, dict[str, Any]] = {}
    for row in report.rows:
        member = ids.get(row["owner"])
        if member is not None:
            rows = [{k: v for k, v in row.items() if k != "owner"}]
            key = _key(f"revenue-month-owner-{member}", months, None)
            entries[key] = {"currency": report.currency, "rows": rows}
    entries[marker] = {"currency": report.currency, "rows": []}
    _store_many(session, version, entries)
    return True


def warm_in_background() -> threading.Thread:
    """:func:`warm` on a daemon thread with its own session (server start, after an upload):
    the next dashboard visit then reads a current report instead of computing one."""

    def work() -> None:
        try:
            with session_scope() as session:
                warm(session)
        except Exception:  # noqa: BLE001 - a visit computes the report itself if this failed
            log.warning("could not warm the report cache", exc_info=True)

    thread = threading.Thread(target=work, name="banso-warm-reports", daemon=True)
    thread.start()
    return thread


def _key(kind: str, months: MonthRange, by: str | None) -> str:
    """Everything besides the data that the report depends on."""
    settings = get_settings()
    return "|".join(
        [
            kind,
            month_label(months.first),
            month_label(months.last),
            by or "",
            settings.reporting_currency,
            str(settings.gross_margin),
        ]
    )


def _span(months: MonthRange) -> range:
    return range(months.first, months.last + 1)


def _load_many(session: Session, keys: list[str], version: int) -> dict[str, dict[str, Any]]:
    """The entries of ``keys`` stored at ``version``, decoded from JSON."""
    found = session.execute(
        select(ReportCache.key, ReportCache.payload).where(
            ReportCache.key.in_(keys), ReportCache.version == version
        )
    ).all()
    return {key: json.loads(payload) for key, payload in found}


def _store_many(session: Session, version: int, entries: dict[str, dict[str, Any]]) -> None:
    """Keep computed reports, in a transaction of their own so that the caller's stays
    read-only; a failure to store (a busy database) costs only the cache."""
    now = utcnow()
    try:
        with Session(bind=session.get_bind()) as writer, writer.begin():
            for key, content in entries.items():
                payload = json.dumps(content, default=_encode, ensure_ascii=False)
                writer.merge(
                    ReportCache(key=key, version=version, payload=payload, computed_at=now)
                )
    except Exception:  # noqa: BLE001 - the report itself is already computed and correct
        log.warning("could not cache reports %s", list(entries), exc_info=True)


def _encode(value: Any) -> Any:
    if isinstance(value, Fraction):
        return {"fraction": [value.numerator, value.denominator]}
    raise TypeError(f"cannot cache a {type(value).__name__} in a report")


def _rows(rows: list[Row]) -> list[Row]:
    return [{k: _decode(v) for k, v in row.items()} for row in rows]


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and "fraction" in value:
        numerator, denominator = value["fraction"]
        return Fraction(numerator, denominator)
    return value
