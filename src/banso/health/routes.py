"""The Health page (band distribution, its weekly trend, accounts at risk, band changes, the
stored validation report, the scorecards as read-only YAML). The figures of the book come from
``health.overview`` (which the dashboard shows too); the validation report from the file
``banso health validate`` and ``banso run`` store (never computed in a request)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from banso.config import get_settings
from banso.health import snapshots, validation_report
from banso.health.measures import measure_label
from banso.health.overview import health_overview
from banso.health.scorecard import (
    DEFAULT_SCORECARD,
    MeasureRule,
    Scorecard,
    ScorecardError,
    load_scorecard_file,
    scorecard_files,
    shared_name_problems,
)
from banso.i18n import _, current_language
from banso.labels import label
from banso.users.models import User
from banso.web.auth import current_user, db_session
from banso.web.templating import render

health_pages = APIRouter(include_in_schema=False)


@health_pages.get("/health")
def health_page(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    session: Annotated[Session, Depends(db_session, scope="function")],
) -> Response:
    return render(request, "health.html", health_page_context(session))


def health_page_context(session: Session) -> dict[str, Any]:
    """What the Health page shows; the validation report is read from its file, never computed."""
    cards = scorecard_views()
    report, report_problem = _stored_report()
    return {
        "overview": health_overview(session),
        "scorecards": cards,
        "scorecard_problems": shared_name_problems([v.card for v in cards if v.card]),
        "config_folder": get_settings().config_path / "scorecards",
        "validation": validation_view(report, cards) if report else None,
        "validation_problem": report_problem,
        "incomplete_days": snapshots.incomplete_days(),
    }


@dataclass(frozen=True)
class MeasureRow:
    group: str
    group_label: str
    group_share: float
    """The group's share of the score, 0-1."""
    measure: str
    label: str
    weight: float
    """The weight as written in the YAML."""
    share_in_group: float
    share_of_score: float
    """Nominal share of the score when every measure has data, 0-1."""
    rule: str


@dataclass(frozen=True)
class ScorecardView:
    """One scorecard file: its YAML as written and, when it loads, what it says."""

    path: Path
    source: str
    card: Scorecard | None
    problems: list[str]
    """``FILE:LINE: FIELD: reason`` lines, as ``banso health check-config`` prints them."""
    rows: list[MeasureRow]
    segment_rule: list[tuple[str, list[str]]]
    bands: list[tuple[str, int, int]]
    """(label, min, max) from lowest to highest."""

    @property
    def packaged_default(self) -> bool:
        return self.path == DEFAULT_SCORECARD


def scorecard_views() -> list[ScorecardView]:
    """Every scorecard file in use, each with its source; a broken one with its problems."""
    views = []
    for path in scorecard_files(get_settings().config_path):
        source = path.read_text(encoding="utf-8")
        try:
            card = load_scorecard_file(path)
        except ScorecardError as exc:
            views.append(ScorecardView(path, source, None, exc.problems, [], [], []))
            continue
        views.append(
            ScorecardView(
                path, source, card, [], _measure_rows(card), _segment_rule(card), _bands(card)
            )
        )
    return sorted(views, key=lambda v: (v.card is not None, v.card.priority if v.card else 0))


SEGMENT_FIELDS = (
    ("segment", "Segment"),
    ("touch_model", "Touch model"),
    ("plan", "Plan"),
    ("tier", "Tier"),
    ("industry", "Industry"),
)
"""Fields of a scorecard's ``applies_to``, with their English names for people."""


_LABELLED_FIELDS = {"segment", "touch_model", "tier"}
"""``applies_to`` fields whose values are codes with labels (plan and industry are free text)."""


def _segment_rule(card: Scorecard) -> list[tuple[str, list[str]]]:
    rule = card.applies_to
    return [
        (_(name), [label(v, f) if f in _LABELLED_FIELDS else v for v in getattr(rule, f)])
        for f, name in SEGMENT_FIELDS
        if getattr(rule, f)
    ]


