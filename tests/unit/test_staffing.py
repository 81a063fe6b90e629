"""Erlang C and Erlang A against independent formulas (exact fractions, state sums) and their limits."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.staffing import (
    erlang_a_prediction,
    erlang_b,
    erlang_c,
    erlang_c_prediction,
    log_erlang_b,
    predict,
    required_staff,
    staffing_table,
)

# The textbook example: 100 calls per 30 minutes, 3 minutes each (10 Erlangs), 20 s answer target.
CLASSIC_RATE = 100 / 1800
CLASSIC_AHT = 180.0


def exact_erlang_c(agents: int, load: Fraction) -> Fraction:
    """P(wait) by direct summation of A^k/k! in exact arithmetic (a different formula from the code's)."""
    terms = [load**k / math.factorial(k) for k in range(agents)]
    top = load**agents / math.factorial(agents) * Fraction(agents) / (agents - load)
    return top / (sum(terms, Fraction(0)) + top)


def state_sum_erlang_a(rate: float, aht: float, agents: int, patience: float, threshold: float) -> dict[str, float]:
    """Erlang A by summing the birth-death chain state by state (k callers queued ahead on arrival).

    Given k ahead, exp(-theta V) ~ Beta(N mu/theta, k+1): the waiting time before service is a sum of
    exponential stages of rates N mu + j theta. Expectations per k come from the Beta distribution with an
    integer second parameter (a negative-binomial sum), independently of the code's integral.
    """
    mu, theta = 1 / aht, 1 / patience
    load = rate * aht
    weights = [load**j / math.factorial(j) for j in range(agents + 1)]
    queued = [weights[-1]]
    while queued[-1] > 1e-300 * sum(weights) and len(queued) < 20000:
        queued.append(queued[-1] * rate / (agents * mu + len(queued) * theta))
    norm = math.fsum(weights[:-1]) + math.fsum(queued)
    x, u_t = agents * mu / theta, math.exp(-theta * threshold)
    served = within = wait_served = 0.0
    for k, weight in enumerate(queued):
        p = weight / norm
        rates = [agents * mu + j * theta for j in range(k + 1)]
        served_k = math.prod(r / (r + theta) for r in rates)
        served += p * served_k
        wait_served += p * served_k * sum(1 / (r + theta) for r in rates)
        within += p * x / (x + k + 1) * (1 - _beta_cdf_integer_b(x + 1, k + 1, u_t))
    p_wait = math.fsum(queued) / norm
    mean_queue = math.fsum(k * w for k, w in enumerate(queued)) / norm
    p_answered = 1 - p_wait + served
    return {
        "p_wait": p_wait,
        "p_abandon": theta * mean_queue / rate,
        "p_answered": p_answered,
        "answered_within": 1 - p_wait + within,
        "asa": wait_served / p_answered,
    }


def _beta_cdf_integer_b(a: float, b: int, u: float) -> float:
    """P(Beta(a, b) <= u) for integer b: P(NegBin(a, u) <= b - 1)."""
    log_terms = [
        math.lgamma(a + j) - math.lgamma(a) - math.lgamma(j + 1) + a * math.log(u) + j * math.log1p(-u)
        for j in range(b)
    ]
    return math.fsum(math.exp(t) for t in log_terms)


def test_classic_example_matches_the_published_erlang_c_figures() -> None:
    eleven = erlang_c_prediction(CLASSIC_RATE, CLASSIC_AHT, 11, 20)
    assert eleven.p_wait == pytest.approx(0.6821, abs=5e-5)
    assert eleven.answered_within == pytest.approx(0.3896, abs=5e-5)
    assert eleven.asa == pytest.approx(122.8, abs=0.05)
    assert required_staff(CLASSIC_RATE, CLASSIC_AHT, 20, 0.8) == 14


@pytest.mark.parametrize(("agents", "load"), [(1, Fraction(1, 2)), (5, Fraction(37, 10)), (30, Fraction(27))])
def test_erlang_c_equals_exact_summation(agents: int, load: Fraction) -> None:
    assert erlang_c(agents, float(load)) == pytest.approx(float(exact_erlang_c(agents, load)), rel=1e-12)


def test_erlang_b_is_exact_for_thousands_of_operators() -> None:
    agents, load = 2000, 1900.0
    log_terms = [k * math.log(load) - math.lgamma(k + 1) for k in range(agents + 1)]
    peak = max(log_terms)
    expected = log_terms[-1] - (peak + math.log(math.fsum(math.exp(t - peak) for t in log_terms)))
    assert log_erlang_b(agents, load) == pytest.approx(expected, rel=1e-10)
    assert 0 < erlang_c(agents, load) < 1
    assert erlang_b(10_000, 100.0) == 0.0  # underflows gracefully instead of overflowing


def test_erlang_c_is_certain_waiting_when_overloaded() -> None:
    overloaded = erlang_c_prediction(CLASSIC_RATE, CLASSIC_AHT, 10, 20)
    assert (overloaded.p_wait, overloaded.asa, overloaded.answered_within) == (1.0, math.inf, 0.0)


@pytest.mark.parametrize(
    ("rate", "aht", "agents", "patience", "threshold"),
    [(0.05, 180.0, 8, 120.0, 20.0), (0.1, 60.0, 5, 30.0, 10.0), (0.02, 300.0, 3, 600.0, 30.0)],
)
def test_erlang_a_equals_the_state_by_state_sum(
    rate: float, aht: float, agents: int, patience: float, threshold: float
) -> None:
    expected = state_sum_erlang_a(rate, aht, agents, patience, threshold)
    got = erlang_a_prediction(rate, aht, agents, patience, threshold)
    for name, value in expected.items():
        assert getattr(got, name) == pytest.approx(value, rel=1e-7), name


def test_erlang_a_counts_only_abandons_after_the_short_threshold_as_long() -> None:
    every = erlang_a_prediction(0.1, 60.0, 5, 30.0, 10.0)
    late = erlang_a_prediction(0.1, 60.0, 5, 30.0, 10.0, short_abandon=5.0)
    assert late.p_long_abandon < every.p_long_abandon == pytest.approx(every.p_abandon)
    assert late.service_level() > every.service_level()


def test_erlang_a_is_stable_and_exact_for_thousands_of_overloaded_operators() -> None:
    got = erlang_a_prediction(10.0, 300.0, 2500, 180.0, 20.0)
    assert got.p_wait == pytest.approx(1.0, abs=1e-9)
    # overloaded by 500 Erlangs: the abandons make up the difference, P(ab) -> 1 - N/a
    assert got.p_abandon == pytest.approx(1 - 2500 / 3000, abs=2e-3)
    assert got.occupancy == pytest.approx(1.0, abs=1e-3)


def test_required_staff_is_the_first_row_meeting_the_target() -> None:
    required, rows = staffing_table(3.0, 300.0, 20.0, 0.8, patience=120.0)
    meets = [row.agents for row in rows if row.service_level() >= 0.8]
    assert meets[0] == required
    assert [row.agents for row in rows] == list(range(required - 5, required + 4))


loads = st.floats(min_value=0.5, max_value=400.0)
patiences = st.floats(min_value=5.0, max_value=3600.0)


@settings(max_examples=40, deadline=None)
@given(load=loads, extra=st.integers(min_value=1, max_value=40), patience=patiences)
def test_more_operators_never_make_any_kpi_worse(load: float, extra: int, patience: float) -> None:
    agents = math.floor(load) + extra
    for p in (None, patience):
        fewer, more = (predict(load / 180.0, 180.0, n, 20.0, p) for n in (agents, agents + 1))
        assert more.p_wait <= fewer.p_wait + 1e-12
        assert more.asa <= fewer.asa + 1e-9
        assert more.p_abandon <= fewer.p_abandon + 1e-12
        assert fewer.service_level() <= more.service_level() + 1e-12


@settings(max_examples=40, deadline=None)
@given(load=loads, agents=st.integers(min_value=1, max_value=500), patience=patiences)
def test_probabilities_stay_within_zero_and_one(load: float, agents: int, patience: float) -> None:
    got = erlang_a_prediction(load / 180.0, 180.0, agents, patience, 20.0, short_abandon=5.0)
    for value in (got.p_wait, got.p_answered, got.p_abandon, got.answered_within, got.occupancy):
        assert -1e-12 <= value <= 1 + 1e-12
    assert got.p_answered + got.p_abandon == pytest.approx(1.0)
    for variant in ("answered_and_long_abandoned", "offered", "answered_only"):
        assert -1e-12 <= got.service_level(variant) <= 1 + 1e-12


@settings(max_examples=30, deadline=None)
@given(load=loads, extra=st.integers(min_value=1, max_value=30))
def test_erlang_a_tends_to_erlang_c_as_patience_grows(load: float, extra: int) -> None:
    agents = math.floor(load) + extra
    c = erlang_c_prediction(load / 180.0, 180.0, agents, 20.0)
    a = erlang_a_prediction(load / 180.0, 180.0, agents, 1e13, 20.0)
    assert a.p_wait == pytest.approx(c.p_wait, rel=1e-4, abs=1e-12)
    assert a.answered_within == pytest.approx(c.answered_within, rel=1e-4, abs=1e-12)
    assert a.asa == pytest.approx(c.asa, rel=1e-3, abs=1e-9)
    assert a.p_abandon < 1e-4
