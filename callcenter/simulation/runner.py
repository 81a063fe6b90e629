"""Run a scenario on the real ACD: the in-process Redis emulation, or a Redis server under a key tag of its own."""

from __future__ import annotations

import uuid

from callcenter.simulation.engine import Simulation
from callcenter.simulation.measure import SimulationResult, measure
from callcenter.simulation.redis_acd import RedisAcd
from callcenter.simulation.scenario import Scenario
from queueing.connection import connect
from queueing.keys import Keys


def simulate_scenario(scenario: Scenario, redis_url: str | None = None) -> SimulationResult:
    """Simulate on a fresh hotline tag (``sim-<random>``) and delete its keys afterwards, nothing else."""
    clients = connect(redis_url)
    keys = Keys(tag=f"sim-{uuid.uuid4().hex[:12]}")
    try:
        acd = RedisAcd(clients.live, keys, scenario.hotline(), seed=scenario.seed)
        run = Simulation(scenario, acd).run()
        return measure(scenario, run, acd.events())
    finally:
        RedisAcd.delete_keys(clients.live, keys)
        clients.close()
