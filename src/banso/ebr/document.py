"""The review as a document in the reader's language: titled sections of sentences, a table
and a chart, built once from a :class:`~banso.ebr.report.Review` and laid out by each format
(``render.py``: HTML, PDF, PPTX), so the three say the same thing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction

from babel.numbers import format_currency, get_currency_precision

from banso.ebr import charts
from banso.ebr.report import Review
from banso.i18n import _, current_language, number, percent, using_language
from banso.labels import label


@dataclass
class Section:
    key: str
    """Stable name of the section (tests, CSS): objectives, usage, health, value, support,
    surveys, outlook, next_steps."""
    heading: str
    lines: list[str] = field(default_factory=list)
    table: tuple[list[str], list[list[str]]] | None = None
    chart: bytes | None = None
    """A PNG (``charts.line_chart``)."""
    no_data: str | None = None
    """Said instead of a chart or table when the period has no data for this section."""


@dataclass
class Document:
    lang: str
    title: str
    subtitle: str
    sections: list[Section]


def build_document(review: Review, lang: str, *, generated_on: date) -> Document:
    """The review's text and charts in ``lang`` (ja or en)."""
    with using_language(lang):
        owner = review.owner or _("no owner")
        return Document(
            lang=lang,
            title=_("Business review: {account}", account=review.account_name),
            subtitle=_(
                "{period} ({first} – {last}) · CSM: {owner} · generated {day}",
                period=review.period.label,
                first=review.period.first_day.isoformat(),
                last=review.period.last_day.isoformat(),
                owner=owner,
                day=generated_on.isoformat(),
            ),
            sections=[
                _objectives(review),
                _usage(review),
                _health(review),
                _value(review),
                _support(review),
                _surveys(review),
                _outlook(review),
                _next_steps(review),
            ],
        )


def money(minor_units: int | None, currency: str) -> str:
    """Minor units as the reader reads them (``¥1,234,000``); — when unknown."""
    if minor_units is None:
        return "—"
    major = Decimal(minor_units).scaleb(-get_currency_precision(currency))
    return format_currency(major, currency, locale=current_language())


def _fraction(value: Fraction | None, digits: int = 1) -> str:
    return "—" if value is None else number(float(value), digits)


def _objectives(review: Review) -> Section:
    section = Section("objectives", _("Objectives and progress"))
    if not review.objectives:
        section.no_data = _("No success plan has been recorded for this account.")
        return section
    section.table = (
        [_("Objective"), _("Baseline"), _("Target"), _("Current"), _("Progress"), _("Status")],
        [
            [
                o.title,
                number(o.baseline),
                number(o.target),
                "—" if o.current is None else number(o.current),
                "—" if o.progress is None else percent(o.progress),
                label(o.status, "objective_status"),
            ]
            for o in review.objectives
        ],
    )
    return section


def _usage(review: Review) -> Section:
    section = Section("usage", _("Usage and adoption"))
    if not review.has_usage:
        section.no_data = _("No usage data for this period.")
        return section
    weeks = review.usage_weeks
    section.lines = [
        _(
            "{events} events in the period; up to {users} active users on one day.",
            events=number(sum(w.events for w in weeks)),
            users=number(max(w.peak_active_users for w in weeks)),
        )
    ]
    section.chart = charts.line_chart(
        _("Events per week"),
        [(w.start, float(w.events)) for w in weeks],
        y_label=_("Events"),
        bars=True,
    )
    return section


def _health(review: Review) -> Section:
    section = Section("health", _("Health score"))
    if len(review.health) < 2:
        section.no_data = _("No health scores for this period.")
        return section
    first, last = review.health[0][1], review.health[-1][1]
    section.lines = [
        _("From {first} to {last} over the period.", first=number(first, 1), last=number(last, 1))
    ]
    section.chart = charts.line_chart(
        _("Health score"), review.health, y_label=_("Score"), color=charts.GREEN
    )
    return section


def _value(review: Review) -> Section:
    section = Section("value", _("Value delivered"))
    delivered = review.value_delivered
    if not delivered:
        section.no_data = _("No objective has moved from its baseline yet.")
        return section
    section.lines = [
        _(
            "{title}: from {baseline} to {current} (target {target}).",
            title=o.title,
            baseline=number(o.baseline),
            current=number(o.current),
            target=number(o.target),
        )
        for o in delivered
    ]
    return section


def _support(review: Review) -> Section:
    section = Section("support", _("Support summary"))
    s = review.support
    if not (s.opened or s.closed or s.open_at_end):
        section.no_data = _("No support tickets in this period.")
        return section
    section.table = (
        [_("Opened"), label("closed", "ticket_status"), _("Urgent or high"),
         _("Open at the end"), _("Ticket CSAT")],
        [[number(s.opened), number(s.closed), number(s.urgent_or_high), number(s.open_at_end),
          _fraction(s.average_csat)]],
    )  # fmt: skip
    return section


def _surveys(review: Review) -> Section:
    section = Section("surveys", _("NPS and CSAT"))
    s = review.surveys
    if not (s.nps_responses or s.csat_responses):
        section.no_data = _("No survey responses in this period.")
        return section
    section.table = (
        [label("nps", "survey_type"), _("NPS responses"), _("CSAT (1-5)"), _("CSAT responses")],
        [[_fraction(s.nps, 0), number(s.nps_responses), _fraction(s.average_csat),
          number(s.csat_responses)]],
    )  # fmt: skip
    return section


def _outlook(review: Review) -> Section:
    section = Section("outlook", _("Renewal and expansion outlook"))
    o = review.outlook
    section.lines = [
        _("MRR at the period's end: {mrr}.", mrr=money(o.mrr_end, review.currency)),
        _("Next renewal: {day}.", day=o.next_renewal.isoformat())
        if o.next_renewal
        else _("No renewal is due: no active term contract."),
    ]
    for opp in o.open_opportunities:
        expected = opp["expected_mrr"]
        section.lines.append(
            _(
                "Open opportunity ({kind}, {stage}): {mrr} MRR expected.",
                kind=label(opp["kind"], "opportunity_kind"),
                stage=label(opp["stage"], "opportunity_stage"),
                mrr=money(expected if isinstance(expected, int) else None, review.currency),
            )
        )
    if review.has_mrr:
        section.chart = charts.line_chart(
            _("MRR at each month's end"),
            [(d, float(m or 0)) for d, m in review.mrr_months],
            y_label=review.currency,
            bars=True,
        )
    else:
        section.no_data = _("No MRR in the twelve months up to this period's end.")
    return section


def _next_steps(review: Review) -> Section:
    section = Section("next_steps", _("Next steps"))
    if not review.next_steps:
        section.no_data = _("No open CTAs or objectives.")
        return section
    section.table = (
        [_("Step"), _("Kind"), _("Due")],
        [
            [
                s.title,
                _("CTA") if s.kind == "cta" else _("Objective"),
                s.due_date.isoformat() if s.due_date else "—",
            ]
            for s in review.next_steps
        ],
    )
    return section
