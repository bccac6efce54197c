"""Business dates: days are company-local (``BANSO_TIMEZONE``), typed on the command line as
``YYYY-MM-DD`` (days) or ``YYYY-MM`` (months).

Every day or month a person types is parsed here, and only days from ``EARLIEST_DAY`` to
``YEARS_AHEAD`` years after today are accepted: a mistyped year (1900, 9999) would otherwise be
scored and stored, and a stored day outside that window is ignored by every reader
(``accepted_day``) so it cannot break later runs.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from banso.config import get_settings
from banso.errors import BansoError
from banso.i18n import _

EARLIEST_DAY = date(1990, 1, 1)
"""The first day Banso accepts: older than any SaaS subscription it will be given."""

YEARS_AHEAD = 10
"""How far after today a day may be (contract ends, pulse expiries)."""

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def today() -> date:
    """Today in the company time zone, or ``BANSO_TODAY`` when set (a fixed day for tests and
    demos: every page and command then behaves as on that day)."""
    settings = get_settings()
    return settings.today or datetime.now(settings.tz).date()


def yesterday() -> date:
    """The last complete company-local day: the default as-of day of daily work."""
    return today() - timedelta(days=1)


def last_complete_month(day: date | None = None) -> date:
    """The first day of the last month that is over on ``day`` (default today): on 2026-12-01,
    2026-11-01. Pages and commands report this month by default; a month not yet over is shown
    only when asked, labelled "to date"."""
    first_of_this = (day or today()).replace(day=1)
    return (first_of_this - timedelta(days=1)).replace(day=1)


def month_over(month: date, day: date | None = None) -> bool:
    """Whether the month of ``month`` is over on ``day`` (default today): a month not over is
    shown only when asked, labelled "to date"."""
    return month.replace(day=1) <= last_complete_month(day)


def latest_day() -> date:
    """The last day Banso accepts: ``YEARS_AHEAD`` years after today (28 Feb for 29 Feb)."""
    now = today()
    try:
        return now.replace(year=now.year + YEARS_AHEAD)
    except ValueError:
        return now.replace(year=now.year + YEARS_AHEAD, day=28)


def accepted_day(day: date) -> bool:
    """Whether ``day`` lies in the accepted window (``EARLIEST_DAY`` … ``latest_day()``)."""
    return EARLIEST_DAY <= day <= latest_day()


def check_day(day: date, option: str) -> date:
    """``day`` when it is in the accepted window; otherwise a BansoError naming ``option``."""
    if not accepted_day(day):
        raise BansoError(
            _(
                "{option} must be a day from {first} to {last}, not {value}.",
                option=option,
                first=EARLIEST_DAY.isoformat(),
                last=latest_day().isoformat(),
                value=day.isoformat(),
            )
        )
    return day


def parse_day_option(value: str | date | None, option: str) -> date | None:
    """``value`` of the command-line ``option`` as a date in the accepted window; a clear error
    when it is not a date or lies outside it."""
    if value is None or isinstance(value, date):
        return None if value is None else check_day(value, option)
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise BansoError(
            _("{option} must be a date as YYYY-MM-DD, not {value!r}.", option=option, value=value)
        ) from None
    return check_day(day, option)


def parse_month_option(value: str, option: str) -> str:
    """``value`` of the command-line ``option`` as a month ``YYYY-MM`` in the accepted window;
    a clear error when it is not one."""
    match = _MONTH.match(value.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise BansoError(
            _(
                "{option} must be a month written YYYY-MM, such as 2024-04; got {value!r}.",
                option=option,
                value=value,
            )
        )
    first = date(int(match.group(1)), int(match.group(2)), 1)
    last = latest_day()
    if not EARLIEST_DAY <= first <= last:
        raise BansoError(
            _(
                "{option} must be a month from {first} to {last}, not {value}.",
                option=option,
                first=EARLIEST_DAY.strftime("%Y-%m"),
                last=last.strftime("%Y-%m"),
                value=value.strip(),
            )
        )
    return value.strip()


class DayOption:
    """Parser of a day option or argument for Typer (``parser=DayOption("--as-of")``); the
    option's name goes into the error message."""

    def __init__(self, option: str) -> None:
        self.option = option

    def __call__(self, value: str | date) -> date:
        day = parse_day_option(value, self.option)
        assert day is not None
        return day


class MonthOption:
    """Parser of a month option or argument for Typer (``parser=MonthOption("--from")``): the
    month as ``YYYY-MM`` text, checked."""

    def __init__(self, option: str) -> None:
        self.option = option

    def __call__(self, value: str) -> str:
        return parse_month_option(value, self.option)
