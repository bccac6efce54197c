"""``team.yaml`` in the config directory (else the packaged ``default_team.yaml``): the job
titles with the MRR band an owner of that title may hold and the target book size per touch
model, the teams and the touch models they serve, and the MRR balance tolerance.

Every problem is one ``FILE:LINE: FIELD: reason`` line (:mod:`banso.yamlconfig`).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from banso.accounts.models import TOUCH_MODELS
from banso.config import get_settings
from banso.errors import ConfigRejected
from banso.team.models import JOB_TITLES
from banso.yamlconfig import YamlModel, read_model

FILE_NAME = "team.yaml"
DEFAULT_TEAM = Path(__file__).parent / "default_team.yaml"


class TeamConfigError(ConfigRejected):
    """``team.yaml`` is invalid."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Title(_Strict):
    """What an owner of one job title may hold, and how many accounts they should carry."""

    title: str
    min_account_mrr: Decimal = Field(default=Decimal(0), ge=0, le=Decimal(10) ** 15)
    """Smallest account MRR (major units of the reporting currency) this title may own."""
    max_account_mrr: Decimal | None = Field(default=None, ge=0, le=Decimal(10) ** 15)
    """Largest account MRR this title may own; none: no upper bound."""
    book_size: dict[str, int] = Field(default_factory=dict)
    """Touch model -> target accounts per CSM of this title; a touch model left out (or 0):
    the title carries no accounts of it."""

    @field_validator("title")
    @classmethod
    def _known_title(cls, value: str) -> str:
        if value not in JOB_TITLES:
            raise ValueError(f"{value!r} is not a job title ({', '.join(JOB_TITLES)})")
        return value

    @field_validator("book_size")
    @classmethod
    def _touch_models(cls, value: dict[str, int]) -> dict[str, int]:
        for touch, size in value.items():
            if touch not in TOUCH_MODELS:
                raise ValueError(f"{touch!r} is not a touch model ({', '.join(TOUCH_MODELS)})")
            if not 0 <= size <= 1_000_000:
                raise ValueError(f"a book size is a whole number from 0 to 1,000,000; got {size}")
        return value

    @model_validator(mode="after")
    def _band(self) -> Title:
        if self.max_account_mrr is not None and self.max_account_mrr < self.min_account_mrr:
            raise ValueError("max_account_mrr is below min_account_mrr")
        return self

    def admits(self, mrr: Fraction) -> bool:
        """Whether an owner of this title may hold an account of MRR ``mrr``."""
        if mrr < Fraction(self.min_account_mrr):
            return False
        return self.max_account_mrr is None or mrr <= Fraction(self.max_account_mrr)

    def target(self, touch: str) -> int:
        return self.book_size.get(touch, 0)


class Team(_Strict):
    """One team: its name as in ``team_members.team`` and the touch models it serves."""

    name: str = Field(min_length=1, max_length=100)
    touch_models: list[str] = Field(min_length=1)

    @field_validator("touch_models")
    @classmethod
    def _touch_models(cls, value: list[str]) -> list[str]:
        for touch in value:
            if touch not in TOUCH_MODELS:
                raise ValueError(f"{touch!r} is not a touch model ({', '.join(TOUCH_MODELS)})")
        if len(set(value)) != len(value):
            raise ValueError("each touch model appears once")
        return value


class TeamConfig(_Strict):
    """The whole file."""

    titles: list[Title] = Field(min_length=1)
    teams: list[Team] = Field(min_length=1)
    mrr_tolerance: Decimal = Field(default=Decimal("0.2"), ge=0, le=10)

    @field_validator("titles")
    @classmethod
    def _unique_titles(cls, value: list[Title]) -> list[Title]:
        names = [t.title for t in value]
        if len(set(names)) != len(names):
            raise ValueError("each title appears once")
        return value

    @field_validator("teams")
    @classmethod
    def _unique_teams(cls, value: list[Team]) -> list[Team]:
        names = [t.name for t in value]
        if len(set(names)) != len(names):
            raise ValueError("each team name appears once")
        return value

    def title(self, name: str | None) -> Title | None:
        return next((t for t in self.titles if t.title == name), None)

    def team(self, name: str | None) -> Team | None:
        return next((t for t in self.teams if t.name == name), None)

    def carries(self, title: str | None, team: str | None, touch: str) -> bool:
        """Whether a member of ``title`` in ``team`` may carry accounts of ``touch``: the team
        serves the touch model and the title has a book size for it."""
        of_team, of_title = self.team(team), self.title(title)
        return (
            of_team is not None and of_title is not None and touch in of_team.touch_models
            and of_title.target(touch) > 0
        )  # fmt: skip


def team_config_path() -> Path:
    """``team.yaml`` of the config directory when there is one, else the packaged default."""
    path = get_settings().config_path / FILE_NAME
    return path if path.is_file() else DEFAULT_TEAM


def load_team_config(path: Path | None = None) -> YamlModel[TeamConfig]:
    """The validated team configuration; a :class:`TeamConfigError` listing every problem."""
    return read_model(path or team_config_path(), TeamConfig, TeamConfigError, whole="(team)")
