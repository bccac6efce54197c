"""Cell values as people really send them: one Python parser per value type.

Each parser takes the cell text (already not blank) and returns the typed value or raises
``ValueError`` whose message is a translated reason for the user. These are the slow, forgiving
path; ``columns.py`` tries a vectorised fast path first and calls these only for cells it
could not read.
"""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from banso.i18n import _

# Japanese eras: first Gregorian year of each (元年 = year 1).
_ERAS = {
    "令和": 2019,
    "r": 2019,
    "平成": 1989,
    "h": 1989,
    "昭和": 1926,
    "s": 1926,
    "大正": 1912,
    "t": 1912,
    "明治": 1868,
    "m": 1868,
}
_ERA_DATE = re.compile(
    r"^(令和|平成|昭和|大正|明治|[rhstm])\s*(元|\d{1,2})\s*[年./-]\s*(\d{1,2})\s*[月./-]\s*(\d{1,2})\s*日?$"
)
_GREGORIAN_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_TIME = re.compile(
    r"^(\d{1,2})[:時](\d{1,2})(?:[:分](\d{1,2})(?:\.(\d{1,6})\d*)?秒?)?\s*"
    r"(z|[+-]\d{2}:?\d{2})?$"
)
_DATE_TIME_T = re.compile(r"(?<=\d)t(?=\d)")
_CURRENCY_MARKS = ("¥", "円", "$", "€", "£", "jpy", "usd", "eur")
INTEGER_LIMIT = 2**31 - 1
"""Largest whole number the database's integer columns hold (counts, scores, periods)."""
AMOUNT_LIMIT = 2**63 - 1
"""Largest amount in minor units the database's 64-bit amount columns hold."""
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def clean_text(value: str) -> str:
    """NFKC-normalised text without surrounding white space (full-width digits become ASCII)."""
    return unicodedata.normalize("NFKC", value).strip()


def parse_date(value: str) -> date:
    """A calendar date: 2024-04-01, 2024/4/1, 20240401, 2024年4月1日, 令和6年4月1日, R6.4.1.

    A time part after the date (Excel writes ``2024-04-01 00:00:00``) is accepted when it is
    midnight, so a date column never silently drops a time of day.
    """
    text = _DATE_TIME_T.sub(" ", clean_text(value).lower())
    date_part, _sep, time_part = text.partition(" ")
    if time_part and not _is_midnight(time_part):
        raise ValueError(_("expected a date without a time of day, got {value}", value=value))
    if date_part.startswith(("令和", "平成", "昭和", "大正", "明治")) or (
        date_part[:1] in "rhstm" and date_part[1:2].isdigit()
    ):
        parsed = _era_date(text if not time_part else date_part)
    else:
        parsed = _gregorian_date(date_part)
    if parsed is None:
        raise ValueError(_("not a date: {value} (use e.g. 2024-04-01)", value=value))
    return parsed


def parse_datetime(value: str, tz: ZoneInfo) -> datetime:
    """A point in time as an aware UTC datetime.

    ISO 8601 with an offset (``2024-04-01T10:00:00+09:00``, ``...Z``) is taken as written; a
    timestamp without an offset, or a bare date (midnight), is in the company time zone ``tz``.
    """
    text = _DATE_TIME_T.sub(" ", clean_text(value).lower())
    date_text, _sep, time_text = text.partition(" ")
    if date_text.startswith(("令和", "平成", "昭和", "大正", "明治")):
        day = _era_date(date_text)
    else:
        day = _gregorian_date(date_text)
    if day is None:
        raise ValueError(
            _("not a date and time: {value} (use e.g. 2024-04-01T10:00:00+09:00)", value=value)
        )
    clock = time(0, 0)
    offset: timezone | None = None
    time_text = time_text.replace(" ", "")
    if time_text:
        match = _TIME.match(time_text)
        if match is None:
            raise ValueError(
                _("not a date and time: {value} (use e.g. 2024-04-01T10:00:00+09:00)", value=value)
            )
        hour, minute, second, fraction, zone = match.groups()
        try:
            clock = time(
                int(hour), int(minute), int(second or 0), int((fraction or "0").ljust(6, "0"))
            )
        except ValueError:
            raise ValueError(_("not a valid time of day: {value}", value=value)) from None
        if zone:
            offset = _offset(zone)
    local = datetime.combine(day, clock)
    try:
        return local.replace(tzinfo=offset or tz).astimezone(UTC)
    except OverflowError:  # within a day of year 1 or 9999, where UTC falls off the calendar
        raise ValueError(_("date out of range: {value}", value=value)) from None


