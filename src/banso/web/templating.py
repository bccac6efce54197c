"""Jinja2 templates of every domain, with ``_`` translating into the request's language."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel.numbers import format_currency, get_currency_precision
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from banso.config import get_settings
from banso.i18n import current_language, ngettext, npgettext, number, percent, pgettext, translate
from banso.labels import label
from banso.web.auth import csrf_token

_PACKAGE = Path(__file__).resolve().parents[1]
TEMPLATE_DIRS = sorted(_PACKAGE.glob("*/templates"))
"""Every package's ``templates/`` folder: its pages' templates stand beside its routes. Names are
unique across the folders (a test checks), so which folder holds a template never matters."""

NAV = (
    ("/dashboard", "Dashboard"),
    ("/book", "My book"),
    ("/accounts", "Accounts"),
    ("/segments", "Segments"),
    ("/tasks", "My tasks"),
    ("/renewals", "Renewals"),
    ("/expansion", "Expansion"),
    ("/feedback", "Feedback"),
    ("/onboarding", "Onboarding"),
    ("/campaigns", "Campaigns"),
    ("/surveys", "Surveys"),
    ("/programs", "Programmes"),
    ("/metrics", "Metrics"),
    ("/health", "Health"),
    ("/team", "Team"),
    ("/data", "Data"),
)
"""Top navigation: (path, English label); the label is translated when rendered. ``/`` is the
home page: a CSM's book, everyone else's dashboard (base.html marks the matching link)."""

_env = Environment(
    loader=ChoiceLoader([FileSystemLoader(str(d)) for d in TEMPLATE_DIRS]),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
templates = Jinja2Templates(env=_env)


def money(minor_units: int | None, currency: str | None = None) -> str:
    """An amount in minor units as the user reads it: ``¥1,234,000`` / ``USD 12.50``."""
    if minor_units is None:
        return "—"
    currency = currency or get_settings().reporting_currency
    major = Decimal(minor_units).scaleb(-get_currency_precision(currency))
    return format_currency(major, currency, locale=current_language())


def local_time(value: datetime | date | None) -> str:
    """A timestamp in the company time zone (``2026-04-01 09:30``), a date as ISO."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(get_settings().tz).strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


# jinja2.ext.i18n with Banso's own callables (old style: they format ``{name}`` arguments
# themselves, as in Python code): ``_``/``gettext``, ``ngettext``, ``pgettext``, ``npgettext``.
_env.install_gettext_callables(  # type: ignore[attr-defined]
    translate, ngettext, newstyle=False, pgettext=pgettext, npgettext=npgettext
)
_env.globals["_"] = translate
_env.filters["label"] = label
_env.filters["number"] = number
_env.filters["percent"] = percent
_env.filters["money"] = money
_env.filters["local_time"] = local_time


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """Render ``name`` with the signed-in user, the CSRF token, language and navigation."""
    values: dict[str, Any] = {
        "user": getattr(request.state, "user", None),
        "csrf_token": csrf_token(request),
        "lang": current_language(),
        "nav": NAV,
        "path": request.url.path,
    }
    values.update(context or {})
    return templates.TemplateResponse(request, name, values, status_code=status_code)
