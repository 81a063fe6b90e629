"""The simulator on the real ACD (production Lua scripts) reproduces Erlang C and Erlang A.

Statistical checks run on the in-process Redis emulation with fixed seeds; each tolerance is 4.78 batch-means
standard errors (Student t with 9 degrees of freedom: one false alarm in 2,000 comparisons, were the seeds drawn
afresh). These runs are short (the emulation does ~200 calls/s), so near saturation their tolerance is wide;
the call-by-call comparison below shows the real ACD serves every caller exactly as the reference FIFO model
does, whose long runs (tests/unit/test_simulation_engine.py) pin Erlang C and A down to a few per cent.
"""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callcenter.domain.call_summary import CallSummary
from callcenter.simulation.engine import Simulation
from callcenter.simulation.measure import SimulationResult, call_summaries, measure
from callcenter.simulation.redis_acd import RedisAcd
from callcenter.simulation.scenario import (
    NEVER,
    Breaks,
    OperatorGroup,
    QueueScenario,
    Scenario,
    ServiceTime,
    single_queue,
)
from queueing.connection import RedisClients, connect
from queueing.keys import Keys
from tests.support.batch_means import abandonment, answered_within, asa, batch_estimate
from tests.support.memory_acd import MemoryAcd

AHT = 60.0
THRESHOLD = 20


def simulate(scenario: Scenario, clients: RedisClients, keys: Keys) -> tuple[SimulationResult, list[CallSummary]]:
    acd = RedisAcd(clients.live, keys, scenario.hotline(), seed=scenario.seed)
    result = measure(scenario, Simulation(scenario, acd).run(), acd.events())
    calls = [c for c in call_summaries(acd.events()) if (c.enqueued_at or 0.0) >= result.run.warmup_until]
    return result, calls


def simulate_embedded(scenario: Scenario) -> tuple[SimulationResult, list[CallSummary]]:
    clients = connect(None)
    try:
        return simulate(scenario, clients, Keys(tag="t" + uuid.uuid4().hex[:12]))
    finally:
        clients.close()


def scenario_at(
    operators: int, occupancy: float, calls: int, seed: int, patience: float = 0.0, warmup: bool = True
) -> Scenario:
    """One queue offered ``occupancy * operators`` Erlangs of exponential 60 s calls."""
    rate_per_hour = occupancy * operators * 3600 / AHT
    return single_queue(
        operators, rate_per_hour, AHT, calls, seed=seed, patience_seconds=patience,
        threshold_seconds=THRESHOLD, warmup_calls=calls // 10 if warmup else 0,
    )  # fmt: skip


def busy_queue_with_timeouts() -> Scenario:
    queue = QueueScenario(arrival_rate_per_hour=200, aht_seconds=60, wrap_up_seconds=10, max_wait_seconds=30)
    return Scenario(seed=22, calls=400, queues={"q": queue}, operators=(OperatorGroup(count=3, queues=("q",)),))


@pytest.mark.parametrize(
    "scenario",
    [
        scenario_at(operators=4, occupancy=0.95, calls=600, seed=21, patience=60.0, warmup=False),
        busy_queue_with_timeouts(),
    ],
    ids=["abandons", "wrap-up-and-max-wait"],
)
def test_real_acd_gives_every_caller_the_wait_of_the_reference_fifo_model(
    scenario: Scenario, redis_clients: tuple[RedisClients, Keys]
) -> None:
    _, real = simulate(scenario, *redis_clients)
    reference = MemoryAcd(scenario.hotline())
    Simulation(scenario, reference).run()
    expected = {c.call_id: (c.outcome, round(c.wait_seconds or 0, 6)) for c in call_summaries(reference.events())}
    got = {c.call_id: (c.outcome, round(c.wait_seconds or 0, 6)) for c in real}
    assert got == expected
    assert len({outcome for outcome, _ in got.values()}) == 2  # answered, and abandoned or timed out


@pytest.mark.parametrize(
    ("operators", "occupancy", "calls"),
    [(3, 0.6, 1200), (5, 0.8, 1500), (12, 0.95, 2000)],
)
def test_simulated_asa_and_service_level_agree_with_erlang_c(operators: int, occupancy: float, calls: int) -> None:
    result, calls_measured = simulate_embedded(scenario_at(operators, occupancy, calls, seed=operators))
    predicted = result.prediction
    assert result.model == "erlang_c" and predicted is not None
    measured_asa = batch_estimate(calls_measured, asa)
    measured_sl = batch_estimate(calls_measured, answered_within(THRESHOLD))
    assert measured_asa.agrees_with(predicted.asa), f"ASA {measured_asa} vs Erlang C {predicted.asa:.4f}"
    assert measured_sl.agrees_with(predicted.answered_within), f"SL {measured_sl} vs {predicted.answered_within:.4f}"
    assert result.overall.service_level == pytest.approx(measured_sl.value)  # the KPI code says the same


