"""State of the reference model of the ACD (see :mod:`queueing.routing`); plain data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field

from callcenter.domain.operator import OperatorState


def f6(x: float) -> float:
    """Redis stores the scores the scripts format with six decimals."""
    return float(f"{x:.6f}")


def ordered(scores: dict[str, float]) -> list[str]:
    """Members in sorted-set order: by score, then by name."""
    return [member for member, _ in sorted(scores.items(), key=lambda item: (item[1], item[0]))]


@dataclass
class ModelOperator:
    """An operator of the reference model."""

    configured: tuple[str, ...]
    skills: dict[str, int]
    state: OperatorState = OperatorState.OFFLINE
    reason: str = ""
    serving: tuple[str, ...] = ()
    idle: float = 0.0
    rr: int = 0
    calls: int = 0
    talk: float = 0.0
    missed: int = 0
    call: str = ""
    last_queue: str = ""
    wrap_started: float = 0.0
    handled: float = 0.0


@dataclass
class ModelCall:
    """A live call of the reference model."""

    queue: str
    priority: int
    skills: dict[str, int]
    caller: str
    first_entered: float
    entered: float = 0.0
    score: float = 0.0
    state: str = "waiting"
    ringing: list[str] = field(default_factory=list)
    operator: str = ""
    callback: str = ""
    deadline: float | None = None
    connected_at: float = 0.0


@dataclass
class Candidate:
    """A queue competing for the next offer: its priority and its current head call."""

    queue: str
    priority: int
    skip: int = 0
    call: str | None = None
    score: float = 0.0
    done: bool = False

    def better_than(self, other: Candidate | None) -> bool:
        if other is None:
            return True
        if self.priority != other.priority:
            return self.priority > other.priority
        if self.score != other.score:
            return self.score < other.score
        return self.queue < other.queue


def working(state: OperatorState) -> bool:
    return state not in (OperatorState.OFFLINE, OperatorState.BREAK)
