"""Business days: Monday to Friday, minus Japanese public holidays and company closures.

Public holidays come from the ``holidays`` package (振替休日 and 国民の休日 included); company
closures such as 年末年始 (Dec 29 - Jan 3) are set with ``BANSO_COMPANY_HOLIDAYS``, a comma list
of ``MM-DD`` days that recur every year.
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from functools import lru_cache

import holidays

from banso.errors import BansoError
from banso.i18n import _


def company_closures() -> frozenset[tuple[int, int]]:
    """``(month, day)`` pairs from ``BANSO_COMPANY_HOLIDAYS`` (e.g. ``12-29,12-30,12-31``)."""
    return _parse_closures(os.environ.get("BANSO_COMPANY_HOLIDAYS", ""))


@lru_cache(maxsize=8)
def _parse_closures(value: str) -> frozenset[tuple[int, int]]:
    out: set[tuple[int, int]] = set()
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            month, day = (int(x) for x in part.split("-"))
            date(2024, month, day)
        except ValueError:
            raise BansoError(
                _("BANSO_COMPANY_HOLIDAYS: {value!r} is not a MM-DD day.", value=part)
            ) from None
        out.add((month, day))
    return frozenset(out)


@lru_cache(maxsize=64)
def _japan(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("JP", years=year)


def is_business_day(day: date, closures: frozenset[tuple[int, int]] | None = None) -> bool:
    """True on a weekday that is neither a Japanese public holiday nor a company closure."""
    if day.weekday() >= 5:
        return False
    if day in _japan(day.year):
        return False
    return (day.month, day.day) not in (company_closures() if closures is None else closures)


def add_business_days(
    start: date, days: int, closures: frozenset[tuple[int, int]] | None = None
) -> date:
    """The ``days``-th business day after ``start`` (``start`` itself not counted).

    With ``days`` = 0: ``start`` when it is a business day, else the next business day."""
    if days < 0:
        raise ValueError("days must not be negative")
    current = start
    if days == 0:
        while not is_business_day(current, closures):
            current += timedelta(days=1)
        return current
    remaining = days
    while remaining:
        current += timedelta(days=1)
        if is_business_day(current, closures):
            remaining -= 1
    return current