def _bands(card: Scorecard) -> list[tuple[str, int, int]]:
    return [(_localised(b.label, _band_name(b.name)), b.min, b.max) for b in card.bands]


def _measure_rows(card: Scorecard) -> list[MeasureRow]:
    rows = []
    for name, group in card.groups.items():
        for measure, rule in group.measures.items():
            within = card.measure_share(name, measure)
            rows.append(
                MeasureRow(
                    name,
                    _localised(group.label, name),
                    card.group_share(name),
                    measure,
                    measure_label(measure),
                    rule.weight,
                    within,
                    card.group_share(name) * within,
                    scoring_rule(rule),
                )
            )
    return rows


def scoring_rule(rule: MeasureRule) -> str:
    """The rule in words: ``linear: 2 → 0, 20 → 100 …`` or ``≤ 3 → 100; otherwise → 0``."""
    if rule.linear is not None:
        points = ", ".join(f"{_num(x)} → {_num(s)}" for x, s in rule.linear)
        return _("linear {points} (value → score; flat beyond the ends)", points=points)
    parts = []
    for t in rule.thresholds or []:
        if t.min is not None and t.max is not None:
            when = f"{_num(t.min)}–{_num(t.max)}"
        elif t.min is not None:
            when = f"≥ {_num(t.min)}"
        elif t.max is not None:
            when = f"≤ {_num(t.max)}"
        else:
            when = _("otherwise")
        parts.append(f"{when} → {_num(t.score)}")
    return _("first that holds: {rules}", rules="; ".join(parts))


def _num(value: float) -> str:
    return f"{value:g}"


def _localised(labels: dict[str, str], fallback: str) -> str:
    return labels.get(current_language()) or fallback


def _band_name(band: str) -> str:
    return label(band, "health_band")


@dataclass(frozen=True)
class ValidationView:
    stored: validation_report.StoredReport
    bands: list[dict[str, Any]]
    """The report's bands, each with ``label`` in the reader's language."""
    measures: list[dict[str, Any]]
    """Per measure ``measure``, ``label``, ``auc``, ``observations``; best AUC first."""
    red_label: str
    green_label: str
    chart: dict[str, Any]
    """What ``static/health.js`` draws."""


def validation_view(
    stored: validation_report.StoredReport, cards: list[ScorecardView]
) -> ValidationView:
    report = stored.report
    card = next((v.card for v in cards if v.card and v.card.name == stored.scorecard), None)
    labels = {b.name: _localised(b.label, _band_name(b.name)) for b in card.bands} if card else {}
    bands = [{**b, "label": labels.get(b["band"], _band_name(b["band"]))} for b in report["bands"]]
    measures = sorted(
        ({**m, "label": measure_label(m["measure"])} for m in report["measures"]),
        key=lambda m: (m["auc"] is None, -(m["auc"] or 0.0)),
    )
    rates = (
        ("churn_rate", _("Churn")),
        ("renewal_rate", _("Renewal")),
        ("contraction_rate", _("Contraction")),
        ("expansion_rate", _("Expansion")),
    )
    chart = {
        "bands": {
            "title": _("Outcomes {h} days later, by band", h=stored.horizon_days),
            "labels": [b["label"] for b in bands],
            "series": [{"name": name, "data": [b[key] for b in bands]} for key, name in rates],
        },
        "measures": {
            "title": _("ROC AUC of each measure against churn"),
            "labels": [m["label"] for m in measures],
            "values": [m["auc"] for m in measures],
        },
    }
    red = labels.get(report["red_band"], _band_name(report["red_band"]))
    green = labels.get(report["green_band"], _band_name(report["green_band"]))
    return ValidationView(stored, bands, measures, red, green, chart)


def _stored_report() -> tuple[validation_report.StoredReport | None, str | None]:
    """The stored report, or why it cannot be shown (a file this version cannot read)."""
    try:
        return validation_report.latest(), None
    except validation_report.StoredReportUnreadable as exc:
        return None, str(exc)
