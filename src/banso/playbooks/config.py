"""Playbooks as YAML: when (a trigger), for whom (conditions), what (actions).

One playbook per file in ``<config>/playbooks/*.yaml``; when there are none, the packaged
defaults in ``default_playbooks/`` apply. Email templates are Jinja2 files
``<config>/templates/email/NAME.LANG.txt`` (packaged ones in ``templates/email/``): the first
line is ``Subject: ...``, then a blank line, then the body.

Everything a playbook refers to is checked before it runs: the trigger and action fields, band
names (against the scorecards), contact roles, lifecycle stages, templates (they must exist and
use only the variables Banso provides), environment variables holding webhook URLs and secrets.
Errors name the file, the line and the field (``PlaybookError``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import jinja2
import jinja2.meta
from pydantic import BaseModel, ConfigDict, Field, model_validator

from banso.accounts.models import CONTACT_ROLES, LIFECYCLE_STAGES, TOUCH_MODELS
from banso.errors import ConfigRejected
from banso.health.measures import MEASURES
from banso.i18n import LANGUAGES, _
from banso.playbooks.models import CTA_PRIORITIES, CTA_TYPES
from banso.revenue.contracts import RENEWAL_TERM_MONTHS
from banso.voc.config import SurveysError, load_surveys
from banso.yamlconfig import read_model

DEFAULT_PLAYBOOKS = Path(__file__).parent / "default_playbooks"
PACKAGED_TEMPLATES = Path(__file__).parent / "templates"

TEMPLATE_VARIABLES = frozenset(
    {"account", "contact", "owner", "playbook", "trigger", "day", "unsubscribe_url", "cta"}
)
"""Names a message template may use (see ``actions.message_context``)."""


class PlaybookError(ConfigRejected):
    """A playbook file is invalid."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Text = dict[Literal["en", "ja"], str]
"""A text in English and/or Japanese (``{en: ..., ja: ...}``)."""


# ---------------------------------------------------------------- triggers


class HealthBandChanged(_Strict):
    """The account's band today differs from yesterday's and is ``to`` (from one of ``from``)."""

    type: Literal["health_band_changed"]
    to: str
    from_: list[str] | None = Field(default=None, alias="from")


class InHealthBand(_Strict):
    """The account is in band ``band`` that day — whether it just turned so or has been there
    for months. Fires again on later days while it stays in the band, but not while a CTA the
    playbook opened for the account is open, nor within ``cooldown_days`` days after the last
    one closed (a playbook without a CTA action: within ``cooldown_days`` of its last firing)."""

    type: Literal["in_health_band"]
    band: str
    cooldown_days: int = Field(default=30, ge=0, le=365)


class MeasureReached(_Strict):
    """The account's health measure ``measure`` (its raw value in that day's health snapshot,
    such as ``active_users_28d_trend`` or ``advanced_features_28d``) is at least ``at_least``
    that day and was below it, or not measured, the day before: fires on the first day. The
    measure must be one the scorecard scores (only those are in the snapshot)."""

    type: Literal["measure_reached"]
    measure: str
    at_least: float


class ScoreDropped(_Strict):
    """The health score fell by at least ``points`` over the last ``days`` days (first day)."""

    type: Literal["score_dropped"]
    points: float = Field(gt=0, le=100)
    days: int = Field(ge=1, le=365)


class NoActivity(_Strict):
    """No usage event for exactly ``days`` days (fires once per silence)."""

    type: Literal["no_activity"]
    days: int = Field(ge=1, le=365)


class UsageDropped(_Strict):
    """Events named ``event`` (``"*"``: any) in the last 7 days fell by at least ``percent`` %
    against the 7 days before, which had at least ``min_prior`` of them (first day only)."""

    type: Literal["usage_dropped"]
    event: str = "*"
    percent: float = Field(gt=0, le=100)
    min_prior: int = Field(default=5, ge=1)


