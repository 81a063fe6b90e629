"""Random draws of the simulation: Poisson arrivals, handle times, patience, each from its own seeded stream.

Separate streams per queue and purpose keep runs comparable across what-ifs (common random numbers): adding an
operator changes who answers, not when callers arrive nor how long they would talk.
"""

from __future__ import annotations

import math
import random

from callcenter.simulation.scenario import QueueScenario


class CallerDraws:
    """The draws of one queue's callers."""

    def __init__(self, seed: int, queue: str, scenario: QueueScenario):
        self._scenario = scenario
        self._arrivals = random.Random(f"{seed}:{queue}:arrivals")
        self._service = random.Random(f"{seed}:{queue}:service")
        self._patience = random.Random(f"{seed}:{queue}:patience")

    def interarrival(self) -> float:
        """Poisson arrivals: exponential gaps of mean 1 / rate."""
        return self._arrivals.expovariate(self._scenario.arrival_rate)

    def handle_time(self) -> float:
        """A talk time of mean ``aht_seconds`` under the queue's distribution."""
        mean = self._scenario.aht_seconds
        service = self._scenario.service
        if service.distribution == "constant":
            return mean
        if service.distribution == "lognormal":
            sigma2 = math.log1p(service.cv**2)
            return self._service.lognormvariate(math.log(mean) - sigma2 / 2, math.sqrt(sigma2))
        return self._service.expovariate(1.0 / mean)

    def patience(self) -> float:
        """How long this caller would wait: exponential of the configured mean, infinite when it is 0."""
        mean = self._scenario.patience
        return math.inf if mean is None else self._patience.expovariate(1.0 / mean)
