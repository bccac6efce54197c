"""``segments.yaml``: the rule set that puts every account in exactly one segment, and each
segment's touch model and tier.

The user's file is ``<config>/segments.yaml``; without one, the packaged
``default_segments.yaml`` applies (as scorecards and playbooks do). Every problem is one
``FILE:LINE: FIELD: reason`` line (:mod:`banso.yamlconfig`).

A rule matches an account when every condition it gives holds; the matching rule of the highest
priority decides the segment, and an account no rule matches gets ``default``. Two rules of the
same priority that lead to different segments must not **overlap**: there must be no account,
whatever its values, for which both hold. Each condition is a set of values on one field (a
range of integers for money and employees, a list for the rest), a field a rule does not name
allows every value (blank included), and the fields are independent of one another except MRR
and ARR (ARR = 12 × MRR, both converted to one range of MRR in minor units). So two rules
overlap exactly when, on every field, their sets intersect — which the check computes.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from banso.accounts.models import LIFECYCLE_STAGES, TOUCH_MODELS
from banso.config import get_settings
from banso.errors import ConfigRejected
from banso.yamlconfig import YamlModel, read_model

FILE_NAME = "segments.yaml"
DEFAULT_FILE = Path(__file__).parent / "default_segments.yaml"

RATINGS = (1, 2, 3, 4, 5)
"""The triage ratings (IT literacy, motivation) are whole numbers 1-5."""

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"


class SegmentsError(ConfigRejected):
    """``segments.yaml`` is invalid."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Range(_Strict):
    """``at_least <= value < below``; either bound may be left out."""

    at_least: Decimal | None = Field(default=None, ge=0)
    below: Decimal | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _bounds(self) -> Range:
        if self.at_least is None and self.below is None:
            raise ValueError("give at_least, below or both")
        if self.at_least is not None and self.below is not None and self.at_least >= self.below:
            raise ValueError("at_least must be below below: no value would match")
        return self


class Conditions(_Strict):
    """What a rule asks of an account; every condition given must hold. Money in major units of
    the reporting currency (MRR from ``banso.revenue.contracts``; ARR = 12 × MRR)."""

    mrr: Range | None = None
    arr: Range | None = None
    employees: Range | None = None
    industry: list[str] | None = Field(default=None, min_length=1)
    plan: list[str] | None = Field(default=None, min_length=1)
    lifecycle_stage: list[str] | None = Field(default=None, min_length=1)
    health_band: list[str] | None = Field(default=None, min_length=1)
    it_literacy: list[int] | None = Field(default=None, min_length=1)
    motivation: list[int] | None = Field(default=None, min_length=1)

    @field_validator("it_literacy", "motivation")
    @classmethod
    def _ratings(cls, value: list[int] | None) -> list[int] | None:
        for rating in value or []:
            if rating not in RATINGS:
                raise ValueError(f"a rating is a whole number from 1 to 5; got {rating}")
        return value

    @field_validator("lifecycle_stage")
    @classmethod
    def _stages(cls, value: list[str] | None) -> list[str] | None:
        for stage in value or []:
            if stage not in LIFECYCLE_STAGES:
                raise ValueError(
                    f"unknown lifecycle stage {stage!r} ({', '.join(LIFECYCLE_STAGES)})"
                )
        return value


class Segment(_Strict):
    """A segment: its words and what it means for how the account is served."""

    label: dict[str, str] = Field(default_factory=dict)
    """``{en: ..., ja: ...}``; default: the name."""
    touch_model: str
    tier: str | None = Field(default=None, max_length=32)

    @field_validator("touch_model")
    @classmethod
    def _touch(cls, value: str) -> str:
        if value not in TOUCH_MODELS:
            raise ValueError(f"unknown touch model {value!r} ({', '.join(TOUCH_MODELS)})")
        return value

    @field_validator("label")
    @classmethod
    def _languages(cls, value: dict[str, str]) -> dict[str, str]:
        for lang in value:
            if lang not in ("en", "ja"):
                raise ValueError(f"labels are given in en and ja; got {lang!r}")
        return value

    def title(self, name: str, lang: str) -> str:
        return self.label.get(lang) or self.label.get("en") or name


class Rule(_Strict):
    segment: str
    priority: int = Field(ge=0, le=1_000_000)
    when: Conditions


class SegmentsFile(_Strict):
    """The whole file: one rule set."""

    enabled: bool = True
    """False: ``banso run`` leaves segments, touch models and tiers as imported."""
    segments: dict[str, Segment] = Field(min_length=1)
    rules: list[Rule] = Field(default_factory=list)
    default: str
    """The segment of an account that no rule matches."""

    @field_validator("segments")
    @classmethod
    def _names(cls, value: dict[str, Segment]) -> dict[str, Segment]:
        for name in value:
            if not re.match(NAME_PATTERN, name) or len(name) > 100:
                raise ValueError(
                    f"segment name {name!r}: lower-case letters, digits, _ and -, at most 100"
                )
        return value


@dataclass(frozen=True)
class Bounds:
    """A condition as a set: ``low <= x < high`` on integers (None: unbounded), or a finite set
    of values (``values``)."""

    low: int | None = None
    high: int | None = None
    values: frozenset[Any] | None = None

    def intersects(self, other: Bounds) -> bool:
        if self.values is not None or other.values is not None:
            if self.values is None or other.values is None:
                return True  # a list against a range never happens: one field, one kind
            return bool(self.values & other.values)
        low = max((b for b in (self.low, other.low) if b is not None), default=None)
        high = min((b for b in (self.high, other.high) if b is not None), default=None)
        return low is None or high is None or low < high