@pytest.mark.parametrize(
    ("operators", "occupancy", "patience", "calls"),
    [(4, 0.9, 60.0, 1200), (8, 1.1, 120.0, 1200)],
)
def test_simulated_abandonment_agrees_with_erlang_a(
    operators: int, occupancy: float, patience: float, calls: int
) -> None:
    result, calls_measured = simulate_embedded(scenario_at(operators, occupancy, calls, operators, patience))
    predicted = result.prediction
    assert result.model == "erlang_a" and predicted is not None
    measured = batch_estimate(calls_measured, abandonment)
    assert measured.agrees_with(predicted.p_abandon), f"abandonment {measured} vs Erlang A {predicted.p_abandon:.4f}"
    measured_asa = batch_estimate(calls_measured, asa)
    assert measured_asa.agrees_with(predicted.asa), f"ASA {measured_asa} vs Erlang A {predicted.asa:.4f}"
    assert result.overall.abandonment_rate == pytest.approx(measured.value)


def test_staffed_time_from_the_journal_equals_the_simulated_operators_time() -> None:
    queue = QueueScenario(arrival_rate_per_hour=100, aht_seconds=90, wrap_up_seconds=15, patience_seconds=60)
    group = OperatorGroup(count=3, queues=("q",), breaks=Breaks(every_seconds=900, duration_seconds=300))
    scenario = Scenario(seed=5, calls=300, warmup_calls=30, queues={"q": queue}, operators=(group,))
    result, _ = simulate_embedded(scenario)
    assert result.overall.totals.logged_in_seconds == pytest.approx(result.run.staffed_seconds)
    assert result.overall.totals.logged_in_seconds < 3 * (result.run.ended_at - result.run.warmup_until)


scenarios = st.builds(
    lambda operators, load, patience, wrap_up, max_wait, service, strategy, seed: Scenario(
        seed=seed,
        calls=60,
        queues={
            "q": QueueScenario(
                arrival_rate_per_hour=load * operators * 60,
                aht_seconds=60,
                service=ServiceTime(distribution=service),
                patience_seconds=patience,
                wrap_up_seconds=wrap_up,
                max_wait_seconds=max_wait,
                strategy=strategy,
            )
        },
        operators=(OperatorGroup(count=operators, queues=("q",)),),
    ),
    operators=st.integers(1, 4),
    load=st.floats(0.3, 1.5),
    patience=st.sampled_from([0.0, 20.0, 90.0]),
    wrap_up=st.sampled_from([0, 15]),
    max_wait=st.sampled_from([NEVER, 45]),
    service=st.sampled_from(["exponential", "lognormal", "constant"]),
    strategy=st.sampled_from(["longest_idle", "round_robin", "fewest_calls", "ring_all", "random"]),
    seed=st.integers(1, 1000),
)


@settings(max_examples=6, deadline=None)
@given(scenario=scenarios)
def test_any_single_queue_scenario_runs_on_the_real_acd_exactly_as_on_the_reference_model(scenario: Scenario) -> None:
    """Identical operators, FIFO, nobody idle while someone waits: whoever answers, every caller's fate is the same."""
    result, real = simulate_embedded(scenario)
    reference = MemoryAcd(scenario.hotline())
    Simulation(scenario, reference).run()
    expected = {c.call_id: (c.outcome, round(c.wait_seconds or 0, 6)) for c in call_summaries(reference.events())}
    assert {c.call_id: (c.outcome, round(c.wait_seconds or 0, 6)) for c in real} == expected
    assert result.run.stranded == 0
    assert result.overall.totals.logged_in_seconds == pytest.approx(result.run.staffed_seconds)


def test_a_higher_priority_queue_waits_less_for_the_same_operators() -> None:
    queues = {
        "vip": QueueScenario(arrival_rate_per_hour=80, aht_seconds=60, priority=1),
        "rest": QueueScenario(arrival_rate_per_hour=80, aht_seconds=60),
    }
    group = OperatorGroup(count=3, queues=("vip", "rest"))
    result, _ = simulate_embedded(Scenario(seed=8, calls=500, warmup_calls=50, queues=queues, operators=(group,)))
    vip, rest = result.per_queue["vip"].asa_seconds, result.per_queue["rest"].asa_seconds
    assert vip is not None and rest is not None
    assert vip < rest / 2
