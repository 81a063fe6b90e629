"""Batch means: a standard error for a KPI of one long, autocorrelated simulation run.

Consecutive calls are split into ``batches`` equal runs; with batches much longer than the queue's memory
their KPIs are nearly independent, so the spread of the batch values gives the standard error of the whole.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from callcenter.domain.call_summary import CallSummary

# Student t, 9 degrees of freedom (10 batches), two-sided 0.9995: one false alarm in 2,000 comparisons.
# Ten long batches rather than many short ones: near saturation waits stay correlated over hundreds of calls.
T_9 = 4.78


@dataclass(frozen=True)
class Estimate:
    value: float
    stderr: float

    def agrees_with(self, expected: float, t: float = T_9) -> bool:
        return abs(self.value - expected) <= t * self.stderr

    def __str__(self) -> str:
        return f"{self.value:.4f} +/- {self.stderr:.4f}"


def batch_estimate(
    calls: Sequence[CallSummary], kpi: Callable[[Sequence[CallSummary]], float], batches: int = 10
) -> Estimate:
    """The KPI over all calls (in arrival order) with its batch-means standard error."""
    ordered = sorted(calls, key=lambda c: c.enqueued_at or 0.0)
    size = len(ordered) // batches
    values = [kpi(ordered[i * size : (i + 1) * size]) for i in range(batches)]
    return Estimate(kpi(ordered), statistics.stdev(values) / math.sqrt(batches))


def asa(calls: Sequence[CallSummary]) -> float:
    waits = [c.wait_seconds or 0.0 for c in calls if c.answered_at is not None]
    return sum(waits) / len(waits)


def answered_within(threshold: float) -> Callable[[Sequence[CallSummary]], float]:
    def share(calls: Sequence[CallSummary]) -> float:
        hits = sum(1 for c in calls if c.answered_at is not None and (c.wait_seconds or 0.0) <= threshold)
        return hits / len(calls)

    return share


def abandonment(calls: Sequence[CallSummary]) -> float:
    return sum(1 for c in calls if c.outcome == "abandoned") / len(calls)
