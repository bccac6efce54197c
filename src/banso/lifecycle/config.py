"""Lifecycle rules (``lifecycle.yaml``): which stage an account is in on a day, as an ordered
list of rules, the first that holds wins.

Rule kinds (each fact from its owner):

- ``churned``: the account has churned by the day (``revenue.contracts``);
- ``onboarding``: a milestone of its onboarding programme is still open (``onboarding``);
- ``renewal``: its next renewal (``revenue.contracts``, the one definition) is within ``days``;
- ``expansion``: it has an open expansion opportunity (``expansion``) — chosen over "positive
  expansion MRR", which is only known after the upgrade, so it would mark the stage too late;
- ``customer``: it is a customer on the day (the catch-all stage, adoption by default).

An account that no rule matches (a prospect) keeps the stage it has. The packaged
``default_lifecycle.yaml`` applies until ``<config>/lifecycle.yaml`` exists.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from banso.accounts.models import LIFECYCLE_STAGES
from banso.config import get_settings
from banso.errors import ConfigRejected
from banso.i18n import _
from banso.yamlconfig import read_model

FILE_NAME = "lifecycle.yaml"
PACKAGED = Path(__file__).with_name("default_lifecycle.yaml")


class LifecycleRejected(ConfigRejected):
    """``lifecycle.yaml`` is invalid."""


def _stage(value: str) -> str:
    if value not in LIFECYCLE_STAGES:
        raise ValueError(
            _("unknown stage {stage}; use one of {known}", stage=value,
              known=", ".join(LIFECYCLE_STAGES))
        )  # fmt: skip
    return value


Stage = Annotated[str, AfterValidator(_stage)]


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    stage: Stage
    when: Literal["churned", "onboarding", "renewal", "expansion", "customer"]
    days: int | None = Field(default=None, ge=1, le=730)
    """Only for ``renewal``: the window before the next renewal."""

    @model_validator(mode="after")
    def _days_for_renewal(self) -> Rule:
        if self.when == "renewal" and self.days is None:
            raise ValueError(_("a renewal rule needs days"))
        if self.when != "renewal" and self.days is not None:
            raise ValueError(_("only a renewal rule takes days"))
        return self


class LifecycleFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    funnel: list[Stage] = Field(min_length=1)
    """The stages in the order a customer moves through them (the report's order)."""
    rules: list[Rule] = Field(min_length=1)

    @model_validator(mode="after")
    def _rules_name_funnel_stages(self) -> LifecycleFile:
        if len(set(self.funnel)) != len(self.funnel):
            raise ValueError(_("a stage appears twice in the funnel"))
        missing = sorted({r.stage for r in self.rules} - set(self.funnel))
        if missing:
            raise ValueError(
                _("rules name stages not in the funnel: {stages}", stages=", ".join(missing))
            )
        kinds = [r.when for r in self.rules]
        if len(set(kinds)) != len(kinds):
            raise ValueError(_("each kind of rule may appear once"))
        return self


def config_file(config_dir: Path | None = None) -> Path:
    user = (config_dir or get_settings().config_path) / FILE_NAME
    return user if user.is_file() else PACKAGED


def load_lifecycle(config_dir: Path | None = None) -> LifecycleFile:
    path = config_file(config_dir)
    stat = path.stat()
    return _load(path, stat.st_mtime_ns, stat.st_size)


@cache
def _load(path: Path, _mtime: int, _size: int) -> LifecycleFile:
    return read_model(path, LifecycleFile, LifecycleRejected, whole="(lifecycle)").model
