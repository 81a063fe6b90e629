"""The hotline file: queues, skills, operators, business hours, IVR, survey, KPI conventions.

Validated with pydantic; every error is reported with the file, line and dotted key it concerns.
"""

from __future__ import annotations

import datetime as dt
import re
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from callcenter.yamlsrc import ConfigError, YamlSource, load_yaml
from ivr.flow import validate_hotline_flow

Strategy = Literal["longest_idle", "round_robin", "fewest_calls", "least_talk_time", "ring_all", "random"]
EmptyAction = Literal["wait", "overflow", "voicemail", "callback"]
TimeoutAction = Literal["overflow", "voicemail", "callback", "hangup"]
Role = Literal["operator", "lead", "admin"]
_SPAN = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class HotlineInfo(_Model):
    name: str = "Support hotline"
    languages: tuple[str, ...] = ("hu", "en")
    default_language: str = "hu"
    timezone: str = "Europe/Budapest"


class QueueConfig(_Model):
    """Routing rules of one queue (DESIGN.md, ACD semantics)."""

    title: dict[str, str] = Field(default_factory=dict)
    priority: int = 0
    strategy: Strategy = "longest_idle"
    skills: dict[str, int] = Field(default_factory=dict)
    prefer_higher_skill: bool = False
    ring_timeout_seconds: int = Field(20, ge=5, le=120)
    wrap_up_seconds: int = Field(30, ge=0, le=3600)
    max_wait_seconds: int = Field(600, ge=10)
    on_max_wait: TimeoutAction = "voicemail"
    max_waiting: int = Field(500, ge=1)  # callers held at most; more go to on_max_wait at once
    when_empty: EmptyAction = "wait"
    overflow_queue: str | None = None
    max_missed: int = Field(3, ge=1)
    priority_aging_seconds: int = Field(60, ge=0)
    service_level_threshold_seconds: int = Field(20, ge=1)
    service_level_target: float = Field(0.8, gt=0, le=1)
    second_level: bool = False


class OperatorSeed(_Model):
    """An operator the hotline file creates on first start (demo and bootstrap accounts)."""

    username: str = Field(pattern=r"^[A-Za-z0-9_]{1,64}$")
    name: str
    role: Role = "operator"
    password: str | None = None
    team: str = "first-level"
    queues: tuple[str, ...] = ()
    skills: dict[str, int] = Field(default_factory=dict)
    languages: tuple[str, ...] = ("hu", "en")
    softphone: str = ""


class BusinessHours(_Model):
    timezone: str = "Europe/Budapest"
    weekly: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    holidays: tuple[dt.date, ...] = ()

    @field_validator("weekly")
    @classmethod
    def _spans(cls, weekly: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for day, spans in weekly.items():
            if day not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r}; use one of {', '.join(WEEKDAYS)}")
            for span in spans:
                if not _SPAN.match(span):
                    raise ValueError(f"{day}: {span!r} is not a HH:MM-HH:MM span")
        return weekly


class SurveyQuestion(_Model):
    id: str
    kind: Literal["scale_1_5", "yes_no"] = "scale_1_5"
    prompt: dict[str, str]


class SurveyConfig(_Model):
    enabled: bool = True
    queues: tuple[str, ...] = ()
    sampling_rate: float = Field(1.0, ge=0, le=1)
    sms_when_caller_hung_up: bool = True
    intro: dict[str, str] = Field(default_factory=dict)
    thanks: dict[str, str] = Field(default_factory=dict)
    questions: tuple[SurveyQuestion, ...] = ()


class KpiConfig(_Model):
    service_level_threshold_seconds: int = Field(20, ge=1)
    short_abandon_seconds: int = Field(5, ge=0)
    service_level_variant: Literal["answered_and_long_abandoned", "offered", "answered_only"] = (
        "answered_and_long_abandoned"
    )
    fcr_window_days: int = Field(7, ge=1)
    business_hours_only: bool = False
    timezone: str = "Europe/Budapest"


class Disposition(_Model):
    code: str
    label: dict[str, str] = Field(default_factory=dict)
    resolves: bool = False


