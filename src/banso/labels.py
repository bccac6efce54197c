"""Codes shown as words: every stored code (a lifecycle stage, a contact role, a priority...)
reaches a page or a command through :func:`label`, in the reader's language.

Each domain registers the labels of its own codes beside the codes (``register``); the English
label is the message id and the kind is its message context, so "Expansion" the lifecycle stage
and "Expansion" a report heading are two entries in the catalogue, each translated on its own.
"""

from __future__ import annotations

from collections.abc import Mapping

from banso.i18n import pgettext

_REGISTRY: dict[str, dict[str, str]] = {}


def register(kind: str, labels: Mapping[str, str]) -> None:
    """Declare the English labels of the codes of ``kind`` (called once per module, on import)."""
    known = _REGISTRY.setdefault(kind, {})
    for code, text in labels.items():
        if known.get(code, text) != text:
            raise ValueError(f"label {kind}:{code} declared twice as {known[code]!r} and {text!r}")
        known[code] = text


def registry() -> dict[str, dict[str, str]]:
    """Every registered kind -> code -> English label (a copy, for checks)."""
    return {kind: dict(codes) for kind, codes in _REGISTRY.items()}


def label(code: object, kind: str) -> str:
    """``code`` of ``kind`` in the current language; an unknown code is shown as it is stored
    (an imported value Banso has no word for), ``None`` as a dash."""
    if code is None or code == "":
        return "—"
    text = _REGISTRY.get(kind, {}).get(str(code))
    return pgettext(kind, text) if text is not None else str(code)
