"""The cafeteria's catalogue (``programs.yaml``): webinars, trainings, help articles, community
events and paid services, each with its title in both languages, the language it is held in,
the segments it is for, a default capacity for its sessions and, for a paid service, its price.

The catalogue is configuration, reviewed and versioned like the playbooks and the onboarding
programmes; its sessions and who attended them are records in the app (``banso.attendance``).
The packaged ``default_programs.yaml`` applies until ``<config>/programs.yaml`` exists; a user
file replaces it whole. Problems are ``FILE:LINE: FIELD: reason`` lines; a segment the rule set
does not know is one too.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from banso.config import get_settings
from banso.errors import ConfigRejected
from banso.i18n import _
from banso.labels import register
from banso.yamlconfig import YamlModel, read_model

FILE_NAME = "programs.yaml"
PACKAGED = Path(__file__).with_name("default_programs.yaml")
KINDS = ("webinar", "training", "help_article", "community_event", "paid_service")
register("program_kind", {
    "webinar": "Webinar", "training": "Training", "help_article": "Help article",
    "community_event": "Community event", "paid_service": "Paid service",
})  # fmt: skip


class ProgramsRejected(ConfigRejected):
    """``programs.yaml`` is invalid."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Title(_Strict):
    en: str = Field(min_length=1, max_length=200)
    ja: str = Field(min_length=1, max_length=200)

    def get(self, language: str) -> str:
        return self.ja if language == "ja" else self.en


class Program(_Strict):
    key: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_.-]+$")
    kind: Literal["webinar", "training", "help_article", "community_event", "paid_service"]
    title: Title
    language: Literal["ja", "en"]
    """The language the programme is held or written in."""
    segments: list[str] | None = None
    """Segment keys of ``segments.yaml`` it is for; none: every customer."""
    capacity: int | None = Field(default=None, ge=1, le=100_000)
    """Default seats of a session (a session may say otherwise); none: no limit."""
    price_yen: Decimal | None = Field(default=None, ge=0, max_digits=12, decimal_places=0)
    """Price of a paid service in whole yen; only paid services have one."""

    @model_validator(mode="after")
    def _price_of_paid_services(self) -> Program:
        if self.kind == "paid_service" and self.price_yen is None:
            raise ValueError(_("a paid service needs price_yen"))
        if self.kind != "paid_service" and self.price_yen is not None:
            raise ValueError(_("only a paid service has price_yen"))
        return self


class ProgramsFile(_Strict):
    programs: list[Program] = Field(min_length=1)

    @model_validator(mode="after")
    def _keys_once(self) -> ProgramsFile:
        keys = [p.key for p in self.programs]
        twice = sorted({k for k in keys if keys.count(k) > 1})
        if twice:
            raise ValueError(_("programme keys must differ: {keys}", keys=", ".join(twice)))
        return self

    def program(self, key: str) -> Program | None:
        return next((p for p in self.programs if p.key == key), None)


def config_file(config_dir: Path | None = None) -> Path:
    """The file in force: the user's ``programs.yaml`` when present, else the packaged one."""
    user = (config_dir or get_settings().config_path) / FILE_NAME
    return user if user.is_file() else PACKAGED


def load_catalogue(segments: set[str], config_dir: Path | None = None) -> ProgramsFile:
    """The catalogue, with every target segment checked against ``segments`` (the keys of the
    segment rule set in force)."""
    path = config_file(config_dir)
    stat = path.stat()
    loaded = _load(path, stat.st_mtime_ns, stat.st_size)
    problems = [
        loaded.problem(
            ("programs", i, "segments", j),
            _(
                "unknown segment {segment} (segments: {known})",
                segment=s,
                known=", ".join(sorted(segments)),
            ),
        )  # fmt: skip
        for i, p in enumerate(loaded.model.programs)
        for j, s in enumerate(p.segments or [])
        if s not in segments
    ]
    if problems:
        raise ProgramsRejected(problems)
    return loaded.model


@cache
def _load(path: Path, _mtime: int, _size: int) -> YamlModel[ProgramsFile]:
    return read_model(path, ProgramsFile, ProgramsRejected, whole="(programs)")
