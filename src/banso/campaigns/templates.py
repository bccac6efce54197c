"""Campaign email templates: Jinja2 in a sandbox (a template is typed by a user on the web
page), undefined names are errors, and only the variables below may be used."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import jinja2
import jinja2.meta
from jinja2.sandbox import SandboxedEnvironment

from banso.errors import BansoError
from banso.i18n import _

if TYPE_CHECKING:
    from banso.campaigns.models import Campaign

TEMPLATE_VARIABLES = frozenset({"contact", "account", "campaign", "unsubscribe_url"})
"""``contact.name``/``.email``, ``account.id``/``.name``, ``campaign.name``, ``unsubscribe_url``."""

_ENV = SandboxedEnvironment(
    autoescape=False, undefined=jinja2.StrictUndefined, keep_trailing_newline=True
)


class TemplateRejected(BansoError):
    """A template failed while rendering (e.g. an attribute the contact does not have)."""


def check_template(source: str) -> str | None:
    """Why ``source`` cannot be a campaign template, or None."""
    if not source.strip():
        return _("must not be empty")
    try:
        parsed = _ENV.parse(source)
    except jinja2.TemplateSyntaxError as exc:
        return _(
            "template syntax error on line {line}: {message}",
            line=exc.lineno,
            message=exc.message or "",
        )
    unknown = sorted(jinja2.meta.find_undeclared_variables(parsed) - TEMPLATE_VARIABLES)
    if unknown:
        return _(
            "unknown variables {names}; use {known}",
            names=", ".join(unknown),
            known=", ".join(sorted(TEMPLATE_VARIABLES)),
        )
    return None


def render_email(campaign: Campaign, language: str, variables: dict[str, Any]) -> tuple[str, str]:
    """``(subject, body)`` of ``campaign`` in ``language`` (``ja`` or ``en``)."""
    subject = campaign.subject_ja if language == "ja" else campaign.subject_en
    body = campaign.body_ja if language == "ja" else campaign.body_en
    try:
        return (
            _ENV.from_string(subject).render(**variables).strip(),
            _ENV.from_string(body).render(**variables),
        )
    except jinja2.TemplateError as exc:
        raise TemplateRejected(
            _(
                "Campaign {name}: the template could not be rendered: {reason}",
                name=campaign.name,
                reason=str(exc),
            )
        ) from exc
