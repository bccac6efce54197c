"""The Segments page's and API's read model: the rule set with each segment's accounts and
MRR on the newest evaluated day, and one segment's members."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from banso.i18n import current_language
from banso.segments import service
from banso.segments.config import CompiledRule, RuleSet, SegmentsError


@dataclass
class SegmentRow:
    segment: str
    label: str
    touch_model: str
    tier: str | None
    default: bool
    rules: list[dict[str, Any]]
    accounts: int | None
    mrr: int | None
    """Σ MRR of the members, minor units of the reporting currency (None: not evaluated)."""


@dataclass
class SegmentsOverview:
    path: str
    day: date | None
    rows: list[SegmentRow]
    problems: list[str]
    """The rule file's problems (``FILE:LINE: FIELD: reason``); empty when it is valid."""


def overview(session: Session) -> SegmentsOverview:
    try:
        rules = service.rule_set()
    except SegmentsError as exc:
        return SegmentsOverview("", service.latest_day(session), [], exc.problems)
    counted = service.counts_on(session)
    counts = {c.segment: c for c in counted[1]} if counted else {}
    lang = current_language()
    rows = []
    for name, segment in rules.segments.items():
        found = counts.get(name)
        rows.append(
            SegmentRow(
                segment=name,
                label=rules.label(name, lang),
                touch_model=segment.touch_model,
                tier=segment.tier,
                default=name == rules.default,
                rules=[rule_dict(r, rules) for r in rules.rules if r.segment == name],
                accounts=found.accounts if found else (0 if counted else None),
                mrr=found.mrr if found else (0 if counted else None),
            )
        )
    return SegmentsOverview(str(rules.path), counted[0] if counted else None, rows, [])


def rule_dict(rule: CompiledRule, rules: RuleSet) -> dict[str, Any]:
    """A rule's conditions: lists as lists, ranges as ``{at_least, below}`` (money as MRR in
    major units of the reporting currency, ARR folded into it)."""
    when: dict[str, Any] = {}
    for name, bounds in rule.fields.items():
        if bounds.values is not None:
            when[name] = sorted(bounds.values)
            continue
        scale = 10**rules.minor_exponent if name == "mrr" else 1
        when[name] = {
            key: (value if scale == 1 else value / scale)
            for key, value in (("at_least", bounds.low), ("below", bounds.high))
            if value is not None
        }
    return {"priority": rule.priority, "when": when}
