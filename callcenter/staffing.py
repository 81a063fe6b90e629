"""Staffing maths: Erlang C (infinite patience) and Erlang A (Palm's M/M/N+M, exponential patience).

Units: ``arrival_rate`` in calls per second, ``aht`` (mean handle time), ``threshold``, ``patience`` and
``short_abandon`` in seconds. Everything is computed in log space or by bounded quadrature, so it stays exact
to double precision for thousands of operators (no factorials, no overflow).

Erlang A, derived once here so the code can stay short. With ``x = N*mu/theta`` and ``y = lambda/theta``,
a caller who finds every operator busy would wait (if infinitely patient) a time V with density
``h(t) / A``, ``h(t) = N*mu * exp(-N*mu*t + y*(1 - exp(-theta*t)))`` and ``A = integral of h`` (Mandelbaum
and Zeltyn's A(x, y)). With Erlang B ``E = B(N, lambda/mu)``, ``P(wait) = A*E / (1 + (A-1)*E)``. The caller's
own patience tau ~ Exp(theta) ends the wait first with probability ``1 - exp(-theta*V)``, so every KPI is
``P(wait) * E[g(V)]`` for a smooth g: answered within T is ``V <= T and tau > V``, ASA is
``E[V; tau > V] / P(answered)``, an abandon after s seconds is ``s <= tau < V``. h is log-concave, so the
integrals are taken by Gauss-Legendre over the interval where h is within e^-45 of its maximum.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from callcenter.domain.kpi import ServiceLevelVariant

_LOG_CUT = 45.0  # integrand below e^-45 of its peak is ignored (relative error ~1e-19)
_PANELS = 96
_GL_NODES = (
    (-0.9602898564975363, 0.1012285362903763),
    (-0.7966664774136267, 0.2223810344533745),
    (-0.5255324099163290, 0.3137066458778873),
    (-0.1834346424956498, 0.3626837833783620),
    (0.1834346424956498, 0.3626837833783620),
    (0.5255324099163290, 0.3137066458778873),
    (0.7966664774136267, 0.2223810344533745),
    (0.9602898564975363, 0.1012285362903763),
)
MAX_AGENTS = 1_000_000


class UnreachableTargetError(ValueError):
    """No staffing level up to MAX_AGENTS reaches the target service level."""


@dataclass(frozen=True)
class Prediction:
    """What the model predicts for one staffing level; probabilities are per offered call."""

    agents: int
    load: float  # offered load in Erlangs: arrival_rate * aht
    p_wait: float  # a caller finds every operator busy
    p_answered: float
    p_abandon: float
    p_long_abandon: float  # abandoned after waiting at least short_abandon seconds
    answered_within: float  # answered after waiting at most threshold seconds
    asa: float  # mean wait of answered calls, seconds
    occupancy: float  # busy operators / agents

    def service_level(self, variant: ServiceLevelVariant = "answered_and_long_abandoned") -> float:
        """The service level under one of the KPI conventions of callcenter.domain.kpi."""
        denominators = {
            "answered_and_long_abandoned": self.p_answered + self.p_long_abandon,
            "offered": 1.0,
            "answered_only": self.p_answered,
        }
        denominator = denominators[variant]
        return self.answered_within / denominator if denominator > 0 else 1.0


def offered_load(arrival_rate: float, aht: float) -> float:
    """Offered traffic in Erlangs: calls per second times seconds per call."""
    return arrival_rate * aht


def log_erlang_b(agents: int, load: float) -> float:
    """log of the Erlang B blocking probability, by the recurrence 1/B(n) = 1 + n/(a*B(n-1)) in log space."""
    if load <= 0:
        return 0.0 if agents == 0 else -math.inf
    log_inverse = 0.0
    log_load = math.log(load)
    for n in range(1, agents + 1):
        log_inverse = _logaddexp(0.0, math.log(n) - log_load + log_inverse)
    return -log_inverse


def erlang_b(agents: int, load: float) -> float:
    """Probability that a call finds all ``agents`` busy in a loss system (no waiting room)."""
    return math.exp(log_erlang_b(agents, load))


def erlang_c(agents: int, load: float) -> float:
    """Probability of waiting in M/M/N with infinite patience: N*B / (N - a*(1-B)); 1 when overloaded."""
    if load >= agents:
        return 1.0
    log_b = log_erlang_b(agents, load)
    return math.exp(math.log(agents) + log_b - math.log(agents - load + load * math.exp(log_b)))


def erlang_c_prediction(arrival_rate: float, aht: float, agents: int, threshold: float) -> Prediction:
    """Erlang C: P(wait > t) = C * exp(-(N - a) * t / aht), ASA = C * aht / (N - a), occupancy a / N."""
    load = offered_load(arrival_rate, aht)
    if load >= agents:
        return Prediction(agents, load, 1.0, 1.0, 0.0, 0.0, 0.0, math.inf, 1.0)
    p_wait = erlang_c(agents, load)
    within = 1.0 - p_wait * math.exp(-(agents - load) * threshold / aht)
    asa = p_wait * aht / (agents - load)
    return Prediction(agents, load, p_wait, 1.0, 0.0, 0.0, within, asa, load / agents)


def erlang_a_prediction(
    arrival_rate: float,
    aht: float,
    agents: int,
    patience: float,
    threshold: float,
    short_abandon: float = 0.0,
) -> Prediction:
    """Erlang A (M/M/N+M): callers abandon after an exponential patience of mean ``patience`` seconds."""
    load = offered_load(arrival_rate, aht)
    model = _ErlangA(arrival_rate, agents / aht, 1.0 / patience)
    p_wait = model.p_wait(log_erlang_b(agents, load))
    parts = model.integrals(threshold, short_abandon)
    p_answered = 1.0 - p_wait + p_wait * parts.served
    asa = p_wait * parts.served_wait / p_answered if p_answered > 0 else 0.0
    return Prediction(
        agents=agents,
        load=load,
        p_wait=p_wait,
        p_answered=p_answered,
        p_abandon=p_wait * (1.0 - parts.served),
        p_long_abandon=p_wait * parts.long_abandon,
        answered_within=1.0 - p_wait + p_wait * parts.served_within,
        asa=asa,
        occupancy=min(1.0, arrival_rate * p_answered * aht / agents),
    )


def predict(
    arrival_rate: float,
    aht: float,
    agents: int,
    threshold: float,
    patience: float | None = None,
    short_abandon: float = 0.0,
) -> Prediction:
    """Erlang C when ``patience`` is None (callers never give up), else Erlang A."""
    if patience is None:
        return erlang_c_prediction(arrival_rate, aht, agents, threshold)
    return erlang_a_prediction(arrival_rate, aht, agents, patience, threshold, short_abandon)


def required_staff(
    arrival_rate: float,
    aht: float,
    threshold: float,
    target_sl: float,
    patience: float | None = None,
    short_abandon: float = 0.0,
    variant: ServiceLevelVariant = "answered_and_long_abandoned",
) -> int:
    """The fewest operators whose predicted service level (``variant``) reaches ``target_sl``.

    The service level grows with the staff, so an exponential then binary search needs O(log N) evaluations.
    """

    def meets(agents: int) -> bool:
        prediction = predict(arrival_rate, aht, agents, threshold, patience, short_abandon)
        return prediction.service_level(variant) >= target_sl

    low = _stable_minimum(arrival_rate, aht, patience) - 1  # fails (or is zero) by construction
    high = max(low + 1, 1)
    while not meets(high):
        low, high = high, high * 2
        if high > MAX_AGENTS:
            raise UnreachableTargetError(f"no staff up to {MAX_AGENTS} reaches service level {target_sl}")
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if meets(middle) else (middle, high)
    return high


def staffing_table(
    arrival_rate: float,
    aht: float,
    threshold: float,
    target_sl: float,
    patience: float | None = None,
    short_abandon: float = 0.0,
    below: int = 5,
    above: int = 3,
) -> tuple[int, list[Prediction]]:
    """The required staff and the predictions from ``below`` operators fewer to ``above`` more."""
    required = required_staff(arrival_rate, aht, threshold, target_sl, patience, short_abandon)
    first = max(_stable_minimum(arrival_rate, aht, patience), required - below)
    rows = [
        predict(arrival_rate, aht, agents, threshold, patience, short_abandon)
        for agents in range(first, required + above + 1)
    ]
    return required, rows


def _stable_minimum(arrival_rate: float, aht: float, patience: float | None) -> int:
    """Erlang C needs more operators than the load; Erlang A is stable with any staff."""
    if patience is None:
        return math.floor(offered_load(arrival_rate, aht)) + 1
    return 1


@dataclass(frozen=True)
class _Integrals:
    """E[g(V)] given that the caller waits, for the g's the KPIs need (see the module docstring)."""

    served: float  # E[exp(-theta V)]
    served_within: float  # E[exp(-theta V); V <= T]
    served_wait: float  # E[V exp(-theta V)]
    long_abandon: float  # E[exp(-theta s) - exp(-theta V); V > s]


