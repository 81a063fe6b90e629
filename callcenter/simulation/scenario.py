"""A simulation scenario: who calls which queue how often, how long calls last, who answers.

Read from YAML (validated like the hotline file, errors with their line) or built from the single-queue options
of ``callcenter simulate``. :meth:`Scenario.hotline` turns it into the hotline the real ACD routes with.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from callcenter.hotline import Hotline, KpiConfig, OperatorSeed, QueueConfig, Strategy
from callcenter.yamlsrc import ConfigError, load_yaml

ServiceDistribution = Literal["exponential", "lognormal", "constant"]
NEVER = 10**9  # a max wait no simulated caller reaches (the Erlang models have none)
OPERATOR_PREFIX = "sim"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ServiceTime(_Model):
    """Handle (talk) time of a call: its mean is the queue's ``aht_seconds``."""

    distribution: ServiceDistribution = "exponential"
    cv: float = Field(1.0, gt=0, description="lognormal only: standard deviation / mean")


class QueueScenario(_Model):
    """Callers of one queue and the queue's routing rules."""

    arrival_rate_per_hour: float = Field(gt=0)
    aht_seconds: float = Field(gt=0)
    service: ServiceTime = ServiceTime()
    patience_seconds: float = Field(0.0, ge=0, description="mean exponential patience; 0 = never abandons")
    strategy: Strategy = "longest_idle"
    priority: int = 0
    skills: dict[str, int] = Field(default_factory=dict)
    wrap_up_seconds: int = Field(0, ge=0)
    max_wait_seconds: int = Field(NEVER, ge=10)

    @property
    def arrival_rate(self) -> float:
        """Calls per second."""
        return self.arrival_rate_per_hour / 3600.0

    @property
    def patience(self) -> float | None:
        """Mean patience in seconds, None for callers who never give up."""
        return self.patience_seconds or None


class Breaks(_Model):
    """Each operator of the group pauses ``duration_seconds`` every ``every_seconds`` of work."""

    every_seconds: float = Field(gt=0)
    duration_seconds: float = Field(gt=0)


class OperatorGroup(_Model):
    count: int = Field(ge=1)
    queues: tuple[str, ...]
    skills: dict[str, int] = Field(default_factory=dict)
    breaks: Breaks | None = None


class Scenario(_Model):
    """The whole scenario file (see the README's simulation chapter)."""

    seed: int = 1
    calls: int = Field(1000, ge=1, description="arrivals to simulate, over all queues")
    warmup_calls: int = Field(0, ge=0, description="first arrivals left out of the KPIs")
    kpi: KpiConfig = KpiConfig(short_abandon_seconds=0)
    skills: tuple[str, ...] = ()
    queues: dict[str, QueueScenario]
    operators: tuple[OperatorGroup, ...]

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        if self.warmup_calls >= self.calls:
            raise ValueError("warmup_calls: must be fewer than calls")
        try:
            self.hotline()
        except ValidationError as exc:  # unknown queues or skills, worded as the hotline file would
            raise ValueError("; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())) from None
        return self

    def hotline(self) -> Hotline:
        """The hotline the ACD runs: one queue per scenario queue, one operator per simulated seat."""
        queues = {name: _queue_config(q) for name, q in self.queues.items()}
        return Hotline(skills=self.skills, queues=queues, operators=self.operator_seeds(), kpi=self.kpi)

    def seats(self) -> list[tuple[str, OperatorGroup]]:
        """Every simulated operator, ``sim001``, ``sim002``... in group order, with their group."""
        groups = [group for group in self.operators for _ in range(group.count)]
        return [(f"{OPERATOR_PREFIX}{i:03d}", group) for i, group in enumerate(groups, start=1)]

    def operator_seeds(self) -> tuple[OperatorSeed, ...]:
        """The hotline-file operators of the seats."""
        return tuple(
            OperatorSeed(username=name, name=name, queues=group.queues, skills=group.skills)
            for name, group in self.seats()
        )

    def breaks_of(self) -> dict[str, Breaks]:
        """Break rules by operator name (operators without breaks are left out)."""
        return {name: group.breaks for name, group in self.seats() if group.breaks is not None}

    @property
    def operator_count(self) -> int:
        return sum(group.count for group in self.operators)


def _queue_config(queue: QueueScenario) -> QueueConfig:
    return QueueConfig(
        strategy=queue.strategy,
        priority=queue.priority,
        skills=queue.skills,
        wrap_up_seconds=queue.wrap_up_seconds,
        max_wait_seconds=queue.max_wait_seconds,
        on_max_wait="hangup",
        when_empty="wait",
        priority_aging_seconds=0,
    )


def single_queue(
    operators: int,
    arrival_rate_per_hour: float,
    aht_seconds: float,
    calls: int,
    seed: int = 1,
    patience_seconds: float = 0.0,
    service: ServiceDistribution = "exponential",
    strategy: Strategy = "longest_idle",
    threshold_seconds: int = 20,
    warmup_calls: int = 0,
) -> Scenario:
    """The scenario of the command-line options: one queue, identical operators, no wrap-up, no breaks."""
    queue = QueueScenario(
        arrival_rate_per_hour=arrival_rate_per_hour,
        aht_seconds=aht_seconds,
        service=ServiceTime(distribution=service),
        patience_seconds=patience_seconds,
        strategy=strategy,
    )
    return Scenario(
        seed=seed,
        calls=calls,
        warmup_calls=warmup_calls,
        kpi=KpiConfig(service_level_threshold_seconds=threshold_seconds, short_abandon_seconds=0),
        queues={"main": queue},
        operators=(OperatorGroup(count=operators, queues=("main",)),),
    )


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file; ConfigError lists every problem with its line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read scenario file: {exc.strerror}") from exc
    source = load_yaml(text, str(path))
    try:
        return Scenario.model_validate(source.data)
    except ValidationError as exc:
        problems = [f"{source.where(list(e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise ConfigError("\n".join(problems)) from None
