"""A tiny in-memory ACD for testing the simulation engine without Redis: FIFO queues, longest-idle operator.

It journals the same events as the real ACD (ENTER_QUEUE, OFFERED, CONNECTED, COMPLETED_BY_CALLER,
WRAPUP_DONE, ABANDONED, EXIT_TIMEOUT, OPERATOR_STATE) so the KPI path from events to numbers is the production one.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

from callcenter.domain.events import CallEvent, EventType
from callcenter.hotline import Hotline


class MemoryAcd:
    def __init__(self, hotline: Hotline):
        self.hotline = hotline
        self.journal: list[CallEvent] = []
        self._ids = itertools.count(1)
        self._waiting: dict[str, tuple[str, float]] = {}  # call -> (queue, entered)
        self._idle_since: dict[str, float] = {}  # available operators
        self._queue_of_call: dict[str, str] = {}
        self._operator_of_call: dict[str, str] = {}

    def start(self, operators: Iterable[str], now: float) -> None:
        for operator in operators:
            self._idle_since[operator] = now
            self._emit_state(operator, now, "offline", "available")

    def enqueue(self, call_id: str, queue: str, now: float) -> None:
        self._waiting[call_id] = (queue, now)
        self._queue_of_call[call_id] = queue
        self._emit(EventType.ENTER_QUEUE, now, call_id)

    def offers(self, now: float) -> list[tuple[str, str]]:
        pairs = []
        for call_id, (queue, _) in sorted(self._waiting.items(), key=lambda item: item[1][1]):
            eligible = [op for op in self._idle_since if queue in self._queues_of(op)]
            if not eligible:
                continue
            operator = min(eligible, key=lambda op: self._idle_since[op])
            del self._idle_since[operator]
            del self._waiting[call_id]
            self._operator_of_call[call_id] = operator
            self._emit(EventType.OFFERED, now, call_id, operator)
            pairs.append((call_id, operator))
        return pairs

    def connect(self, call_id: str, operator: str, now: float) -> None:
        self._emit(EventType.CONNECTED, now, call_id, operator)

    def hang_up(self, call_id: str, now: float) -> None:
        operator = self._operator_of_call[call_id]
        self._emit(EventType.COMPLETED_BY_CALLER, now, call_id, operator)
        if self.hotline.queues[self._queue_of_call[call_id]].wrap_up_seconds == 0:
            self._emit(EventType.WRAPUP_DONE, now, call_id, operator, seconds=0)
            self._idle_since[operator] = now

    def finish_wrap_up(self, operator: str, now: float) -> None:
        call_id = next(c for c, op in reversed(self._operator_of_call.items()) if op == operator)
        self._emit(EventType.WRAPUP_DONE, now, call_id, operator)
        self._idle_since[operator] = now

    def abandon(self, call_id: str, now: float) -> None:
        del self._waiting[call_id]
        self._emit(EventType.ABANDONED, now, call_id)

    def pause(self, operator: str, now: float) -> None:
        del self._idle_since[operator]
        self._emit_state(operator, now, "available", "break")

    def resume(self, operator: str, now: float) -> None:
        self._idle_since[operator] = now
        self._emit_state(operator, now, "break", "available")

    def expire(self, now: float) -> None:
        for call_id, (queue, entered) in list(self._waiting.items()):
            if entered + self.hotline.queues[queue].max_wait_seconds <= now:
                del self._waiting[call_id]
                self._emit(EventType.EXIT_TIMEOUT, now, call_id)

    def events(self) -> Iterable[CallEvent]:
        return iter(self.journal)

    def _queues_of(self, operator: str) -> tuple[str, ...]:
        return next(seed.queues for seed in self.hotline.operators if seed.username == operator)

    def _emit_state(self, operator: str, now: float, before: str, after: str) -> None:
        data = {"from": before, "to": after}
        self.journal.append(CallEvent(f"e{next(self._ids)}", EventType.OPERATOR_STATE, now, "", "", "", operator, data))

    def _emit(self, kind: EventType, now: float, call_id: str, operator: str = "", **data: Any) -> None:
        queue = self._queue_of_call.get(call_id, "")
        event = CallEvent(f"e{next(self._ids)}", kind, now, call_id, "sim", queue, operator, data)
        self.journal.append(event)