class RenewalIn(_Strict):
    """A renewal date (``revenue.contracts``) of a paid line billed every ``min_term_months``
    months or more is exactly ``days`` days away (monthly lines "renew" every month and are left
    out by default)."""

    type: Literal["renewal_in"]
    days: int = Field(ge=0, le=730)
    min_term_months: int = Field(default=RENEWAL_TERM_MONTHS, ge=1)


class NpsAnswered(_Strict):
    """An NPS answer arrived that day: detractor 0-6, passive 7-8, promoter 9-10."""

    type: Literal["nps_answered"]
    category: Literal["detractor", "passive", "promoter"]


class OnboardingOverdue(_Strict):
    """A milestone of the account's onboarding programme (``onboarding.yaml``) became overdue
    that day: its due day passed and it is still open. ``milestone`` names one milestone key
    (``first_value``); left out, any milestone."""

    type: Literal["onboarding_overdue"]
    milestone: str | None = Field(default=None, min_length=1, max_length=64)


class ChampionLeft(_Strict):
    """A contact with the champion role left the customer that day."""

    type: Literal["champion_left"]


class TicketSpike(_Strict):
    """At least ``count`` tickets opened in the last ``days`` days (first day only)."""

    type: Literal["ticket_spike"]
    count: int = Field(ge=1)
    days: int = Field(ge=1, le=365)


class NewAccount(_Strict):
    """The account became a customer that day (start of its first paid line)."""

    type: Literal["new_account"]


class SubscriptionContracted(_Strict):
    """The account's MRR fell that day but stays above zero (a downgrade, not a churn)."""

    type: Literal["subscription_contracted"]


Trigger = Annotated[
    HealthBandChanged
    | InHealthBand
    | MeasureReached
    | ScoreDropped
    | NoActivity
    | UsageDropped
    | RenewalIn
    | NpsAnswered
    | OnboardingOverdue
    | ChampionLeft
    | TicketSpike
    | NewAccount
    | SubscriptionContracted,
    Field(discriminator="type"),
]

HEALTH_TRIGGERS = ("health_band_changed", "in_health_band", "measure_reached", "score_dropped")


# ---------------------------------------------------------------- conditions


class Conditions(_Strict):
    """Filters on the account at trigger time; every given one must hold."""

    segment: list[str] | None = None
    plan: list[str] | None = None
    tier: list[str] | None = None
    touch_model: list[Literal["high", "low", "tech"]] | None = None
    lifecycle_stage: list[str] | None = None
    owner: list[str] | None = None
    """Owner emails."""
    band: list[str] | None = None
    mrr_min: int | None = Field(default=None, ge=0)
    """Minimum MRR in minor units of the reporting currency (inclusive)."""
    mrr_max: int | None = Field(default=None, ge=0)
    """Maximum MRR in minor units of the reporting currency (inclusive)."""

    @model_validator(mode="after")
    def _ranges(self) -> Conditions:
        if self.mrr_min is not None and self.mrr_max is not None and self.mrr_min > self.mrr_max:
            raise ValueError("mrr_min is above mrr_max")
        for stage in self.lifecycle_stage or []:
            if stage not in LIFECYCLE_STAGES:
                raise ValueError(f"unknown lifecycle stage {stage!r}")
        return self


# ---------------------------------------------------------------- actions


class TaskTemplate(_Strict):
    title: Text
    due_in_business_days: int = Field(default=0, ge=0, le=250)


class AssignMember(_Strict):
    member: str
    """The team member's email."""


class AssignRoundRobin(_Strict):
    round_robin: str
    """A team name: CTAs go to its members in turn."""


class CtaAction(_Strict):
    type: Literal["risk", "opportunity", "lifecycle", "activity"]
    priority: Literal["low", "medium", "high", "urgent"] = "medium"
    reason: str | None = None
    """What the CTA is about; one CTA per account, playbook and reason is open at a time.
    Default: the trigger type."""
    title: Text
    due_in_business_days: int = Field(default=3, ge=0, le=250)
    assign: Literal["owner"] | AssignMember | AssignRoundRobin = "owner"
    tasks: list[TaskTemplate] = Field(default_factory=list)
    carry: Literal["handoff"] | None = None
    """``handoff``: the CTA carries the account's sales handoff (promised outcome,
    stakeholders, deal notes; ``banso.success.handoff``) as its note, as it stands when the CTA
    opens."""


