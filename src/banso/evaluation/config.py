"""``evaluation.yaml``: for each team × job title, the weights of the four axes of a CSM's
evaluation (churn, expansion, a strategic KPI, the manager's qualitative score), in percent and
adding up to 100, and each axis' target.

``<config>/evaluation.yaml`` replaces the packaged ``default_evaluation.yaml`` whole. Every
problem is one ``FILE:LINE: FIELD: reason`` line (:mod:`banso.yamlconfig`).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from banso.config import get_settings
from banso.errors import ConfigRejected
from banso.labels import register
from banso.team.models import JOB_TITLES
from banso.yamlconfig import YamlModel, read_model

FILE_NAME = "evaluation.yaml"
DEFAULT_EVALUATION = Path(__file__).parent / "default_evaluation.yaml"
ANY = "*"
AXES = ("churn", "expansion", "strategic", "qualitative")
CHURN_MEASURES = ("gross_mrr_churn_rate", "renewal_churn_rate")
STRATEGIC_KPIS = ("health", "nps", "renewal_forecast_accuracy")
"""The strategic KPIs an entry may choose (docs/team.md): the book's mean health score at the
period's end, its NPS over the period, the share of its renewals the CSM forecast right.
Onboarding completion is not offered: Banso records onboarding sessions, not their completion."""
register(
    "evaluation_axis",
    {"churn": "Churn", "expansion": "Expansion", "strategic": "Strategic KPI",
     "qualitative": "Qualitative"},
)  # fmt: skip
register(
    "strategic_kpi",
    {"health": "Health of the book", "nps": "NPS",
     "renewal_forecast_accuracy": "Renewal forecast accuracy"},
)  # fmt: skip
register(
    "churn_measure",
    {"gross_mrr_churn_rate": "Gross MRR churn rate (monthly mean)",
     "renewal_churn_rate": "Renewal churn rate"},
)  # fmt: skip


class EvaluationRejected(ConfigRejected):
    """``evaluation.yaml`` is invalid."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChurnTarget(_Strict):
    measure: Literal["gross_mrr_churn_rate", "renewal_churn_rate"] = "gross_mrr_churn_rate"
    target: Decimal = Field(ge=0, le=1)
    """The churn rate aimed at (a fraction such as 0.01; lower is better)."""


class ExpansionTarget(_Strict):
    target_per_month: Decimal = Field(gt=0, le=Decimal(10) ** 12)
    """Expansion MRR (spec §3) the book should gain per month, in the reporting currency."""


class StrategicTarget(_Strict):
    kpi: Literal["health", "nps", "renewal_forecast_accuracy"]
    target: Decimal = Field(gt=0, le=100)
    """Health score 0-100, NPS -100..100 (the target above 0), or forecast accuracy 0-1."""


class QualitativeTarget(_Strict):
    target: Decimal = Field(gt=0, le=100)
    """The qualitative score (0-100) that counts as fully met."""


class Evaluation(_Strict):
    """The evaluation of one team × job title."""

    team: str = Field(min_length=1, max_length=100)
    """A ``team_members.team``, or ``*`` for any team."""
    job_title: str
    """One of ``JOB_TITLES``, or ``*`` for any title."""
    weights: dict[str, Decimal]
    churn: ChurnTarget
    expansion: ExpansionTarget
    strategic: StrategicTarget
    qualitative: QualitativeTarget

    @field_validator("job_title")
    @classmethod
    def _title(cls, value: str) -> str:
        if value != ANY and value not in JOB_TITLES:
            raise ValueError(f"use one of {', '.join(JOB_TITLES)} or *; got {value!r}")
        return value

    @field_validator("weights")
    @classmethod
    def _weights(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        unknown = sorted(set(value) - set(AXES))
        if unknown:
            raise ValueError(f"unknown axis {unknown[0]!r}; the axes are {', '.join(AXES)}")
        missing = [axis for axis in AXES if axis not in value]
        if missing:
            raise ValueError(f"give a weight for every axis; {', '.join(missing)} is missing")
        if any(w < 0 for w in value.values()):
            raise ValueError("a weight is 0 or more")
        total = sum(value.values(), Decimal(0))
        if total != 100:
            raise ValueError(f"the weights add up to {total} %, not 100 %")
        return value


class EvaluationFile(_Strict):
    evaluations: list[Evaluation] = Field(min_length=1)

    @field_validator("evaluations")
    @classmethod
    def _unique(cls, value: list[Evaluation]) -> list[Evaluation]:
        seen: set[tuple[str, str]] = set()
        for entry in value:
            pair = (entry.team, entry.job_title)
            if pair in seen:
                raise ValueError(
                    f"team {entry.team!r} × job title {entry.job_title!r} appears twice"
                )
            seen.add(pair)
        return value

    def for_member(self, team: str | None, job_title: str | None) -> Evaluation | None:
        """The most specific entry for a member: team and title, then team, then title, then
        ``*`` × ``*``; None when none applies."""
        entries = {(e.team, e.job_title): e for e in self.evaluations}
        for pair in ((team, job_title), (team, ANY), (ANY, job_title), (ANY, ANY)):
            if None not in pair and pair in entries:
                return entries[pair]  # type: ignore[index]
        return None


def evaluation_path() -> Path:
    """``<config>/evaluation.yaml`` when it exists, else the packaged default."""
    path = get_settings().config_path / FILE_NAME
    return path if path.is_file() else DEFAULT_EVALUATION


def load_evaluation(path: Path | None = None) -> YamlModel[EvaluationFile]:
    """The validated evaluation file; an :class:`EvaluationRejected` listing every problem."""
    return read_model(
        path or evaluation_path(), EvaluationFile, EvaluationRejected, whole="(evaluation)"
    )
