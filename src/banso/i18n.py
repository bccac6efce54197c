"""Messages in Japanese and English.

English text is the message id (gettext style); Japanese lives in the Babel catalogue
``locales/ja/LC_MESSAGES/messages.po``. ``_("...")`` translates into the current language,
``format`` arguments are applied after translation.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po

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


@lru_cache(maxsize=4)
def catalogue(lang: str) -> dict[str, str]:
    path = _LOCALES / lang / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        cat = read_po(fh, locale=lang)
    return {str(m.id): str(m.string) for m in cat if m.id and m.string}


def translate_to(lang: str, msgid: str, /, **kwargs: object) -> str:
    """``msgid`` (English) in ``lang``, with ``kwargs`` formatted in."""
    text = catalogue(lang).get(msgid, msgid) if lang != "en" else msgid
    return text.format(**kwargs) if kwargs else text


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
