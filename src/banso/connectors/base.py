"""What every connector object is: a pull of records changed since a cursor, turned into the
rows of one import kind, with the service's record id of each row so that a problem names it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from banso.config import get_settings
from banso.connectors.http import ApiClient
from banso.errors import BansoError
from banso.i18n import _
from banso.revenue.contracts import minor_exponent

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
    requires: tuple[str, ...] = ()
    """Import fields with no default that the connection's mapping must name before the object
    is synced (Salesforce Contract: ``amount``, a custom field in every org that has one)."""


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


def minor_amount(value: Any, currency: str | None) -> str:
    """An amount as the CRMs write it, in the currency's major unit (``12000.5``, ``"1200000"``),
    as the integer count of its minor unit that Banso stores (``1200050`` cents for USD).
    ``currency`` None is the reporting currency. ValueError with the reason for an amount that
    is not a number or has more decimals than the currency's minor unit (JPY ``1200.5``)."""
    code = (currency or get_settings().reporting_currency).upper()
    try:
        exponent = minor_exponent(code)
    except BansoError as exc:
        raise ValueError(str(exc)) from None
    try:
        number = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError(_("not an amount: {value}", value=str(value))) from None
    if not number.is_finite():
        raise ValueError(_("not an amount: {value}", value=str(value)))
    scaled = number.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise ValueError(_("{value} has more decimals than {currency} has (its minor unit is "
                           "10^-{exponent})", value=str(value), currency=code,
                           exponent=exponent))  # fmt: skip
    return str(int(scaled))
