"""Messages, numbers and percentages in Japanese and English.

English text is the message id (gettext style); Japanese lives in the Babel catalogue
``locales/ja/LC_MESSAGES/messages.po``, compiled by Babel into a gettext catalogue when first
used. ``_("...")`` translates into the current language, ``ngettext`` picks the plural form,
``pgettext`` tells apart one English word used in two meanings (a message context). ``format``
arguments are applied after translation; plural messages get the count as ``{n}``, already
formatted with the language's digit grouping.

Numbers and percentages go through :func:`number` and :func:`percent` only, so one kind of figure
reads the same on every page and in every command.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from functools import lru_cache
from gettext import NullTranslations
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import Translations

LANGUAGES = ("en", "ja")
_LOCALES = Path(__file__).parent / "locales"
_current: ContextVar[str | None] = ContextVar("banso_lang", default=None)


def system_language() -> str:
    """BANSO_LANG, else the POSIX locale variables; Japanese if any says ``ja``."""
    for var in ("BANSO_LANG", "LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = os.environ.get(var, "")
        if value:
            return "ja" if value.lower().startswith("ja") else "en"
    return "en"


def current_language() -> str:
    return _current.get() or system_language()


def set_language(lang: str | None) -> None:
    _current.set(lang if lang in LANGUAGES else None)


def _po_path(lang: str) -> Path:
    return _LOCALES / lang / "LC_MESSAGES" / "messages.po"


@lru_cache(maxsize=4)
def translations(lang: str) -> NullTranslations:
    """The compiled gettext catalogue of ``lang`` (English: the message ids themselves)."""
    path = _po_path(lang)
    if lang == "en" or not path.exists():
        return NullTranslations()
    with path.open("rb") as fh:
        cat = read_po(fh, locale=lang)
    compiled = BytesIO()
    write_mo(compiled, cat, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled)


@lru_cache(maxsize=4)
def catalogue(lang: str) -> dict[str, str]:
    """Singular messages without context: English id -> translation (for checks and tests)."""
    path = _po_path(lang)
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        cat = read_po(fh, locale=lang)
    return {
        str(m.id): str(m.string)
        for m in cat
        if m.id and isinstance(m.id, str) and m.string and not m.context
    }


def _apply(text: str, kwargs: dict[str, object]) -> str:
    return text.format(**kwargs) if kwargs else text


def translate_to(lang: str, msgid: str, /, **kwargs: object) -> str:
    """``msgid`` (English) in ``lang``, with ``kwargs`` formatted in."""
    return _apply(translations(lang).gettext(msgid), kwargs)


def ngettext(singular: str, plural: str, n: int, /, **kwargs: object) -> str:
    """The plural form for ``n`` in the current language; ``{n}`` is ``n`` with digit grouping."""
    text = translations(current_language()).ngettext(singular, plural, n)
    return _apply(text, {"n": number(n), **kwargs})


def pgettext(context: str, msgid: str, /, **kwargs: object) -> str:
    """``msgid`` in the meaning ``context`` (e.g. a lifecycle stage, not a report heading)."""
    return _apply(translations(current_language()).pgettext(context, msgid), kwargs)


def npgettext(context: str, singular: str, plural: str, n: int, /, **kwargs: object) -> str:
    """:func:`ngettext` with a message context."""
    text = translations(current_language()).npgettext(context, singular, plural, n)
    return _apply(text, {"n": number(n), **kwargs})


def number(value: int | float | Decimal | None, digits: int | None = None) -> str:
    """A count or measure with the language's digit grouping: ``124,649``; ``digits`` fixes the
    decimals (``1.5`` with 1); without it, integers have none and other values up to 2."""
    if value is None:
        return "—"
    if digits is None:
        pattern = "#,##0" if isinstance(value, int) or float(value).is_integer() else "#,##0.##"
    else:
        pattern = "#,##0." + "0" * digits if digits > 0 else "#,##0"
    return format_decimal(value, pattern, locale=current_language())


def percent(
    fraction: int | float | Decimal | None, digits: int = 1, *, signed: bool = False
) -> str:
    """A rate (0.123) as the language writes a percentage: ``12.3%``; one decimal everywhere
    unless a page needs a finer figure (revenue reports use 2). ``signed``: a difference of
    rates, ``+1.5%`` / ``-0.3%``."""
    if fraction is None:
        return "—"
    pattern = "#,##0." + "0" * digits + "%" if digits > 0 else "#,##0%"
    if signed:
        pattern = f"+{pattern};-{pattern}"
    return format_percent(fraction, pattern, locale=current_language())


def translate(msgid: str, /, **kwargs: object) -> str:
    """``msgid`` in the current language."""
    return translate_to(current_language(), msgid, **kwargs)


_ = translate


@contextmanager
def using_language(lang: str | None) -> Iterator[None]:
    """Messages in ``lang`` inside the block (one web request), whatever the system says."""
    token = _current.set(lang if lang in LANGUAGES else None)
    try:
        yield
    finally:
        _current.reset(token)


def accept_language_match(header: str | None) -> str | None:
    """The first language of an HTTP ``Accept-Language`` header that Banso speaks, by q-value."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else None