@dataclass(frozen=True)
class CompiledRule:
    """A rule with its conditions as sets: money as MRR in minor units."""

    index: int
    segment: str
    priority: int
    fields: dict[str, Bounds]

    def overlaps(self, other: CompiledRule) -> bool:
        return all(
            self.fields[f].intersects(other.fields[f])
            for f in self.fields.keys() & other.fields.keys()
        )


@dataclass(frozen=True)
class RuleSet:
    """The validated rule set, ready to evaluate."""

    path: Path
    enabled: bool
    segments: dict[str, Segment]
    rules: list[CompiledRule]
    """Highest priority first (file order among equals)."""
    default: str
    minor_exponent: int

    def label(self, name: str, lang: str) -> str:
        segment = self.segments.get(name)
        return segment.title(name, lang) if segment else name


def segments_path() -> Path:
    """The user's ``segments.yaml`` when there is one, else the packaged default."""
    path = get_settings().config_path / FILE_NAME
    return path if path.is_file() else DEFAULT_FILE


def load_rule_set(
    path: Path | None = None, bands: set[str] | None = None, minor_exponent: int = 0
) -> RuleSet:
    """The validated rule set; a :class:`SegmentsError` listing every problem.

    ``bands``: the health band names of the scorecards (checked when given);
    ``minor_exponent``: decimals of the reporting currency (money bounds to minor units)."""
    loaded = read_model(path or segments_path(), SegmentsFile, SegmentsError, whole="(segments)")
    problems = [loaded.problem(loc, reason) for loc, reason in _references(loaded, bands)]
    compiled = [_compile(i, rule, minor_exponent) for i, rule in enumerate(loaded.model.rules)]
    for i, rule in enumerate(compiled):
        if _empty(rule):
            problems.append(
                loaded.problem(["rules", i, "when"], "mrr and arr leave no value: never true")
            )
    for a in compiled:
        for b in compiled[a.index + 1 :]:
            if a.priority == b.priority and a.segment != b.segment and a.overlaps(b):
                problems.append(
                    loaded.problem(
                        ["rules", b.index, "priority"],
                        f"overlaps rule {a.index + 1} ({a.segment}) of the same priority "
                        f"{a.priority}: an account can meet both; give them different "
                        "priorities or disjoint conditions",
                    )
                )
    if problems:
        raise SegmentsError(problems)
    model = loaded.model
    ordered = sorted(compiled, key=lambda r: (-r.priority, r.index))
    return RuleSet(
        loaded.path, model.enabled, dict(model.segments), ordered, model.default, minor_exponent
    )


def _references(
    loaded: YamlModel[SegmentsFile], bands: set[str] | None
) -> list[tuple[list[Any], str]]:
    model = loaded.model
    out: list[tuple[list[Any], str]] = []
    if model.default not in model.segments:
        out.append((["default"], f"unknown segment {model.default!r}"))
    for i, rule in enumerate(model.rules):
        if rule.segment not in model.segments:
            out.append((["rules", i, "segment"], f"unknown segment {rule.segment!r}"))
        for band in rule.when.health_band or []:
            if bands is not None and band not in bands:
                out.append((["rules", i, "when", "health_band"], f"unknown health band {band!r}"))
    return out


def _compile(index: int, rule: Rule, exponent: int) -> CompiledRule:
    when = rule.when
    fields: dict[str, Bounds] = {}
    money = [_money(when.mrr, exponent, 1), _money(when.arr, exponent, 12)]
    given = [m for m in money if m is not None]
    if given:
        low = max((b.low for b in given if b.low is not None), default=None)
        high = min((b.high for b in given if b.high is not None), default=None)
        fields["mrr"] = Bounds(low, high)
    if when.employees is not None:
        fields["employees"] = _integers(when.employees)
    for name in ("industry", "plan", "lifecycle_stage", "health_band", "it_literacy",
                 "motivation"):  # fmt: skip
        values = getattr(when, name)
        if values is not None:
            fields[name] = Bounds(values=frozenset(values))
    return CompiledRule(index, rule.segment, rule.priority, fields)


def _money(bounds: Range | None, exponent: int, months: int) -> Bounds | None:
    """Major units of MRR x ``months`` as MRR minor units: MRR is a whole number of minor
    units, so ``12 x mrr >= a`` is ``mrr >= ceil(a / 12)`` and ``< b`` is ``< ceil(b / 12)``."""
    if bounds is None:
        return None

    def minor(value: Decimal | None) -> int | None:
        return None if value is None else math.ceil(value * Decimal(10) ** exponent / months)

    return Bounds(minor(bounds.at_least), minor(bounds.below))


def _integers(bounds: Range) -> Bounds:
    return Bounds(
        None if bounds.at_least is None else math.ceil(bounds.at_least),
        None if bounds.below is None else math.ceil(bounds.below),
    )


def _empty(rule: CompiledRule) -> bool:
    for name in ("mrr", "employees"):
        b = rule.fields.get(name)
        if b is not None and b.low is not None and b.high is not None and b.low >= b.high:
            return True
    return False
