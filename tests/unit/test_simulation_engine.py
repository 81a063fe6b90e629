"""The simulation engine on the in-memory ACD: its behaviour, and the KPI path from journal events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from callcenter.domain.call_summary import CallSummary
from callcenter.domain.kpi import report, tally
from callcenter.hotline import KpiConfig
from callcenter.simulation.engine import TIMER_SLACK, Simulation
from callcenter.simulation.measure import SimulationResult, call_summaries, measure, to_json
from callcenter.simulation.scenario import Breaks, OperatorGroup, QueueScenario, Scenario, single_queue
from tests.support.batch_means import abandonment, answered_within, asa, batch_estimate
from tests.support.memory_acd import MemoryAcd


def run(scenario: Scenario) -> tuple[MemoryAcd, dict[str, Any]]:
    acd = MemoryAcd(scenario.hotline())
    result = measure(scenario, Simulation(scenario, acd).run(), acd.events())
    return acd, to_json(result)


def test_the_same_seed_gives_the_same_run_and_another_seed_another() -> None:
    first = run(single_queue(3, 60, 120, 300, seed=5, patience_seconds=60))[1]
    again = run(single_queue(3, 60, 120, 300, seed=5, patience_seconds=60))[1]
    other = run(single_queue(3, 60, 120, 300, seed=6, patience_seconds=60))[1]
    assert first["asa_seconds"] == again["asa_seconds"] != other["asa_seconds"]


def test_every_call_ends_answered_or_abandoned_and_the_counts_add_up() -> None:
    acd, document = run(single_queue(4, 100, 150, 500, seed=2, patience_seconds=40))
    outcomes = {summary.outcome for summary in call_summaries(acd.events())}
    assert outcomes == {"answered", "abandoned"}
    assert document["offered"] == 500 == document["answered"] + document["abandoned"]
    assert document["simulation"]["stranded_calls"] == 0


def test_infinitely_patient_callers_are_all_answered() -> None:
    document = run(single_queue(2, 50, 120, 400, seed=3))[1]
    assert (document["answered"], document["abandoned"]) == (400, 0)
    assert document["prediction"]["model"] == "erlang_c"


def test_warmup_calls_are_left_out_of_the_kpis() -> None:
    document = run(single_queue(2, 50, 120, 400, seed=3, warmup_calls=100))[1]
    assert document["offered"] == 300


def test_time_on_break_is_not_staffed_time_so_occupancy_counts_only_the_rest() -> None:
    queue = QueueScenario(arrival_rate_per_hour=30, aht_seconds=60)
    group = OperatorGroup(count=2, queues=("q",), breaks=Breaks(every_seconds=600, duration_seconds=600))
    scenario = Scenario(seed=4, calls=400, queues={"q": queue}, operators=(group,))
    acd, document = run(scenario)
    # 0.5 Erlang of work over 2 operators who are on break half of the time (a little more: a break
    # that falls due during a call starts after it)
    assert document["occupancy"] == pytest.approx(0.5 / (2 * 0.5), rel=0.15)
    assert document["answered"] == 400


def test_calls_past_the_max_wait_leave_the_queue() -> None:
    queue = QueueScenario(arrival_rate_per_hour=200, aht_seconds=60, max_wait_seconds=30)
    scenario = Scenario(seed=4, calls=300, queues={"q": queue}, operators=(OperatorGroup(count=1, queues=("q",)),))
    acd, document = run(scenario)
    outcomes = {summary.outcome for summary in call_summaries(acd.events())}
    assert "timeout" in outcomes
    assert document["max_wait_seconds"] <= 30 + TIMER_SLACK + 1e-9


def reference_run(scenario: Scenario) -> tuple[SimulationResult, list[CallSummary]]:
    acd = MemoryAcd(scenario.hotline())
    result = measure(scenario, Simulation(scenario, acd).run(), acd.events())
    calls = [c for c in call_summaries(acd.events()) if (c.enqueued_at or 0.0) >= result.run.warmup_until]
    return result, calls


# Near saturation waits are so correlated that 60,000 calls pin the ASA down only to about 25 per cent.
@pytest.mark.parametrize(
    ("operators", "occupancy", "calls", "precision"),
    [(3, 0.6, 20_000, 0.1), (5, 0.8, 20_000, 0.15), (12, 0.95, 60_000, 0.3)],
)
def test_long_runs_of_the_engine_match_erlang_c_closely(
    operators: int, occupancy: float, calls: int, precision: float
) -> None:
    """Long runs on the reference model (which the real ACD matches call by call, see integration)."""
    scenario = single_queue(operators, occupancy * operators * 60, 60, calls, seed=31, warmup_calls=calls // 10)
    result, measured = reference_run(scenario)
    assert result.prediction is not None
    measured_asa, measured_sl = batch_estimate(measured, asa), batch_estimate(measured, answered_within(20))
    assert measured_asa.agrees_with(result.prediction.asa), f"{measured_asa} vs {result.prediction.asa}"
    assert measured_sl.agrees_with(result.prediction.answered_within)
    assert measured_asa.stderr < precision * result.prediction.asa  # precise enough to mean something


@pytest.mark.parametrize(("operators", "occupancy", "patience"), [(4, 0.9, 60.0), (8, 1.1, 120.0)])
def test_long_runs_of_the_engine_match_erlang_a_closely(operators: int, occupancy: float, patience: float) -> None:
    scenario = single_queue(operators, occupancy * operators * 60, 60, 20_000, 32, patience, warmup_calls=2000)
    result, calls = reference_run(scenario)
    assert result.prediction is not None
    measured = batch_estimate(calls, abandonment)
    assert measured.agrees_with(result.prediction.p_abandon), f"{measured} vs {result.prediction.p_abandon}"
    assert batch_estimate(calls, asa).agrees_with(result.prediction.asa)
    assert batch_estimate(calls, answered_within(20)).agrees_with(result.prediction.answered_within)


def test_short_abandons_and_the_default_service_level_match_erlang_a() -> None:
    """Abandons under 5 s are reported apart and left out of the service level, in the model as in the KPIs."""
    base = single_queue(4, 0.9 * 4 * 60, 60, 20_000, seed=33, patience_seconds=60, warmup_calls=2000)
    kpi = KpiConfig(service_level_threshold_seconds=20, short_abandon_seconds=5)
    scenario = Scenario.model_validate({**base.model_dump(), "kpi": kpi.model_dump()})
    result, calls = reference_run(scenario)
    predicted = result.prediction
    assert predicted is not None

    def default_service_level(batch: Sequence[CallSummary]) -> float:
        return report(tally(batch, kpi), kpi).service_level or 0.0

    def short_abandon_rate(batch: Sequence[CallSummary]) -> float:
        return report(tally(batch, kpi), kpi).short_abandon_rate or 0.0

    assert batch_estimate(calls, default_service_level).agrees_with(predicted.service_level())
    assert batch_estimate(calls, short_abandon_rate).agrees_with(predicted.p_abandon - predicted.p_long_abandon)


def test_calls_nobody_can_serve_are_reported_stranded_and_the_run_still_ends() -> None:
    queues = {
        "a": QueueScenario(arrival_rate_per_hour=60, aht_seconds=60),
        "b": QueueScenario(arrival_rate_per_hour=60, aht_seconds=60),
    }
    scenario = Scenario(seed=3, calls=100, queues=queues, operators=(OperatorGroup(count=2, queues=("a",)),))
    document = run(scenario)[1]
    assert document["simulation"]["stranded_calls"] == document["queues"]["b"]["offered"] > 0
    assert document["queues"]["b"]["answered"] == 0
