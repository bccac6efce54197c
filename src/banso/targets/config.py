"""``targets.yaml`` in the config directory: per team, the monthly headcount, the productivity
per head (additional-order and new-order MRR per month), the number of products and optional
seasonal weights; optional per-month overrides of the planned renewal churn rate.

Every problem is one ``FILE:LINE: FIELD: reason`` line (:mod:`banso.yamlconfig`).
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from banso.config import get_settings
from banso.errors import BansoError, ConfigRejected
from banso.i18n import _
from banso.yamlconfig import YamlModel, read_model

FILE_NAME = "targets.yaml"

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class TargetsError(ConfigRejected):
    """``targets.yaml`` is invalid."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _months_valid(value: dict[str, object]) -> dict[str, object]:
    for month in value:
        if not _MONTH.match(str(month)):
            raise ValueError(f"months are written YYYY-MM, such as 2026-04; got {month!r}")
    return value


class Team(_Strict):
    """One team's plan inputs (money in major units of the reporting currency)."""

    name: str = Field(min_length=1)
    headcount: int = Field(ge=0, le=100_000)
    """Heads every month, unless ``headcount_by_month`` names the month."""
    headcount_by_month: dict[str, int] = Field(default_factory=dict)
    products: int = Field(default=1, ge=0, le=1_000)
    expansion_mrr_per_head: Decimal = Field(ge=0, le=Decimal(10) ** 12)
    """Additional-order (upsell, cross-sell) MRR one head wins in a month, per product."""
    new_mrr_per_head: Decimal = Field(ge=0, le=Decimal(10) ** 12)
    """New-order MRR one head wins in a month, per product."""
    seasonal_weights: dict[int, Decimal] = Field(default_factory=dict)
    """Calendar month (1-12) → weight of both targets (default 1)."""
    members: list[str] = Field(default_factory=list)
    """The team's CSMs (team member emails): their accounts' actuals count for the team
    (``banso targets actual --by team|owner``)."""

    @field_validator("headcount_by_month")
    @classmethod
    def _headcounts(cls, value: dict[str, int]) -> dict[str, int]:
        _months_valid(value)  # type: ignore[arg-type]
        if any(n < 0 for n in value.values()):
            raise ValueError("a headcount is 0 or more")
        return value

    @field_validator("seasonal_weights")
    @classmethod
    def _weights(cls, value: dict[int, Decimal]) -> dict[int, Decimal]:
        for month, weight in value.items():
            if not 1 <= month <= 12:
                raise ValueError(f"seasonal weights are keyed by calendar month 1-12; got {month}")
            if weight < 0:
                raise ValueError("a seasonal weight is 0 or more")
        return value

    def per_head(self, month: int) -> tuple[Fraction, Fraction]:
        """(expansion, new) target of one head in month index ``month``: per-head
        productivity × products × the seasonal weight of its calendar month."""
        factor = self.products * Fraction(self.weight(month % 12 + 1))
        return (
            Fraction(self.expansion_mrr_per_head) * factor,
            Fraction(self.new_mrr_per_head) * factor,
        )

    def heads(self, month: str) -> int:
        return self.headcount_by_month.get(month, self.headcount)

    def weight(self, calendar_month: int) -> Decimal:
        return self.seasonal_weights.get(calendar_month, Decimal(1))


class Targets(_Strict):
    """The whole file."""

    teams: list[Team] = Field(min_length=1)
    planned_renewal_churn_rate: dict[str, Decimal] = Field(default_factory=dict)
    """Month ``YYYY-MM`` → the planned renewal churn rate (0-1), replacing the computed one."""

    @field_validator("planned_renewal_churn_rate")
    @classmethod
    def _rates(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        _months_valid(value)  # type: ignore[arg-type]
        if any(not 0 <= r <= 1 for r in value.values()):
            raise ValueError("a renewal churn rate is a fraction from 0 to 1, such as 0.02")
        return value

    @field_validator("teams")
    @classmethod
    def _unique(cls, value: list[Team]) -> list[Team]:
        names = [t.name for t in value]
        if len(set(names)) != len(names):
            raise ValueError("each team name appears once")
        members = [m.lower() for t in value for m in t.members]
        if len(set(members)) != len(members):
            raise ValueError("a member belongs to one team only")
        return value


def targets_path() -> Path:
    return get_settings().config_path / FILE_NAME


def load_targets(path: Path | None = None) -> YamlModel[Targets]:
    """The validated ``targets.yaml``; a :class:`TargetsError` listing every problem, or a
    BansoError when there is no such file."""
    path = path or targets_path()
    if not path.is_file():
        raise BansoError(
            _(
                "No targets file at {path}; write one (see docs/metrics.md, Targets).",
                path=path,
            )
        )
    return read_model(path, Targets, TargetsError, whole="(targets)")
