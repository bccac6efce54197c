"""The period of a scorecard: a fiscal quarter (``FY2025Q1`` or ``FY2025-Q1``), a fiscal year
(``FY2025``) or a month (``2025-03``); fiscal years start in ``BANSO_FISCAL_YEAR_START``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from banso.config import get_settings
from banso.dates import EARLIEST_DAY, latest_day
from banso.errors import BansoError
from banso.i18n import _
from banso.revenue.fiscal import fiscal_periods
from banso.revenue.months import MonthRange, month_label

_PERIOD = re.compile(r"^(?:FY(\d{4})(?:-?Q([1-4]))?|(\d{4})-(0[1-9]|1[0-2]))$")


@dataclass(frozen=True)
class Period:
    label: str
    """Canonical: ``FY2025-Q1``, ``FY2025`` or ``2025-03`` (how qualitative scores are keyed)."""
    months: MonthRange

    @property
    def first_month(self) -> str:
        return month_label(self.months.first)

    @property
    def last_month(self) -> str:
        return month_label(self.months.last)


def parse_period(text: str) -> Period:
    """``text`` as a period; a one-sentence BansoError when it is none."""
    match = _PERIOD.match(text.strip().upper())
    if match is None:
        raise BansoError(
            _(
                "Write the period as a fiscal quarter (FY2025Q1), a fiscal year (FY2025) or a "
                "month (2025-03); got {value}.",
                value=text,
            )
        )
    year, quarter, cal_year, cal_month = match.groups()
    first, last = EARLIEST_DAY.year, latest_day().year
    if not first <= int(year or cal_year) <= last:
        raise BansoError(
            _(
                "The period {value} lies outside the years Banso accepts ({first}-{last}).",
                value=text,
                first=first,
                last=last,
            )
        )
    if cal_year is not None:
        idx = int(cal_year) * 12 + int(cal_month) - 1
        return Period(month_label(idx), MonthRange(idx, idx))
    start = get_settings().fiscal_year_start
    if quarter is not None:
        ((_label, months),) = fiscal_periods(int(year), int(quarter), start)
        return Period(f"FY{year}-Q{quarter}", months)
    months = fiscal_periods(int(year), None, start)[-1][1]
    return Period(f"FY{year}", months)
