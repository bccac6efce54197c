"""The configurable list of churn reasons: ``<config>/churn_reasons.yaml``, else the defaults.

The defaults are the reasons the KPI seeds name (no outcome from the product, ROI, a cheaper
competitor, the customer's business declining, the champion leaving, "graduation") and
``other``. A file replaces the list; each reason has a code and its English and Japanese label.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from banso.config import get_settings
from banso.errors import ConfigRejected
from banso.i18n import _, current_language
from banso.labels import label, register
from banso.yamlconfig import read_model

REASONS_FILE = "churn_reasons.yaml"
KIND = "churn_reason"

DEFAULT_REASONS: dict[str, tuple[str, str]] = {
    "no_outcome": ("No outcome from the product", "製品で成果が出ない"),
    "roi": ("ROI not justified", "費用対効果が合わない"),
    "cheaper_competitor": ("Cheaper competitor", "より安い競合製品"),
    "business_decline": ("Customer's business declining", "顧客の事業縮小"),
    "champion_left": ("Champion left", "推進者の退職・異動"),
    "graduation": ("Graduation (outgrew the product)", "卒業（製品が不要に）"),
    "other": ("Other", "その他"),
}
register(KIND, {code: en for code, (en, _ja) in DEFAULT_REASONS.items()})

_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class ReasonsRejected(ConfigRejected):
    """``churn_reasons.yaml`` is invalid."""


class ReasonEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    en: str = Field(min_length=1, max_length=200)
    ja: str = Field(min_length=1, max_length=200)

    @field_validator("code")
    @classmethod
    def _code(cls, v: str) -> str:
        if not _CODE.match(v):
            raise ValueError(
                _("a code is lower-case letters, digits and _, starting with a letter")
            )
        return v


class ReasonsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reasons: list[ReasonEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> ReasonsFile:
        seen: set[str] = set()
        for entry in self.reasons:
            if entry.code in seen:
                raise ValueError(_("the code {code} is listed twice", code=entry.code))
            seen.add(entry.code)
        return self


@dataclass(frozen=True)
class Reason:
    code: str
    en: str
    ja: str

    def label(self) -> str:
        """In the current language: the file's words, else the catalogue's for a default."""
        if self.code in DEFAULT_REASONS and DEFAULT_REASONS[self.code][0] == self.en:
            return label(self.code, KIND)
        return self.ja if current_language() == "ja" else self.en


def load_reasons(config_dir: Path | None = None) -> dict[str, Reason]:
    """The configured reasons by code, in the file's order (the defaults without a file)."""
    path = (config_dir or get_settings().config_path) / REASONS_FILE
    if not path.exists():
        return {code: Reason(code, en, ja) for code, (en, ja) in DEFAULT_REASONS.items()}
    loaded = read_model(path, ReasonsFile, ReasonsRejected, whole="(churn reasons)")
    return {e.code: Reason(e.code, e.en, e.ja) for e in loaded.model.reasons}


def reason_label(code: str | None, reasons: dict[str, Reason]) -> str:
    """A recorded code in the current language; no code is "No reason recorded"."""
    if code is None:
        return _("No reason recorded")
    found = reasons.get(code)
    return found.label() if found is not None else label(code, KIND)
