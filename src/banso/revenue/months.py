"""Months of the revenue reports: ``YYYY-MM`` labels and month indices (year*12 + month - 1),
the range a report covers and the months the subscriptions span."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from banso.analytics.engines import month_index
from banso.dates import last_complete_month, today
from banso.errors import BansoError
from banso.i18n import _
from banso.revenue.models import Subscription

MONTH_TEXT = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class MonthRange:
    """Inclusive range of calendar months as month indices (year*12 + month - 1)."""

    first: int
    last: int

    def labels(self) -> list[str]:
        return [month_label(m) for m in range(self.first, self.last + 1)]


def parse_month(text: str, option: str) -> int:
    """``YYYY-MM`` -> month index; a BansoError naming the option when malformed."""
    match = MONTH_TEXT.match(text.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise BansoError(
            _(
                "{option} must be a month written YYYY-MM, such as 2024-04; got {value!r}.",
                option=option,
                value=text,
            )
        )
    return int(match.group(1)) * 12 + int(match.group(2)) - 1


def month_label(idx: int) -> str:
    """Month index -> ``YYYY-MM``."""
    year, month0 = divmod(idx, 12)
    return f"{year:04d}-{month0 + 1:02d}"


def default_last_month(session: Session) -> str:
    """The default ``--to``: the last month in which any start or end date falls, capped at the
    last complete month (:func:`banso.dates.last_complete_month`): a month not yet over is
    reported only when asked for."""
    return month_label(data_bounds(session)[1])


def month_complete(idx: int) -> bool:
    """Whether month ``idx`` is over (on or before :func:`banso.dates.last_complete_month`)."""
    return idx <= month_index(last_complete_month())


def month_text(label: str) -> str:
    """A month ``YYYY-MM`` as pages and tables show it: as is when it is over, else marked
    "to date" (``2026-12 (to date)``, ``2026-12（途中）``)."""
    if month_complete(parse_month(label, "month")):
        return label
    return to_date(label)


def to_date(period: str) -> str:
    """``period`` (a month, a fiscal quarter or year) marked as not over: ``2026-12 (to
    date)``, ``2026-12（途中）``."""
    return _("{period} (to date)", period=period)


def with_completeness(row: dict[str, Any]) -> dict[str, Any]:
    """A report row as the JSON outputs give it: the row of a month not yet over (only there
    when asked for) gains ``"complete": false``; the rows of months that are over are unchanged."""
    if "month" in row and not month_complete(parse_month(row["month"], "month")):
        return {**row, "complete": False}
    return row


def resolve_range(
    session: Session, start: str | None, end: str | None, default_span: int | None
) -> MonthRange:
    """The requested month range with defaults; BansoError when malformed or inverted."""
    first_data, last_data = data_bounds(session)
    last = parse_month(end, "--to") if end else last_data
    if start:
        first = parse_month(start, "--from")
    elif default_span is None:
        first = min(first_data, last)
    else:
        first = last - (default_span - 1)
    if first > last:
        raise BansoError(
            _(
                "--from {start} is after --to {end}; give the earlier month first.",
                start=month_label(first),
                end=month_label(last),
            )
        )
    return MonthRange(first, last)


@dataclass(frozen=True)
class DataMonths:
    """The months the subscriptions span, as month indices."""

    first: int
    """The first start month."""
    newest: int
    """The last month in which a start or end date falls, capped at the current month: the
    newest month a page offers (the current one labelled "to date")."""
    default: int
    """``newest`` capped at the last complete month: what reports show by default."""


def data_bounds(session: Session) -> tuple[int, int]:
    """(first start month, default last month) of the subscriptions; BansoError when none."""
    months = data_months(session)
    return months.first, months.default


def data_months(session: Session) -> DataMonths:
    """The first, newest and default last months of the subscriptions; BansoError when none."""
    bind = session.get_bind()
    missing_file = bind.dialect.name == "sqlite" and not Path(bind.url.database or "").exists()
    if missing_file or not inspect(bind).has_table(Subscription.__tablename__):
        raise BansoError(_("The database is not initialised; run `banso init` first."))
    # one aggregate per query: each is then one step down a date index, not a table scan
    first = session.scalar(select(func.min(Subscription.start_date)))
    last_start = session.scalar(select(func.max(Subscription.start_date)))
    last_end = session.scalar(select(func.max(Subscription.end_date)))
    if first is None:
        raise BansoError(_("No subscriptions to report on; run `banso import subscriptions FILE`."))
    latest = max(d for d in (as_date(last_start), as_date(last_end)) if d is not None)
    newest = min(month_index(latest), month_index(today()))
    default = min(newest, month_index(last_complete_month()))
    return DataMonths(month_index(as_date(first)), newest, default)


def as_date(value: date | str | None) -> date | None:
    """SQLite returns aggregates of date columns as ISO strings."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
