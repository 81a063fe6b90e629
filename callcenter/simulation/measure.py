"""The KPIs of a simulation run, computed like production's: journal events -> call summaries -> KPI code.

For a one-queue scenario the Erlang prediction is put beside them: Erlang C when callers never abandon, Erlang
A when they do (its handle time is talk plus wrap-up: what keeps an operator from the next call).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from callcenter.domain.call_summary import CallSummary, summarize
from callcenter.domain.events import CallEvent
from callcenter.domain.kpi import KpiReport, KpiTotals, report, staffed_seconds, tally, tally_by_queue
from callcenter.simulation.engine import SimulationRun
from callcenter.simulation.scenario import Scenario
from callcenter.staffing import Prediction, predict


@dataclass(frozen=True)
class SimulationResult:
    scenario: Scenario
    run: SimulationRun
    overall: KpiReport
    per_queue: dict[str, KpiReport]
    model: str | None  # "erlang_c", "erlang_a", or None with several queues
    prediction: Prediction | None

    @property
    def calls_per_second(self) -> float:
        """Simulated calls per second of wall time."""
        return self.run.arrivals / self.run.wall_seconds if self.run.wall_seconds > 0 else 0.0


def call_summaries(events: Iterable[CallEvent]) -> list[CallSummary]:
    """One summary per call of the journal (operator-only events are skipped)."""
    by_call: dict[str, list[CallEvent]] = defaultdict(list)
    for event in events:
        if event.call_id:
            by_call[event.call_id].append(event)
    return [summarize(call_id, call_events) for call_id, call_events in by_call.items()]


def measure(scenario: Scenario, run: SimulationRun, events: Iterable[CallEvent]) -> SimulationResult:
    """KPIs of the calls that entered a queue after the warm-up, plus the Erlang prediction.

    Occupancy's staffed time comes from the operators' OPERATOR_STATE events over [warm-up, end of run].
    """
    journal = list(events)
    calls = [c for c in call_summaries(journal) if c.enqueued_at is not None and c.enqueued_at >= run.warmup_until]
    staffed = staffed_seconds(journal, run.warmup_until, run.ended_at)
    totals: KpiTotals = tally(calls, scenario.kpi).with_staffed_time(staffed)
    per_queue = {name: report(t, scenario.kpi) for name, t in sorted(tally_by_queue(calls, scenario.kpi).items())}
    model, prediction = erlang_prediction(scenario)
    return SimulationResult(scenario, run, report(totals, scenario.kpi), per_queue, model, prediction)


def erlang_prediction(scenario: Scenario) -> tuple[str | None, Prediction | None]:
    """Erlang C or A for a one-queue scenario; (None, None) with several queues."""
    if len(scenario.queues) != 1:
        return None, None
    queue = next(iter(scenario.queues.values()))
    prediction = predict(
        queue.arrival_rate,
        queue.aht_seconds + queue.wrap_up_seconds,
        scenario.operator_count,
        scenario.kpi.service_level_threshold_seconds,
        queue.patience,
        scenario.kpi.short_abandon_seconds,
    )
    return ("erlang_c" if queue.patience is None else "erlang_a"), prediction


def kpi_fields(kpis: KpiReport) -> dict[str, Any]:
    """The KPI part of the JSON output."""
    t = kpis.totals
    return {
        "offered": t.offered,
        "answered": t.answered,
        "abandoned": t.abandoned,
        "short_abandoned": t.short_abandoned,
        "answer_rate": kpis.answer_rate,
        "abandonment_rate": kpis.abandonment_rate,
        "asa_seconds": kpis.asa_seconds,
        "aht_seconds": kpis.aht_seconds,
        "service_level": kpis.service_level,
        "occupancy": kpis.occupancy,
        "max_wait_seconds": t.max_wait_seconds,
    }


def prediction_fields(model: str, prediction: Prediction, scenario: Scenario) -> dict[str, Any]:
    """The Erlang prediction in the same names as the measured KPIs."""
    return {
        "model": model,
        "operators": prediction.agents,
        "load_erlangs": prediction.load,
        "p_wait": prediction.p_wait,
        "answer_rate": prediction.p_answered,
        "abandonment_rate": prediction.p_abandon,
        "asa_seconds": _finite(prediction.asa),
        "service_level": prediction.service_level(scenario.kpi.service_level_variant),
        "occupancy": prediction.occupancy,
    }


def to_json(result: SimulationResult) -> dict[str, Any]:
    """The ``--json`` document of ``callcenter simulate``."""
    document: dict[str, Any] = kpi_fields(result.overall)
    document["simulation"] = {
        "seed": result.scenario.seed,
        "calls": result.run.arrivals,
        "warmup_calls": result.scenario.warmup_calls,
        "stranded_calls": result.run.stranded,
        "virtual_seconds": result.run.ended_at,
        "wall_seconds": result.run.wall_seconds,
        "calls_per_second": result.calls_per_second,
    }
    if len(result.per_queue) > 1:
        document["queues"] = {name: kpi_fields(kpis) for name, kpis in result.per_queue.items()}
    if result.model is not None and result.prediction is not None:
        document["prediction"] = prediction_fields(result.model, result.prediction, result.scenario)
    return document


def _finite(value: float) -> float | None:
    return value if value != float("inf") else None
