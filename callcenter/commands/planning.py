"""simulate (callers and operators around the real ACD) and staffing (Erlang C / Erlang A tables)."""

from __future__ import annotations

import json
import logging
import math
import sys
from typing import Any, cast

import click

from callcenter.hotline import Strategy
from callcenter.simulation.measure import SimulationResult, kpi_fields, to_json
from callcenter.simulation.scenario import Scenario, ServiceDistribution, load_scenario, single_queue
from callcenter.staffing import Prediction, UnreachableTargetError, staffing_table
from callcenter.yamlsrc import ConfigError

SERVICE_DISTRIBUTIONS = ("exponential", "lognormal", "constant")
STRATEGIES = ("longest_idle", "round_robin", "fewest_calls", "least_talk_time", "ring_all", "random")


@click.command()
@click.option("--operators", type=click.IntRange(min=1), help="Operators answering the queue.")
@click.option("--arrival-rate", type=click.FloatRange(min=0, min_open=True), help="Calls per hour.")
@click.option("--aht", type=click.FloatRange(min=0, min_open=True), help="Mean handle (talk) time, seconds.")
@click.option("--calls", type=click.IntRange(min=1), help="Calls to simulate [default: 1000].")
@click.option("--seed", type=int, help="Random seed; the same seed gives the same run [default: 1].")
@click.option("--patience", type=click.FloatRange(min=0), default=0.0, help="Mean patience, s; 0 = infinite.")
@click.option("--service-dist", type=click.Choice(SERVICE_DISTRIBUTIONS), default="exponential", show_default=True)
@click.option("--strategy", type=click.Choice(STRATEGIES), default="longest_idle", show_default=True)
@click.option("--threshold", type=click.IntRange(min=1), default=20, show_default=True, help="SL threshold, s.")
@click.option("--warmup-calls", type=click.IntRange(min=0), default=None, help="First calls left out of KPIs.")
@click.option(
    "--scenario", "scenario_file", type=click.Path(dir_okay=False), help="Scenario YAML (replaces the queue options)."
)
@click.option(
    "--redis-url", default=None, help="Run on this Redis (own key tag, deleted after) instead of the emulation."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def simulate(
    operators: int | None,
    arrival_rate: float | None,
    aht: float | None,
    calls: int | None,
    seed: int | None,
    patience: float,
    service_dist: str,
    strategy: str,
    threshold: int,
    warmup_calls: int | None,
    scenario_file: str | None,
    redis_url: str | None,
    as_json: bool,
) -> None:
    """Simulate callers and operators on the real ACD with a virtual clock; print KPIs beside Erlang's."""
    from callcenter.simulation.runner import simulate_scenario

    overrides = {"calls": calls, "seed": seed, "warmup_calls": warmup_calls}
    if scenario_file is not None:
        scenario = _scenario_from_file(scenario_file, overrides)
    else:
        if operators is None or arrival_rate is None or aht is None:
            raise click.UsageError("give --operators, --arrival-rate and --aht, or --scenario FILE")
        scenario = single_queue(
            operators=operators,
            arrival_rate_per_hour=arrival_rate,
            aht_seconds=aht,
            calls=calls or 1000,
            seed=1 if seed is None else seed,
            patience_seconds=patience,
            service=cast(ServiceDistribution, service_dist),
            strategy=cast(Strategy, strategy),
            threshold_seconds=threshold,
            warmup_calls=warmup_calls or 0,
        )
    _quiet_acd_logging()
    result = simulate_scenario(scenario, redis_url)
    click.echo(json.dumps(to_json(result), indent=2) if as_json else _simulation_text(result))


def _quiet_acd_logging() -> None:
    """Thousands of simulated state changes would drown the output; keep them for --verbose."""
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        logging.getLogger("queueing").setLevel(logging.WARNING)


def _scenario_from_file(path: str, overrides: dict[str, int | None]) -> Scenario:
    try:
        scenario = load_scenario(path)
        given = {name: value for name, value in overrides.items() if value is not None}
        return Scenario.model_validate({**scenario.model_dump(), **given}) if given else scenario
    except (ConfigError, ValueError) as exc:
        click.echo(f"scenario error:\n{exc}", err=True)
        sys.exit(2)


def _simulation_text(result: SimulationResult) -> str:
    measured = kpi_fields(result.overall)
    predicted = _prediction_columns(result)
    lines = [f"{'KPI':<20}{'simulated':>14}{predicted and result.model or '':>14}"]
    for name, value in measured.items():
        lines.append(f"{name:<20}{_fmt(value):>14}{_fmt(predicted.get(name)) if predicted else '':>14}")
    for name, kpis in result.per_queue.items() if len(result.per_queue) > 1 else ():
        lines.append(f"queue {name}: " + ", ".join(f"{k}={_fmt(v)}" for k, v in kpi_fields(kpis).items()))
    lines.append(
        f"{result.run.arrivals} calls, {result.run.ended_at / 3600:.1f} simulated hours "
        f"in {result.run.wall_seconds:.1f} s ({result.calls_per_second:.0f} calls/s)"
    )
    return "\n".join(lines)


def _prediction_columns(result: SimulationResult) -> dict[str, Any]:
    p = result.prediction
    if p is None:
        return {}
    variant = result.scenario.kpi.service_level_variant
    return {
        "answer_rate": p.p_answered,
        "abandonment_rate": p.p_abandon,
        "asa_seconds": p.asa,
        "service_level": p.service_level(variant),
        "occupancy": p.occupancy,
    }


@click.command()
@click.option("--arrival-rate", type=click.FloatRange(min=0, min_open=True), required=True, help="Calls/hour.")
@click.option("--aht", type=click.FloatRange(min=0, min_open=True), required=True, help="Handle time, s.")
@click.option("--threshold", type=click.FloatRange(min=0), default=20.0, show_default=True, help="SL T, s.")
@click.option(
    "--target-sl",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.8,
    show_default=True,
    help="0-1.",
)
@click.option("--patience", type=click.FloatRange(min=0), default=0.0, help="Mean patience, s (Erlang A); 0 = C.")
@click.option("--short-abandon", type=click.FloatRange(min=0), default=0.0, help="Abandons not held against SL.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def staffing(
    arrival_rate: float,
    aht: float,
    threshold: float,
    target_sl: float,
    patience: float,
    short_abandon: float,
    as_json: bool,
) -> None:
    """Operators needed for a service level: the Erlang C (or, with --patience, Erlang A) table."""
    try:
        required, rows = staffing_table(arrival_rate / 3600, aht, threshold, target_sl, patience or None, short_abandon)
    except UnreachableTargetError as exc:
        raise click.ClickException(str(exc)) from exc
    model = "erlang_a" if patience else "erlang_c"
    if as_json:
        document = {"model": model, "required": required, "rows": [_row(r) for r in rows]}
        click.echo(json.dumps(document, indent=2))
        return
    click.echo(_table_text(model, required, rows, target_sl))


def _row(p: Prediction) -> dict[str, Any]:
    return {
        "operators": p.agents,
        "p_wait": p.p_wait,
        "asa_seconds": p.asa if math.isfinite(p.asa) else None,
        "service_level": p.service_level(),
        "occupancy": p.occupancy,
        "abandonment_rate": p.p_abandon,
    }


def _table_text(model: str, required: int, rows: list[Prediction], target_sl: float) -> str:
    load = rows[0].load if rows else 0.0
    lines = [
        f"{model}: offered load {load:.2f} Erlangs, target service level {target_sl:.0%}",
        f"{'operators':>9} {'P(wait)':>8} {'ASA s':>9} {'SL':>7} {'occupancy':>9} {'abandon':>8}",
    ]
    for p in rows:
        mark = "  <- required" if p.agents == required else ""
        lines.append(
            f"{p.agents:>9} {p.p_wait:>8.1%} {p.asa:>9.1f} {p.service_level():>7.1%} "
            f"{p.occupancy:>9.1%} {p.p_abandon:>8.2%}{mark}"
        )
    lines.append(f"required: {required} operators")
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return str(value)
    return f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"


COMMANDS = [simulate, staffing]
