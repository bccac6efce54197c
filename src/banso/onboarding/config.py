"""Onboarding programmes (``onboarding.yaml``): ordered milestones, each with the side that owns
it, a due offset in business days from the contract start and an optional completion rule.

The packaged ``default_onboarding.yaml`` applies until ``<config>/onboarding.yaml`` exists; a
user file replaces it whole. Problems are ``FILE:LINE: FIELD: reason`` lines.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from banso.config import get_settings
from banso.errors import ConfigRejected
from banso.i18n import _
from banso.labels import register
from banso.yamlconfig import read_model

FILE_NAME = "onboarding.yaml"
PACKAGED = Path(__file__).with_name("default_onboarding.yaml")
OWNER_SIDES = ("us", "customer")
RULE_KINDS = ("event", "activity", "manual")
register("onboarding_owner_side", {"us": "Us", "customer": "Customer"})
register("onboarding_rule", {"event": "Product event", "activity": "Activity", "manual": "Manual"})


class OnboardingRejected(ConfigRejected):
    """``onboarding.yaml`` is invalid."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Strict):
    en: str = Field(min_length=1)
    ja: str = Field(min_length=1)

    def get(self, language: str) -> str:
        return self.ja if language == "ja" else self.en


class EventRule(_Strict):
    """At least ``users`` distinct users did ``event`` within ``within_days`` consecutive days,
    on or after the contract start (the magic moment: "3 users created a dashboard in a week")."""

    event: str = Field(min_length=1, max_length=200)
    users: int = Field(default=1, ge=1, le=10_000)
    within_days: int = Field(default=1, ge=1, le=365)


class ActivityRule(_Strict):
    """An activity of ``activity`` kind (``banso.activities``) logged on or after the contract
    start (a kick-off meeting)."""

    activity: Literal["meeting", "call", "email", "note", "onboarding_session"]


class Milestone(_Strict):
    key: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_.-]+$")
    label: Text
    owner: Literal["us", "customer"]
    due_business_days: int = Field(ge=0, le=500)
    """Business days (Japanese holidays and company closures off) after the contract start."""
    complete_when: EventRule | ActivityRule | None = None
    """None: ticked by hand."""
    magic_moment: bool = False
    """The first value the customer feels; time to first value ends when it completes."""

    @property
    def rule(self) -> str:
        if isinstance(self.complete_when, EventRule):
            return "event"
        if isinstance(self.complete_when, ActivityRule):
            return "activity"
        return "manual"


class Programme(_Strict):
    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_.-]+$")
    label: Text
    segments: list[str] | None = None
    """The account segments it is for; none: every account no other programme claims."""
    milestones: list[Milestone] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_key_each(self) -> Programme:
        keys = [m.key for m in self.milestones]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise ValueError(_("milestone keys must differ: {keys}", keys=", ".join(twice)))
        if sum(m.magic_moment for m in self.milestones) > 1:
            raise ValueError(_("at most one milestone may be the magic moment"))
        return self

    @property
    def magic_moment(self) -> Milestone | None:
        return next((m for m in self.milestones if m.magic_moment), None)


class OnboardingFile(_Strict):
    enrol_within_days: int = Field(default=180, ge=1, le=3650)
    """A customer whose first paid line started at most this many days ago and who has no
    programme yet gets one; older customers are past onboarding."""
    programmes: list[Programme] = Field(min_length=1)

    @model_validator(mode="after")
    def _segments_once(self) -> OnboardingFile:
        names = [p.name for p in self.programmes]
        if len(set(names)) != len(names):
            raise ValueError(_("programme names must differ"))
        if sum(p.segments is None for p in self.programmes) > 1:
            raise ValueError(_("only one programme may leave out segments (the default)"))
        seen: set[str] = set()
        for p in self.programmes:
            for s in p.segments or []:
                if s in seen:
                    raise ValueError(_("segment {segment} is in two programmes", segment=s))
                seen.add(s)
        return self

    def for_segment(self, segment: str | None) -> Programme | None:
        """The programme of an account in ``segment``: the one naming it, else the default."""
        for p in self.programmes:
            if segment is not None and p.segments is not None and segment in p.segments:
                return p
        return next((p for p in self.programmes if p.segments is None), None)

    def programme(self, name: str) -> Programme | None:
        return next((p for p in self.programmes if p.name == name), None)


def config_file(config_dir: Path | None = None) -> Path:
    """The file in force: the user's ``onboarding.yaml`` when present, else the packaged one."""
    user = (config_dir or get_settings().config_path) / FILE_NAME
    return user if user.is_file() else PACKAGED


def load_programmes(config_dir: Path | None = None) -> OnboardingFile:
    path = config_file(config_dir)
    stat = path.stat()
    return _load(path, stat.st_mtime_ns, stat.st_size)


@cache
def _load(path: Path, _mtime: int, _size: int) -> OnboardingFile:
    return read_model(path, OnboardingFile, OnboardingRejected, whole="(onboarding)").model
