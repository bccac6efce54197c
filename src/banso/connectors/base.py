"""What every connector object is: a pull of records changed since a cursor, turned into the
rows of one import kind, with the service's record id of each row so that a problem names it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from banso.config import get_settings
from banso.connectors.http import ApiClient

Row = dict[str, str | None]


@dataclass(frozen=True)
class RecordProblem:
    record_id: str
    field: str
    reason: str


@dataclass
class Pulled:
    """Rows for the importer, the service's id of each row, what was left out and why, the
    problems of malformed records, and the cursor to store once the rows are in."""

    rows: list[Row] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    skipped: int = 0
    problems: list[RecordProblem] = field(default_factory=list)
    records_in: int = 0
    cursor: str | None = None

    def add(self, record_id: str, row: Row) -> None:
        self.rows.append(row)
        self.ids.append(record_id)


@dataclass(frozen=True)
class ObjectSync:
    """One object of a service (HubSpot companies, Stripe subscriptions, ...)."""

    name: str
    kind: str
    """The import kind its records become (accounts, contacts, subscriptions, tickets, ...)."""
    fields: dict[str, str]
    """Default mapping: import field -> the record's field path (``properties.domain``)."""
    pull: Callable[[ApiClient, str | None, dict[str, str]], Pulled]


def dig(record: Any, path: str) -> Any:
    """The value at a dotted ``path`` of a JSON record (``properties.domain``), or None."""
    value = record
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return text(value[0]) if value else None
    return str(value)


def mapped_row(record: Any, mapping: dict[str, str]) -> Row:
    """The import fields of ``record`` by ``mapping`` (custom fields included)."""
    return {name: text(dig(record, path)) for name, path in mapping.items()}


def from_epoch(seconds: float | int) -> datetime:
    return datetime.fromtimestamp(float(seconds), UTC)


def company_date(moment: datetime) -> date:
    """The company's calendar day of an instant (contract dates are the company's days)."""
    return moment.astimezone(get_settings().tz).date()


def parse_time(value: str) -> datetime:
    """ISO 8601 as the services write it (``Z``, ``+0000``, milliseconds)."""
    text_value = value.strip().replace("Z", "+00:00")
    if len(text_value) > 5 and text_value[-5] in "+-" and text_value[-3] != ":":
        text_value = text_value[:-2] + ":" + text_value[-2:]
    moment = datetime.fromisoformat(text_value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