def parse_integer(value: str) -> int:
    """A whole number, allowing thousands separators and full-width digits (``１，２００``)."""
    text = clean_text(value).replace(",", "").replace(" ", "")
    if not re.fullmatch(r"[+-]?\d+", text):
        raise ValueError(_("not a whole number: {value}", value=value))
    return _within(int(text), INTEGER_LIMIT, value)


def parse_amount(value: str, *, backslash_is_yen: bool = False) -> int:
    """Money in the currency's minor unit: ``1,200,000``, ``¥1,200,000``, ``1,200,000円``.

    Decimals are refused: the spec stores amounts as integers in the minor unit (yen for JPY,
    cents for USD), so ``12.50`` is a unit mistake the user should see, not round away.

    ``backslash_is_yen`` is for files in CP932, where byte 0x5C is both the backslash and, in
    every Japanese font, the yen sign: billing exports write ``\\120,000`` for ¥120,000.
    """
    text = clean_text(value).lower().replace(",", "").replace(" ", "")
    if backslash_is_yen:
        text = re.sub(r"^([+-]?)\\", r"\1", text)
    for mark in _CURRENCY_MARKS:
        text = text.replace(mark, "")
    if re.fullmatch(r"[+-]?\d+\.\d*", text):
        raise ValueError(
            _(
                "amount must be a whole number in the currency's minor unit (yen, cents): {value}",
                value=value,
            )
        )
    if not re.fullmatch(r"[+-]?\d+", text):
        raise ValueError(_("not an amount of money: {value}", value=value))
    return _within(int(text), AMOUNT_LIMIT, value)


def _within(number: int, limit: int, value: str) -> int:
    if -limit <= number <= limit:
        return number
    raise ValueError(
        _("{value} is too large (at most {limit:,} either way)", value=value, limit=limit)
    )


def parse_currency(value: str) -> str:
    """An ISO 4217 code (``JPY``); ``円``/``¥`` are read as JPY and ``$`` as USD."""
    text = clean_text(value).upper()
    text = {"円": "JPY", "¥": "JPY", "$": "USD", "US$": "USD", "€": "EUR"}.get(text, text)
    if not re.fullmatch(r"[A-Z]{3}", text):
        raise ValueError(_("not an ISO 4217 currency code: {value}", value=value))
    return text


def parse_email(value: str) -> str:
    """An e-mail address, lower-cased (addresses are compared case-insensitively in practice)."""
    text = clean_text(value).lower()
    if not _EMAIL.match(text):
        raise ValueError(_("not an e-mail address: {value}", value=value))
    return text


def parse_json_object(value: str) -> str:
    """A JSON object (event properties), returned in its compact form."""
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        raise ValueError(_("not valid JSON: {value}", value=value[:80])) from None
    if not isinstance(parsed, dict):
        raise ValueError(_("expected a JSON object like {example}", example='{"key": "value"}'))
    return json.dumps(parsed, ensure_ascii=False, separators=(",", ":"))


def choice_key(value: str) -> str:
    """How a choice label is compared: NFKC, case-folded, spaces/hyphens as underscores."""
    return re.sub(r"[\s\-]+", "_", clean_text(value).casefold())


def parse_choice(value: str, aliases: dict[str, str]) -> str:
    """One of a fixed set of values, by its English key or a known (e.g. Japanese) label."""
    found = aliases.get(choice_key(value))
    if found is None:
        allowed = ", ".join(sorted(set(aliases.values())))
        raise ValueError(
            _("unknown value {value} (expected one of: {allowed})", value=value, allowed=allowed)
        )
    return found


def web_domain(value: str) -> str | None:
    """The host of a web address or e-mail, without ``www.``: ``https://www.example.co.jp/x`` ->
    ``example.co.jp``. ``None`` when the text has no dot in it."""
    text = clean_text(value).lower()
    if "@" in text:
        text = text.rsplit("@", 1)[1]
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)
    text = text.split("/", 1)[0].split("?", 1)[0].split(":", 1)[0].strip(".")
    text = text.removeprefix("www.")
    return text if "." in text and " " not in text else None


def _gregorian_date(text: str) -> date | None:
    match = _GREGORIAN_DATE.match(text) or _COMPACT_DATE.match(text)
    if match is None:
        return None
    year, month, day = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _era_date(text: str) -> date | None:
    match = _ERA_DATE.match(text.replace(" ", ""))
    if match is None:
        return None
    era, year_text, month, day = match.groups()
    year = 1 if year_text == "元" else int(year_text)
    try:
        return date(_ERAS[era] + year - 1, int(month), int(day))
    except ValueError:
        return None


def _is_midnight(text: str) -> bool:
    match = _TIME.match(text.replace(" ", ""))
    return match is not None and all(int(g or 0) == 0 for g in match.groups()[:4])


def _offset(zone: str) -> timezone:
    if zone == "z":
        return UTC
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
