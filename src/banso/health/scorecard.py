"""Scorecards: YAML files that say how raw measures become a 0-100 health score.

A scorecard has bands, groups (categories) with weights, and in each group measures with a
weight and a scoring rule: ``linear`` points (interpolated, clamped at both ends) or
``thresholds`` (the first rule whose ``min``/``max`` bounds hold, both inclusive). Files live in
``<config>/scorecards/*.yaml``; when there are none, the packaged default applies.

Errors name the file, the line and the field (``ScorecardError``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from banso.errors import ConfigRejected
from banso.health.measures import MEASURES
from banso.i18n import _
from banso.labels import register
from banso.yamlconfig import read_model

DEFAULT_SCORECARD = Path(__file__).parent / "default_scorecard.yaml"


class ScorecardError(ConfigRejected):
    """A scorecard file is invalid."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Threshold(_Strict):
    min: float | None = None
    max: float | None = None
    score: float = Field(ge=0, le=100)

    def holds(self, value: float) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)


class MeasureRule(_Strict):
    weight: float = Field(default=1.0, ge=0)
    linear: list[tuple[float, float]] | None = None
    thresholds: list[Threshold] | None = None

    @model_validator(mode="after")
    def _one_rule(self) -> MeasureRule:
        if (self.linear is None) == (self.thresholds is None):
            raise ValueError("give exactly one of linear or thresholds")
        if self.linear is not None:
            if len(self.linear) < 2:
                raise ValueError("linear needs at least two points [value, score]")
            xs = [x for x, _ in self.linear]
            if xs != sorted(xs) or len(set(xs)) != len(xs):
                raise ValueError("linear points must have strictly increasing values")
            if any(not 0 <= s <= 100 for _, s in self.linear):
                raise ValueError("linear scores must be between 0 and 100")
        if self.thresholds is not None and not self.thresholds:
            raise ValueError("thresholds must not be empty")
        return self

    def score(self, value: float) -> float | None:
        """0-100 for ``value``; None when no threshold holds."""
        if self.linear is not None:
            points = self.linear
            if value <= points[0][0]:
                return points[0][1]
            for (x0, s0), (x1, s1) in zip(points, points[1:], strict=False):
                if value <= x1:
                    return s0 + (s1 - s0) * (value - x0) / (x1 - x0)
            return points[-1][1]
        for rule in self.thresholds or []:
            if rule.holds(value):
                return rule.score
        return None


def _known_measure(name: str) -> str:
    if name not in MEASURES:
        raise ValueError(f"unknown measure {name!r}")
    return name


MeasureName = Annotated[str, AfterValidator(_known_measure)]


class Group(_Strict):
    weight: float = Field(default=1.0, ge=0)
    label: dict[str, str] = Field(default_factory=dict)
    measures: dict[MeasureName, MeasureRule]

    @field_validator("measures")
    @classmethod
    def _weights(cls, measures: dict[str, MeasureRule]) -> dict[str, MeasureRule]:
        if not measures:
            raise ValueError("a group needs at least one measure")
        if sum(r.weight for r in measures.values()) <= 0:
            raise ValueError("measure weights in a group must not all be zero")
        return measures


class Band(_Strict):
    name: str
    min: int = Field(ge=0, le=100)
    max: int = Field(ge=0, le=100)
    label: dict[str, str] = Field(default_factory=dict)


class AppliesTo(_Strict):
    """Segment rule: an account matches when every given list contains its value."""

    segment: list[str] | None = None
    touch_model: list[str] | None = None
    plan: list[str] | None = None
    tier: list[str] | None = None
    industry: list[str] | None = None

    def matches(self, account: dict[str, Any]) -> bool:
        for field in ("segment", "touch_model", "plan", "tier", "industry"):
            allowed = getattr(self, field)
            if allowed is not None and account.get(field) not in allowed:
                return False
        return True


register("health_band", {"green": "Healthy", "yellow": "Caution", "red": "At risk"})
"""The bands' words where a page shows the band itself (a scorecard may name its bands
otherwise; the bands are always green, yellow and red)."""
register("health_trend", {"up": "Rising", "down": "Falling", "flat": "Steady"})

