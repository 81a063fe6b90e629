"""Simulator speed: simulated calls per second of wall time, on the Redis emulation and on a real Redis.

Target (issue 3): 20,000 calls of a one-queue scenario in under a minute on one core. Baseline measured in
the same run over the same kind of connection: a bare EVALSHA of a trivial script, so the ratio reads as
"round trips' worth of time per simulated call" (the ACD needs at least 4 per call: enqueue, offer, accept,
hang-up).

    .venv/bin/python -m bench.simulator [--calls 20000] [--operators 10] [--occupancy 0.9] [--skip-real]
"""

from __future__ import annotations

import argparse
import time

import redis

from bench.common import REDIS_URL
from callcenter.simulation.runner import simulate_scenario
from callcenter.simulation.scenario import single_queue
from queueing.connection import connect

BASELINE_CALLS = 3000


def bare_evalsha_rate(url: str | None) -> float:
    """Trivial script round trips per second over one connection (the emulation when ``url`` is None)."""
    clients = connect(url)
    try:
        script = clients.live.register_script("return ARGV[1]")
        script(keys=[], args=["warm"])
        started = time.perf_counter()
        for i in range(BASELINE_CALLS):
            script(keys=[], args=[i])
        return BASELINE_CALLS / (time.perf_counter() - started)
    finally:
        clients.close()


def measure(name: str, url: str | None, calls: int, operators: int, occupancy: float) -> None:
    aht = 180.0
    scenario = single_queue(operators, occupancy * operators * 3600 / aht, aht, calls, seed=1)
    baseline = bare_evalsha_rate(url)
    started = time.perf_counter()
    result = simulate_scenario(scenario, url)
    total = time.perf_counter() - started  # the run plus reading the journal back and computing the KPIs
    rate = calls / total
    verdict = "meets" if total < 60 * calls / 20_000 else "MISSES"
    print(
        f"{name:>9}: {calls} calls in {total:6.1f} s (simulation {result.run.wall_seconds:.1f} s, KPIs "
        f"{total - result.run.wall_seconds:.1f} s) = {rate:5.0f} calls/s, {verdict} the 20,000-in-60-s target; "
        f"bare EVALSHA {baseline:5.0f}/s, ratio {baseline / rate:5.1f}; ASA {result.overall.asa_seconds:.1f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--operators", type=int, default=10)
    parser.add_argument("--occupancy", type=float, default=0.9)
    parser.add_argument("--skip-real", action="store_true", help="Only the in-process emulation.")
    args = parser.parse_args()
    measure("emulated", None, args.calls, args.operators, args.occupancy)
    if args.skip_real:
        return
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        print(f"     real: skipped, no Redis at {REDIS_URL}")
        return
    measure("real", REDIS_URL, args.calls, args.operators, args.occupancy)


if __name__ == "__main__":
    main()
