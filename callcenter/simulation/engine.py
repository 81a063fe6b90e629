"""Discrete-event simulation of callers and operators around the ACD, on a virtual clock.

The engine owns only the behaviour of people: when callers arrive, how long they would wait, how long they
talk, when operators pause. Every routing decision is the ACD's (through :class:`SimulatedAcd`, which the
Redis adapter implements with the real Lua scripts): the engine asks for offers whenever a caller arrives or an
operator becomes free, and simulated operators accept at once (no ring time) so that the model is Erlang's.
"""

from __future__ import annotations

import heapq
import logging
import math
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from callcenter.domain.events import CallEvent
from callcenter.domain.operator import OperatorState
from callcenter.simulation.sampling import CallerDraws
from callcenter.simulation.scenario import NEVER, Scenario

logger = logging.getLogger(__name__)

TIMER_SLACK = 1e-3  # the ACD stores deadlines to the microsecond: tick a millisecond after, never before
STRANDED_AFTER = 7 * 86400.0  # virtual seconds without progress after the last arrival: stop, calls stranded


class SimulatedAcd(Protocol):
    """What the simulation needs from the ACD; every method takes the virtual ``now``."""

    def start(self, operators: Iterable[str], now: float) -> None:
        """Load the configuration and log every operator in (available)."""

    def enqueue(self, call_id: str, queue: str, now: float) -> None: ...

    def offers(self, now: float) -> list[tuple[str, str]]:
        """Reserve operators for waiting calls: (call_id, operator) pairs."""

    def connect(self, call_id: str, operator: str, now: float) -> None: ...

    def hang_up(self, call_id: str, now: float) -> None:
        """The conversation ends (the operator moves to wrap-up, or straight back when it is 0)."""

    def finish_wrap_up(self, operator: str, now: float) -> None: ...

    def abandon(self, call_id: str, now: float) -> None: ...

    def pause(self, operator: str, now: float) -> None: ...

    def resume(self, operator: str, now: float) -> None: ...

    def expire(self, now: float) -> None:
        """Let the ACD apply its timers (max wait) due at ``now``."""

    def events(self) -> Iterable[CallEvent]:
        """Every event the ACD journaled, oldest first."""


@dataclass
class _Caller:
    queue: str
    handle_time: float
    operator: str = ""


@dataclass
class SimulationRun:
    """What the engine knows that the journal does not: the clock and the operators' staffed time."""

    arrivals: int
    warmup_until: float  # calls entering the queue before this are left out of the KPIs
    ended_at: float
    staffed_seconds: float  # the engine's own count of logged-in time off break (the journal's must agree)
    wall_seconds: float
    stranded: int = 0  # calls still waiting when the run stopped (nobody could ever serve them)


@dataclass
class _Operator:
    state: OperatorState = OperatorState.AVAILABLE  # the engine's mirror of the ACD's state
    break_due: bool = False
    breaks: list[tuple[float, float]] = field(default_factory=list)


