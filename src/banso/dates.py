"""Business dates: days are company-local (``BANSO_TIMEZONE``), typed on the command line as
``YYYY-MM-DD``."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from banso.config import get_settings
from banso.errors import BansoError
from banso.i18n import _


def today() -> date:
    """Today in the company time zone."""
    return datetime.now(get_settings().tz).date()


def yesterday() -> date:
    """The last complete company-local day: the default as-of day of daily work."""
    return today() - timedelta(days=1)


def parse_day_option(value: str | None, option: str) -> date | None:
    """``value`` of the command-line ``option`` as a date; a clear error when it is not one."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BansoError(
            _("{option} must be a date as YYYY-MM-DD, not {value!r}.", option=option, value=value)
        ) from None