@dataclass(frozen=True)
class _ErlangA:
    arrival_rate: float
    service_capacity: float  # N * mu: completions per second while every operator is busy
    theta: float  # abandonment rate of one waiting caller: 1 / mean patience

    def log_h(self, t: float) -> float:
        """log h(t) with y*(1 - e^{-theta t}) taken through expm1 so long patience keeps its precision."""
        drift = -(self.arrival_rate / self.theta) * math.expm1(-self.theta * t)
        return math.log(self.service_capacity) - self.service_capacity * t + drift

    def mode(self) -> float:
        """h peaks where lambda * e^{-theta t} = N*mu (at 0 when the staff exceeds the arrivals)."""
        if self.arrival_rate <= self.service_capacity:
            return 0.0
        return math.log(self.arrival_rate / self.service_capacity) / self.theta

    def p_wait(self, log_b: float) -> float:
        """P(wait) = A*E / (1 + (A-1)*E) = 1 / (1 + (1-E) / (A*E)), evaluated from logs."""
        log_ae = self._log_a() + log_b
        if -log_ae > 700:
            return 0.0
        return 1.0 / (1.0 + (1.0 - math.exp(log_b)) * math.exp(-log_ae))

    def _log_a(self) -> float:
        peak = self.log_h(self.mode())
        return peak + math.log(self._integrate(lambda t, w: w, peak))

    def integrals(self, threshold: float, short_abandon: float) -> _Integrals:
        peak = self.log_h(self.mode())
        theta = self.theta

        def moment(g: Callable[[float, float], float], start: float = 0.0, end: float = math.inf) -> float:
            return self._integrate(g, peak, start, end)

        def served(t: float, w: float) -> float:
            return w * math.exp(-theta * t)

        total = moment(lambda t, w: w)
        return _Integrals(
            served=moment(served) / total,
            served_within=moment(served, end=threshold) / total,
            served_wait=moment(lambda t, w: t * served(t, w)) / total,
            long_abandon=moment(lambda t, w: _late_abandon(w, t, short_abandon, theta), start=short_abandon) / total,
        )

    def _integrate(
        self, g: Callable[[float, float], float], peak: float, start: float = 0.0, end: float = math.inf
    ) -> float:
        """Integral over [start, end] of g(t, h(t) / e^peak), Gauss-Legendre between the cut-offs."""
        low, high = self._support(peak)
        low, high = max(low, start), min(high, end)
        if high <= low:
            return 0.0
        width = (high - low) / _PANELS
        total = 0.0
        for panel in range(_PANELS):
            centre = low + (panel + 0.5) * width
            for node, weight in _GL_NODES:
                t = centre + node * width / 2
                total += weight * g(t, math.exp(self.log_h(t) - peak))
        return total * width / 2

    def _support(self, peak: float) -> tuple[float, float]:
        """The interval where log h >= peak - _LOG_CUT (an interval, h being log-concave)."""
        mode = self.mode()
        floor = peak - _LOG_CUT - self.theta * mode  # also covers h*e^{-theta t}, which peaks earlier
        low = 0.0 if self.log_h(0.0) >= floor else _bisect(self.log_h, floor, 0.0, mode)
        step = max(1.0 / self.service_capacity, 1e-9)
        high = mode + step
        while self.log_h(high) >= peak - _LOG_CUT:
            step *= 2
            high = mode + step
        return low, _bisect(self.log_h, peak - _LOG_CUT, high, mode)


def _late_abandon(weight: float, t: float, short_abandon: float, theta: float) -> float:
    """Weight of ``short_abandon <= tau < t`` for tau ~ Exp(theta)."""
    return weight * math.exp(-theta * short_abandon) * -math.expm1(-theta * (t - short_abandon))


def _bisect(f: Callable[[float], float], level: float, below: float, above: float) -> float:
    """The point between ``below`` (f < level) and ``above`` (f >= level) where f crosses ``level``."""
    for _ in range(100):
        middle = (below + above) / 2
        below, above = (below, middle) if f(middle) >= level else (middle, above)
    return (below + above) / 2


def _logaddexp(a: float, b: float) -> float:
    high, low = (a, b) if a >= b else (b, a)
    return high + math.log1p(math.exp(low - high))
