"""The demo's timer wheel: callbacks due at a real time, run one at a time by the engine's thread.

Only the engine's thread touches the demo's state, so no lock is needed; other threads (the REST server) only
``wake`` it.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

IDLE_SECONDS = 0.2


class Timers:
    """A heap of (due, seq, callback, args)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self._heap: list[tuple[float, int, Callable[..., Any], tuple[Any, ...]]] = []
        self._seq = itertools.count()
        self.wakeup = threading.Event()

    def after(self, seconds: float, callback: Callable[..., Any], *args: Any) -> None:
        heapq.heappush(self._heap, (self.clock() + max(0.0, seconds), next(self._seq), callback, args))

    def wake(self) -> None:
        self.wakeup.set()

    def run_due(self) -> int:
        """Run every callback that is due; one that fails is logged and does not stop the others."""
        ran = 0
        while self._heap and self._heap[0][0] <= self.clock():
            _, _, callback, args = heapq.heappop(self._heap)
            ran += 1
            try:
                callback(*args)
            except Exception:
                logger.exception("demo: %s failed", getattr(callback, "__name__", callback))
        return ran

    def sleep(self) -> None:
        """Until the next timer is due, something wakes us, or IDLE_SECONDS."""
        delay = IDLE_SECONDS if not self._heap else min(IDLE_SECONDS, self._heap[0][0] - self.clock())
        if delay > 0:
            self.wakeup.wait(delay)
        self.wakeup.clear()