class EmailAction(_Strict):
    template: str
    to: str = "champion"
    """A contact role: the email goes to the account's current contacts with that role."""


class SlackAction(_Strict):
    text: Text
    """Jinja2 text of the message."""
    url: str | None = None
    url_env: str | None = None
    """Name of the environment variable holding the incoming-webhook URL (keeps it out of git)."""

    @model_validator(mode="after")
    def _one_url(self) -> SlackAction:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give exactly one of url or url_env")
        return self


class WebhookAction(_Strict):
    url: str | None = None
    url_env: str | None = None
    secret_env: str | None = None
    """Environment variable holding the HMAC-SHA256 key that signs the body."""

    @model_validator(mode="after")
    def _one_url(self) -> WebhookAction:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give exactly one of url or url_env")
        return self


class SetFieldAction(_Strict):
    field: Literal["lifecycle_stage", "tier", "touch_model"]
    value: str

    @model_validator(mode="after")
    def _value(self) -> SetFieldAction:
        allowed = {"lifecycle_stage": LIFECYCLE_STAGES, "touch_model": TOUCH_MODELS}.get(self.field)
        if allowed is not None and self.value not in allowed:
            raise ValueError(f"{self.value!r} is not a {self.field} ({', '.join(allowed)})")
        return self


ACTION_KINDS = (
    "cta", "email", "slack", "webhook", "set_field", "open_opportunity", "send_survey",
    "propose_advocacy",
)  # fmt: skip


class SendSurveyAction(_Strict):
    """Invite the account's current contacts with role ``to`` to a survey of ``surveys.yaml``
    (``banso.voc.service.invite``: the quiet period and suppressions apply)."""

    survey: str
    to: str = "champion"


class OpenOpportunityAction(_Strict):
    """Open an expansion opportunity (``banso.expansion``) at the first stage, owned by the
    account's owner; while the playbook's opportunity of this kind is open on the account, a
    repeat firing leaves it as it is."""

    kind: Literal["upsell", "cross_sell", "seats"]
    expected_mrr: int = Field(default=0, ge=0)
    """Expected MRR in minor units of the reporting currency."""


class ProposeAdvocacyAction(_Strict):
    """Propose an advocacy item (``banso.feedback.advocacy``: a reference, case study, review
    or referral) to the account, with the trigger's contact when it has one (the promoter who
    answered); while the account has an open item of this kind, a repeat firing adds none."""

    kind: Literal["reference", "case_study", "review", "referral"]


class Action(_Strict):
    """Exactly one of the action kinds."""

    cta: CtaAction | None = None
    email: EmailAction | None = None
    slack: SlackAction | None = None
    webhook: WebhookAction | None = None
    set_field: SetFieldAction | None = None
    open_opportunity: OpenOpportunityAction | None = None
    send_survey: SendSurveyAction | None = None
    propose_advocacy: ProposeAdvocacyAction | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Action:
        given = [k for k in ACTION_KINDS if getattr(self, k)]
        if len(given) != 1:
            raise ValueError(
                "an action is exactly one of cta, email, slack, webhook, set_field,"
                " open_opportunity, send_survey, propose_advocacy"
            )
        return self

    @property
    def kind(self) -> str:
        for k in ACTION_KINDS:
            if getattr(self, k) is not None:
                return k
        raise AssertionError("validated to have one kind")