class Simulation:
    """One run of a scenario against an ACD."""

    def __init__(self, scenario: Scenario, acd: SimulatedAcd):
        self.scenario = scenario
        self.acd = acd
        self._draws = {name: CallerDraws(scenario.seed, name, q) for name, q in scenario.queues.items()}
        self._break_rules = scenario.breaks_of()
        self._operators = {seed.username: _Operator() for seed in scenario.operator_seeds()}
        self._heap: list[tuple[float, int, Callable[[float, str], None], str]] = []
        self._seq = 0
        self._callers: dict[str, _Caller] = {}
        self._waiting: set[str] = set()
        self._free_operators = set(self._operators)
        self._engaged = 0  # operators busy or in wrap-up
        self._arrivals = 0
        self._warmup_until = 0.0
        self._progress_at = 0.0

    def run(self) -> SimulationRun:
        """Simulate until every generated caller has been answered, has abandoned or has timed out."""
        started = time.perf_counter()
        self.acd.start(self._operators, 0.0)
        for queue in self.scenario.queues:
            self._schedule(self._draws[queue].interarrival(), self._arrive, queue)
        self._schedule_first_breaks()
        now = self._loop()
        run = SimulationRun(
            arrivals=self._arrivals,
            warmup_until=self._warmup_until,
            ended_at=now,
            staffed_seconds=self._staffed_seconds(now),
            wall_seconds=time.perf_counter() - started,
            stranded=len(self._waiting),
        )
        logger.info("simulated %d calls in %.1f s of wall time", run.arrivals, run.wall_seconds)
        return run

    def _loop(self) -> float:
        now = 0.0
        while self._heap:
            now, _, handler, subject = heapq.heappop(self._heap)
            handler(now, subject)
            if self._finished(now):
                break
        return now

    def _finished(self, now: float) -> bool:
        if self._arrivals < self.scenario.calls:
            return False
        if self._engaged:
            return False
        return not self._waiting or now - self._progress_at > STRANDED_AFTER

    def _schedule(self, at: float, handler: Callable[[float, str], None], subject: str) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (at, self._seq, handler, subject))

    # -- callers ---------------------------------------------------------------------------------------------
    def _arrive(self, now: float, queue: str) -> None:
        if self._arrivals >= self.scenario.calls:
            return
        self._arrivals += 1
        call_id = f"sim-{self._arrivals:07d}"
        if self._arrivals == self.scenario.warmup_calls + 1:
            self._warmup_until = now
        draws = self._draws[queue]
        self._callers[call_id] = _Caller(queue, draws.handle_time())
        self.acd.enqueue(call_id, queue, now)
        self._waiting.add(call_id)
        self._schedule_patience(now, call_id, draws.patience())
        self._schedule(now + draws.interarrival(), self._arrive, queue)
        if self._free_operators:
            self._dispatch(now)

    def _schedule_patience(self, now: float, call_id: str, patience: float) -> None:
        if math.isfinite(patience):
            self._schedule(now + patience, self._give_up, call_id)
        max_wait = self.scenario.queues[self._callers[call_id].queue].max_wait_seconds
        if max_wait < NEVER and max_wait < patience:
            self._schedule(now + max_wait + TIMER_SLACK, self._time_out, call_id)

    def _give_up(self, now: float, call_id: str) -> None:
        if call_id in self._waiting:
            self.acd.abandon(call_id, now)
            self._leave_unanswered(call_id)

    def _time_out(self, now: float, call_id: str) -> None:
        if call_id in self._waiting:
            self.acd.expire(now)
            self._leave_unanswered(call_id)

    def _leave_unanswered(self, call_id: str) -> None:
        self._waiting.discard(call_id)
        del self._callers[call_id]

    def _dispatch(self, now: float) -> None:
        """Ask the ACD for offers and accept each at once."""
        for call_id, operator in self.acd.offers(now):
            self.acd.connect(call_id, operator, now)
            self._waiting.discard(call_id)
            self._operators[operator].state = OperatorState.ON_CALL
            self._free_operators.discard(operator)
            self._engaged += 1
            caller = self._callers[call_id]
            caller.operator = operator
            self._progress_at = now
            self._schedule(now + caller.handle_time, self._hang_up, call_id)

    def _hang_up(self, now: float, call_id: str) -> None:
        caller = self._callers.pop(call_id)
        self.acd.hang_up(call_id, now)
        self._progress_at = now
        wrap_up = self.scenario.queues[caller.queue].wrap_up_seconds
        if wrap_up > 0:
            self._operators[caller.operator].state = OperatorState.WRAP_UP
            self._schedule(now + wrap_up, self._wrap_up_done, caller.operator)
        else:
            self._free(now, caller.operator)

    def _wrap_up_done(self, now: float, operator: str) -> None:
        self.acd.finish_wrap_up(operator, now)
        self._free(now, operator)

    def _free(self, now: float, operator: str) -> None:
        state = self._operators[operator]
        if state.state in (OperatorState.ON_CALL, OperatorState.WRAP_UP):
            self._engaged -= 1
        state.state = OperatorState.AVAILABLE
        self._free_operators.add(operator)
        if state.break_due:
            self._start_break(now, operator)
        elif self._waiting:
            self._dispatch(now)

    # -- operator breaks -------------------------------------------------------------------------------------
    def _schedule_first_breaks(self) -> None:
        stagger = random.Random(f"{self.scenario.seed}:breaks")
        for operator, rule in self._break_rules.items():
            self._schedule(stagger.uniform(0, rule.every_seconds), self._break_due, operator)

    def _break_due(self, now: float, operator: str) -> None:
        state = self._operators[operator]
        if state.state is OperatorState.AVAILABLE:
            self._start_break(now, operator)
        else:
            state.break_due = True

    def _start_break(self, now: float, operator: str) -> None:
        state = self._operators[operator]
        self.acd.pause(operator, now)
        state.state, state.break_due = OperatorState.BREAK, False
        self._free_operators.discard(operator)
        duration = self._break_rules[operator].duration_seconds
        state.breaks.append((now, now + duration))
        self._schedule(now + duration, self._end_break, operator)

    def _end_break(self, now: float, operator: str) -> None:
        self.acd.resume(operator, now)
        self._schedule(now + self._break_rules[operator].every_seconds, self._break_due, operator)
        self._free(now, operator)

    def _staffed_seconds(self, now: float) -> float:
        """Logged-in time outside breaks within [warmup_until, now], over every operator."""
        start = self._warmup_until
        total = len(self._operators) * max(0.0, now - start)
        for state in self._operators.values():
            total -= sum(max(0.0, min(end, now) - max(begin, start)) for begin, end in state.breaks)
        return total