DEFAULT_BANDS = (
    Band(name="red", min=0, max=49, label={"en": "At risk", "ja": "危険"}),
    Band(name="yellow", min=50, max=74, label={"en": "Caution", "ja": "注意"}),
    Band(name="green", min=75, max=100, label={"en": "Healthy", "ja": "良好"}),
)


class Scorecard(_Strict):
    name: str
    label: dict[str, str] = Field(default_factory=dict)
    priority: int = 100
    applies_to: AppliesTo = Field(default_factory=AppliesTo)
    bands: list[Band] = Field(default_factory=lambda: list(DEFAULT_BANDS))
    groups: dict[str, Group]

    @field_validator("groups")
    @classmethod
    def _groups(cls, groups: dict[str, Group]) -> dict[str, Group]:
        if not groups:
            raise ValueError("a scorecard needs at least one group")
        if sum(g.weight for g in groups.values()) <= 0:
            raise ValueError("group weights must not all be zero")
        return groups

    @field_validator("bands")
    @classmethod
    def _bands(cls, bands: list[Band]) -> list[Band]:
        ordered = sorted(bands, key=lambda b: b.min)
        if not ordered or ordered[0].min != 0 or ordered[-1].max != 100:
            raise ValueError("bands must cover 0 to 100")
        for band in ordered:
            if band.min > band.max:
                raise ValueError(f"band {band.name!r} has min above max")
        for a, b in zip(ordered, ordered[1:], strict=False):
            if b.min <= a.max:
                raise ValueError(f"bands {a.name!r} and {b.name!r} overlap")
            if b.min != a.max + 1:
                raise ValueError(f"a gap between bands {a.name!r} and {b.name!r}")
        return ordered

    @model_validator(mode="after")
    def _measures_once(self) -> Scorecard:
        names = self.measure_names
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"measure {repeated[0]!r} appears in more than one group")
        return self

    def band(self, score: float) -> str:
        """The band of ``score``, rounded half up to a whole number first (49.5 -> 50)."""
        whole = int(score + 0.5)
        for b in self.bands:
            if b.min <= whole <= b.max:
                return b.name
        raise ValueError(f"score {score} outside every band")

    @property
    def measure_names(self) -> list[str]:
        return [m for g in self.groups.values() for m in g.measures]

    def group_share(self, group: str) -> float:
        """The group's weight over the sum of all group weights (its share of the score)."""
        return self.groups[group].weight / sum(g.weight for g in self.groups.values())

    def measure_share(self, group: str, measure: str) -> float:
        """The measure's weight over the sum of its group's measure weights."""
        measures = self.groups[group].measures
        return measures[measure].weight / sum(r.weight for r in measures.values())


def load_scorecards(config_dir: Path | None) -> list[Scorecard]:
    """Every scorecard in ``<config_dir>/scorecards``, by priority; the default when none.

    Raises ``ScorecardError`` listing every problem of every file."""
    cards: list[Scorecard] = []
    problems: list[str] = []
    for path in scorecard_files(config_dir):
        try:
            cards.append(load_scorecard_file(path))
        except ScorecardError as exc:
            problems.extend(exc.problems)
    problems.extend(shared_name_problems(cards))
    if problems:
        raise ScorecardError(problems)
    return sorted(cards, key=lambda c: (c.priority, c.name))


def scorecard_files(config_dir: Path | None) -> list[Path]:
    """The scorecard files in use: ``<config_dir>/scorecards/*.yaml``, else the default."""
    files = sorted((config_dir / "scorecards").glob("*.y*ml")) if config_dir else []
    return files or [DEFAULT_SCORECARD]


def shared_name_problems(cards: list[Scorecard]) -> list[str]:
    """One problem per scorecard name that more than one file uses."""
    names = [c.name for c in cards]
    return [
        _("scorecard name {name!r} is used by more than one file", name=name)
        for name in sorted({n for n in names if names.count(n) > 1})
    ]


def load_scorecard_file(path: Path) -> Scorecard:
    return read_model(path, Scorecard, ScorecardError, whole="(scorecard)").model


def choose_scorecard(cards: list[Scorecard], account: dict[str, Any]) -> Scorecard | None:
    """The first scorecard (by priority) whose segment rule matches the account."""
    for card in cards:
        if card.applies_to.matches(account):
            return card
    return None