class Playbook(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=100)
    label: Text = Field(default_factory=dict)
    enabled: bool = True
    trigger: Trigger
    conditions: Conditions = Field(default_factory=Conditions)
    actions: list[Action] = Field(min_length=1)

    @property
    def cooldown_days(self) -> int | None:
        """Days after a CTA closes (or a firing) before the trigger may act again for the same
        account; None for triggers that fire only when their state begins."""
        return getattr(self.trigger, "cooldown_days", None)

    @property
    def uses_health(self) -> bool:
        return self.trigger.type in HEALTH_TRIGGERS or self.conditions.band is not None

    def title(self, lang: str) -> str:
        return self.label.get(lang) or self.label.get("en") or self.name  # type: ignore[call-overload]


# ---------------------------------------------------------------- loading


def playbook_files(config_dir: Path | None) -> list[Path]:
    """The user's playbook files, or the packaged defaults when there are none."""
    files = sorted((config_dir / "playbooks").glob("*.y*ml")) if config_dir else []
    return files or sorted(DEFAULT_PLAYBOOKS.glob("*.yaml"))


def load_playbooks(
    config_dir: Path | None, bands: set[str] | None = None, segments: set[str] | None = None
) -> list[Playbook]:
    """Every playbook, by name; raises ``PlaybookError`` listing every problem of every file.

    ``bands``: the band names the scorecards define; ``segments``: the segments
    ``segments.yaml`` assigns (each checked when given)."""
    playbooks: list[Playbook] = []
    problems: list[str] = []
    templates = template_dirs(config_dir)
    for path in playbook_files(config_dir):
        try:
            playbooks.append(load_playbook_file(path, templates, bands, segments))
        except PlaybookError as exc:
            problems.extend(exc.problems)
    names = [p.name for p in playbooks]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(_("playbook name {name!r} is used by more than one file", name=name))
    if problems:
        raise PlaybookError(problems)
    return sorted(playbooks, key=lambda p: p.name)


def load_playbook_file(
    path: Path,
    templates: list[Path] | None = None,
    bands: set[str] | None = None,
    segments: set[str] | None = None,
) -> Playbook:
    loaded = read_model(path, Playbook, PlaybookError, whole="(playbook)", hidden=_is_union_tag)
    playbook = loaded.model
    problems = [
        loaded.problem(loc, reason)
        for loc, reason in _references(playbook, templates or template_dirs(None), bands)
    ]
    if segments is not None:
        problems += [
            loaded.problem(["conditions", "segment"], f"unknown segment {name!r} (segments.yaml)")
            for name in playbook.conditions.segment or []
            if name not in segments
        ]
    if problems:
        raise PlaybookError(problems)
    return playbook


def _is_union_tag(part: Any) -> bool:
    """Pydantic puts a union member's tag in error locations; the YAML has no such key."""
    return isinstance(part, str) and part in _UNION_TAGS


_UNION_TAGS = frozenset(
    {
        "AssignMember",
        "AssignRoundRobin",
        "literal['owner']",
        *(get_args(t.model_fields["type"].annotation)[0] for t in get_args(get_args(Trigger)[0])),
    }
)


def _references(
    playbook: Playbook, templates: list[Path], bands: set[str] | None
) -> list[tuple[list[Any], str]]:
    """What the playbook refers to that does not exist: ``(location, reason)`` pairs."""
    out: list[tuple[list[Any], str]] = []
    trigger = playbook.trigger
    if bands is not None:
        if isinstance(trigger, HealthBandChanged):
            for key, names in (("to", [trigger.to]), ("from", trigger.from_ or [])):
                out += [(["trigger", key], f"unknown band {b!r}") for b in names if b not in bands]
        if isinstance(trigger, InHealthBand) and trigger.band not in bands:
            out.append((["trigger", "band"], f"unknown band {trigger.band!r}"))
    if isinstance(trigger, MeasureReached) and trigger.measure not in MEASURES:
        out.append((["trigger", "measure"], f"unknown health measure {trigger.measure!r}"))
        for b in playbook.conditions.band or []:
            if b not in bands:
                out.append((["conditions", "band"], f"unknown band {b!r}"))
    for i, action in enumerate(playbook.actions):
        where: list[Any] = ["actions", i, action.kind]
        if action.email is not None:
            if action.email.to not in CONTACT_ROLES:
                out.append(([*where, "to"], f"unknown contact role {action.email.to!r}"))
            out += [
                ([*where, "template"], r)
                for r in template_problems(action.email.template, templates)
            ]
        if action.send_survey is not None:
            out += _survey_problems(action.send_survey, where)
        for url_action in (action.slack, action.webhook):
            if url_action is None:
                continue
            if url_action.url_env and not os.environ.get(url_action.url_env):
                out.append(
                    ([*where, "url_env"], f"environment variable {url_action.url_env} is not set")
                )
        if action.webhook is not None and action.webhook.secret_env:
            if not os.environ.get(action.webhook.secret_env):
                out.append(
                    (
                        [*where, "secret_env"],
                        f"environment variable {action.webhook.secret_env} is not set",
                    )
                )
        if action.slack is not None:
            for lang, source in action.slack.text.items():
                out += [([*where, "text", lang], r) for r in _source_problems(source)]
        for text_field in _texts(action):
            if not text_field:
                out.append((where, "a text needs at least one of en or ja"))
    return out


