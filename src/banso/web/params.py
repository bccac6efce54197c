"""Bounds shared by the parameters and bodies of the web app and API.

Ids are positive 64-bit integers (what every database here stores); dates lie between
1990-01-01 and ten years from today; every date-time the API returns is aware UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator
from sqlalchemy.orm import Session

from banso.dates import EARLIEST_DAY, latest_day
from banso.errors import InvalidValue
from banso.i18n import _
from banso.team.models import TeamMember
from banso.users.models import User

MAX_ID = 2**63 - 1
"""Largest id a database column holds (signed 64-bit)."""

AccountId = Annotated[
    int, Path(ge=1, le=MAX_ID, description="Banso's account id (a positive 64-bit integer).")
]


def owner_parameter(session: Session, user: User, owner: str) -> int | None:
    """An ``owner`` filter (a team member's id, or ``me``: the signed-in user's own; no team
    member then matches nothing) as a team member id; ``None`` when not given. InvalidValue
    names the field when no such member exists."""
    if owner == "me":
        return user.team_member_id if user.team_member_id is not None else -1
    if not owner:
        return None
    owner_id = int(owner)
    if not 1 <= owner_id <= MAX_ID or session.get(TeamMember, owner_id) is None:
        raise InvalidValue("owner", _("There is no team member with id {id}.", id=owner))
    return owner_id


def as_utc(value: datetime) -> datetime:
    """A stored timestamp as aware UTC; naive ones were stored in UTC (SQLite drops the zone)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


UtcDateTime = Annotated[datetime, AfterValidator(as_utc)]
"""A date-time the API returns: aware UTC (ISO 8601 with ``Z``)."""


_MONTH = re.compile(r"(\d{4})-(\d{2})")


def month_parameter(value: str | None, field: str) -> str | None:
    """A ``YYYY-MM`` query parameter checked against the date bounds; InvalidValue naming
    ``field`` otherwise."""
    if value is None or value == "":
        return None
    match = _MONTH.fullmatch(value.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise InvalidValue(field, _("Give a month written YYYY-MM, such as 2024-04."))
    last = latest_day()
    year = int(match.group(1))
    first = date(year, int(match.group(2)), 1) if EARLIEST_DAY.year <= year <= last.year else None
    if first is None or not EARLIEST_DAY <= first <= last:
        raise InvalidValue(
            field,
            _(
                "Give a month from {first} to {last}.",
                first=EARLIEST_DAY.strftime("%Y-%m"),
                last=last.strftime("%Y-%m"),
            ),
        )
    return f"{first:%Y-%m}"


def month_range(start: str | None, end: str | None) -> tuple[str | None, str | None]:
    """Checked ``start`` and ``end`` months (parameters of those names), in order."""
    first, last = month_parameter(start, "start"), month_parameter(end, "end")
    if first and last and first > last:
        raise InvalidValue(
            "start", _("start {start} is after end {end}; give the earlier month first.",
                       start=first, end=last),
        )  # fmt: skip
    return first, last


def check_timestamp(
    value: datetime, *, latest: datetime, earliest_day: date = EARLIEST_DAY
) -> datetime:
    """``value`` when it lies from ``earliest_day`` (UTC) to ``latest``; ValueError (a pydantic
    field error) otherwise. Years 1 and 9999 are refused before any time-zone arithmetic,
    which would overflow there."""
    earliest = datetime.combine(earliest_day, datetime.min.time(), UTC)
    if not (earliest_day.year <= value.year < 9999 and earliest <= value <= latest):
        raise ValueError(
            _(
                "Give a time from {first} to {last}.",
                first=earliest.isoformat(),
                last=latest.astimezone(UTC).isoformat(timespec="seconds"),
            )
        )
    return value