class TicketConfig(_Model):
    repeat_link_days: int = Field(7, ge=0)
    auto_close_resolved_after_days: int = Field(3, ge=0)
    dispositions: tuple[Disposition, ...] = ()


class PrivacyConfig(_Model):
    retention_days: int = Field(365, ge=1)  # then callers' numbers, names and recordings are erased


class Hotline(_Model):
    """The whole hotline file."""

    hotline: HotlineInfo = HotlineInfo()
    skills: tuple[str, ...] = ()
    queues: dict[str, QueueConfig] = Field(default_factory=dict)
    operators: tuple[OperatorSeed, ...] = ()
    business_hours: BusinessHours = BusinessHours()
    ivr: dict[str, Any] = Field(default_factory=dict)
    survey: SurveyConfig = SurveyConfig()
    kpi: KpiConfig = KpiConfig()
    tickets: TicketConfig = TicketConfig()
    privacy: PrivacyConfig = PrivacyConfig()

    @model_validator(mode="after")
    def _references(self) -> Hotline:
        for name, queue in self.queues.items():
            _known_skills(self.skills, queue.skills, f"queues.{name}.skills")
            if queue.overflow_queue is not None and queue.overflow_queue not in self.queues:
                raise ValueError(f"queues.{name}.overflow_queue: unknown queue {queue.overflow_queue!r}")
            needs_overflow = "overflow" in (queue.on_max_wait, queue.when_empty)
            if needs_overflow and queue.overflow_queue is None:
                raise ValueError(f"queues.{name}: 'overflow' needs overflow_queue")
        for i, op in enumerate(self.operators):
            for q in op.queues:
                if q not in self.queues:
                    raise ValueError(f"operators.{i}.queues: unknown queue {q!r}")
            _known_skills(self.skills, op.skills, f"operators.{i}.skills")
        return self


def _known_skills(declared: tuple[str, ...], used: dict[str, int], where: str) -> None:
    for skill, level in used.items():
        if skill not in declared:
            raise ValueError(f"{where}: unknown skill {skill!r} (declared: {', '.join(declared)})")
        if not 1 <= level <= 10:
            raise ValueError(f"{where}.{skill}: level must be 1..10, got {level}")


DEMO_FILE = "demo_hotline.yaml"


def demo_text() -> str:
    """The demo hotline shipped with the package (also the documented example)."""
    return resources.files("callcenter").joinpath(DEMO_FILE).read_text(encoding="utf-8")


def load_hotline(path: str | Path | None) -> Hotline:
    """Load and validate a hotline file (the shipped demo when ``path`` is None)."""
    if path is None:
        return parse_hotline(demo_text(), DEMO_FILE)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read hotline file: {exc.strerror}") from exc
    return parse_hotline(text, str(path))


def parse_hotline(text: str, filename: str) -> Hotline:
    """Validate hotline YAML text; raise ConfigError listing every problem with its line."""
    source = load_yaml(text, filename)
    try:
        hotline = Hotline.model_validate(source.data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from None
    _validate_ivr(hotline, source)
    return hotline


def _describe(exc: ValidationError, source: YamlSource) -> str:
    problems = []
    for err in exc.errors():
        path = [p for p in err["loc"] if not isinstance(p, str) or not p.startswith("function-")]
        message = err["msg"].removeprefix("Value error, ")
        dotted = _dotted_path_in(message)
        if dotted:
            message = message.split(": ", 1)[1]
        where = source.where(dotted) if dotted else source.where(path)
        problems.append(f"{where}: {message}")
    return "\n".join(problems)


def _dotted_path_in(message: str) -> list[str | int] | None:
    """Cross-reference errors start with a dotted path; use it to find the line."""
    head = message.split(":", 1)[0]
    if "." not in head or " " in head:
        return None
    return [int(p) if p.isdigit() else p for p in head.split(".")]


def _validate_ivr(hotline: Hotline, source: YamlSource) -> None:
    """Hand the ``ivr`` section to the IVR flow validator (errors name file, line and problem)."""
    validate_hotline_flow(hotline, source)
