"""``surveys.yaml``: the surveys Banso sends, their questions in Japanese and English, the quiet
period, link expiry and reminder delay.

The user's file is ``<config>/surveys.yaml``; without one the packaged ``default_surveys.yaml``
applies (as segments and playbooks do). Problems are ``FILE:LINE: FIELD: reason`` lines
(:mod:`banso.yamlconfig`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from banso.config import get_settings
from banso.errors import ConfigRejected
from banso.surveys.models import SURVEY_TYPES
from banso.yamlconfig import read_model

FILE_NAME = "surveys.yaml"
DEFAULT_FILE = Path(__file__).parent / "default_surveys.yaml"
PLACEHOLDERS = frozenset({"account", "product", "name"})
_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
_FIELD = re.compile(r"\{([^{}]*)\}")


class SurveysError(ConfigRejected):
    """``surveys.yaml`` is invalid."""


class Texts(BaseModel):
    """One text in both languages; ``{account}``, ``{product}`` and ``{name}`` are filled in."""

    model_config = ConfigDict(extra="forbid")
    ja: str = Field(min_length=1, max_length=500)
    en: str = Field(min_length=1, max_length=500)

    @field_validator("ja", "en")
    @classmethod
    def _placeholders(cls, value: str) -> str:
        unknown = sorted(set(_FIELD.findall(value)) - PLACEHOLDERS)
        if unknown:
            raise ValueError(
                f"unknown placeholder {{{unknown[0]}}}; use {{account}}, {{product}} or {{name}}"
            )
        return value

    def text(self, lang: str) -> str:
        return self.ja if lang == "ja" else self.en


class CustomQuestion(BaseModel):
    """A question asked after the main one: free text, or a 1–5 scale."""

    model_config = ConfigDict(extra="forbid")
    key: str
    kind: Literal["text", "scale"]
    text: Texts
    required: bool = False

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not _KEY.match(value):
            raise ValueError("a key is lower-case letters, digits, _ or -, at most 40")
        return value


class SurveyDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["nps", "csat", "ces"]
    subject: Texts
    question: Texts
    questions: list[CustomQuestion] = Field(default_factory=list, max_length=10)

    @field_validator("questions")
    @classmethod
    def _unique(cls, value: list[CustomQuestion]) -> list[CustomQuestion]:
        keys = [q.key for q in value]
        if len(set(keys)) != len(keys):
            raise ValueError("two questions have the same key")
        return value

    @property
    def scale(self) -> tuple[int, int]:
        return SURVEY_TYPES[self.type]


class SurveysFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    quiet_days: int = Field(default=90, ge=0, le=3650)
    expiry_days: int = Field(default=30, ge=1, le=365)
    reminder_after_days: int | None = Field(default=7, ge=1, le=365)
    product: str = Field(default="", max_length=100)
    """The product's name in the texts' ``{product}``; blank: "our service" in the reader's
    language."""
    surveys: dict[str, SurveyDefinition] = Field(min_length=1)

    @field_validator("surveys")
    @classmethod
    def _keys(cls, value: dict[str, SurveyDefinition]) -> dict[str, SurveyDefinition]:
        for key in value:
            if not _KEY.match(key):
                raise ValueError(
                    f"{key!r}: a survey name is lower-case letters, digits, _ or -, at most 40"
                )
        return value


def surveys_path() -> Path:
    """The user's ``surveys.yaml`` when there is one, else the packaged default."""
    path = get_settings().config_path / FILE_NAME
    return path if path.is_file() else DEFAULT_FILE


def load_surveys(path: Path | None = None) -> SurveysFile:
    """The validated definitions; :class:`SurveysError` listing every problem."""
    return read_model(path or surveys_path(), SurveysFile, SurveysError, whole="(surveys)").model