def _texts(action: Action) -> list[dict[str, str]]:
    if action.cta is not None:
        return [action.cta.title, *(t.title for t in action.cta.tasks)]  # type: ignore[list-item]
    if action.slack is not None:
        return [action.slack.text]  # type: ignore[list-item]
    return []


# ---------------------------------------------------------------- templates


def template_dirs(config_dir: Path | None) -> list[Path]:
    """Where templates are looked up, the user's first."""
    dirs = [config_dir / "templates"] if config_dir else []
    return [*dirs, PACKAGED_TEMPLATES]


def template_path(name: str, lang: str, templates: list[Path]) -> Path | None:
    """The email template ``name`` in ``lang``, or None."""
    for base in templates:
        path = base / "email" / f"{name}.{lang}.txt"
        if path.exists():
            return path
    return None


def template_problems(name: str, templates: list[Path]) -> list[str]:
    """Why email template ``name`` cannot be used (empty when it can)."""
    found = {lang: template_path(name, lang, templates) for lang in LANGUAGES}
    if not any(found.values()):
        return [f"unknown email template {name!r} (no {name}.en.txt or {name}.ja.txt)"]
    problems = []
    for path in found.values():
        if path is None:
            continue
        source = path.read_text(encoding="utf-8")
        if not source.startswith("Subject:"):
            problems.append(f"{path.name}: the first line must be 'Subject: ...'")
        problems += [f"{path.name}: {p}" for p in _source_problems(source)]
    return problems


def _survey_problems(action: SendSurveyAction, where: list[Any]) -> list[tuple[list[Any], str]]:
    out: list[tuple[list[Any], str]] = []
    if action.to not in CONTACT_ROLES:
        out.append(([*where, "to"], f"unknown contact role {action.to!r}"))
    try:
        surveys = load_surveys().surveys
    except SurveysError as exc:
        return [*out, ([*where, "survey"], f"surveys.yaml is invalid: {exc.problems[0]}")]
    if action.survey not in surveys:
        names = ", ".join(sorted(surveys))
        reason = f"unknown survey {action.survey!r} (surveys.yaml: {names})"
        out.append(([*where, "survey"], reason))
    return out


def _source_problems(source: str) -> list[str]:
    """Syntax errors and variables Banso does not provide, in a Jinja2 template source."""
    env = jinja2.Environment(autoescape=False)
    try:
        ast = env.parse(source)
    except jinja2.TemplateSyntaxError as exc:
        return [f"template line {exc.lineno}: {exc.message}"]
    unknown = sorted(jinja2.meta.find_undeclared_variables(ast) - TEMPLATE_VARIABLES)
    return [f"unknown template variable {name!r}" for name in unknown]


__all__ = [
    "CTA_PRIORITIES",
    "CTA_TYPES",
    "Action",
    "Conditions",
    "CtaAction",
    "Playbook",
    "PlaybookError",
    "Trigger",
    "load_playbooks",
]
