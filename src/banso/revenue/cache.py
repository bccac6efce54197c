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

from banso import data_versions
from banso.config import get_settings
from banso.db import Base, session_scope, utcnow
from banso.errors import BansoError
from banso.revenue import service
from banso.revenue.service import CohortReport, MonthRange, RevenueReport, Row

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
    session: Session, *, start: str | None = None, end: str | None = None, by: str | None = None
) -> RevenueReport:
    """:func:`banso.revenue.service.revenue_report` on DuckDB, from the cache when current."""
    months = service._resolve_range(session, start, end, default_span=12)
    key = _key("revenue", months, by)
    version = data_versions.current(session, data_versions.REVENUE)
    stored = _load(session, key, version)
    if stored is not None:
        return RevenueReport(months, stored["currency"], _rows(stored["rows"]), by)
    report = service.revenue_report(
        session,
        start=service.month_label(months.first),
        end=service.month_label(months.last),
        by=by,
    )
    _store(session, key, version, {"currency": report.currency, "rows": report.rows})
    return report


def cohort_report(
    session: Session, *, start: str | None = None, end: str | None = None
) -> CohortReport:
    """:func:`banso.revenue.service.cohort_report` on DuckDB, from the cache when current."""
    months = service._resolve_range(session, start, end, default_span=None)
    key = _key("cohorts", months, None)
    version = data_versions.current(session, data_versions.REVENUE)
    stored = _load(session, key, version)
    if stored is not None:
        return CohortReport(months, stored["currency"], _rows(stored["rows"]))
    report = service.cohort_report(
        session, start=service.month_label(months.first), end=service.month_label(months.last)
    )
    _store(session, key, version, {"currency": report.currency, "rows": report.rows})
    return report


def fiscal_summary(
    session: Session, *, fiscal_year: int | None = None, quarter: int | None = None
) -> list[service.PeriodSummary]:
    """:func:`banso.revenue.service.fiscal_summary` over the cached monthly report."""
    return service.fiscal_summary(
        session, fiscal_year=fiscal_year, quarter=quarter, reports=revenue_report
    )


def dashboard_range(last: int) -> MonthRange:
    """The months the dashboard reads for a one-month period ending with month ``last``."""
    return MonthRange(last - TREND_MONTHS, last)


def warm(session: Session) -> bool:
    """Compute the dashboard's default report if the cache lacks it; True when computed."""
    try:
        last = service.parse_month(service.default_last_month(session), "month")
    except BansoError:
        return False  # nothing to report on yet
    months = dashboard_range(last)
    version = data_versions.current(session, data_versions.REVENUE)
    if _load(session, _key("revenue", months, None), version) is not None:
        return False
    revenue_report(
        session, start=service.month_label(months.first), end=service.month_label(months.last)
    )
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
            service.month_label(months.first),
            service.month_label(months.last),
            by or "",
            settings.reporting_currency,
            str(settings.gross_margin),
        ]
    )


def _load(session: Session, key: str, version: int) -> dict[str, Any] | None:
    payload = session.scalar(
        select(ReportCache.payload).where(ReportCache.key == key, ReportCache.version == version)
    )
    return None if payload is None else json.loads(payload)


def _store(session: Session, key: str, version: int, content: dict[str, Any]) -> None:
    """Keep a computed report, in a transaction of its own so that the caller's stays read-only;
    a failure to store (a busy database) costs only the cache."""
    payload = json.dumps(content, default=_encode, ensure_ascii=False)
    try:
        with Session(bind=session.get_bind()) as writer, writer.begin():
            writer.merge(
                ReportCache(key=key, version=version, payload=payload, computed_at=utcnow())
            )
    except Exception:  # noqa: BLE001 - the report itself is already computed and correct
        log.warning("could not cache report %s", key, exc_info=True)


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
