"""ACD routing benchmark: operations per second and latency next to a bare EVALSHA, and the scale check.

    .venv/bin/python bench/routing.py [--redis-url redis://127.0.0.1:6379/0] [--waiting 100000] [--no-emulated]

Part 1 (real Redis, then the in-process emulation): a call cycle enqueue -> offer -> accept -> hangup ->
wrap_up_done through the ACD, each operation timed, beside a trivial script (``return 1``) run by EVALSHA over
the same connection in the same run; the ratio of rates is printed (target >= 0.5).
Part 2 (scale): operators across 50 queues, offer rate (offer + RONA so the state stays put) with 1k waiting
calls and again with ``--waiting`` calls, and Redis memory per waiting call (MEMORY USAGE).
Every key lives under a fresh hash tag and is deleted at the end.
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Callable
from typing import Any

import redis

from callcenter.hotline import Hotline, QueueConfig
from queueing.acd import Acd
from queueing.connection import connect
from queueing.keys import Keys

T0 = 1_800_000_000.0


def timed(samples: list[float], fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    samples.append(time.perf_counter() - start)
    return result


def p50(samples: list[float]) -> float:
    return sorted(samples)[len(samples) // 2]


def describe(name: str, samples: list[float]) -> tuple[float, str]:
    rate = len(samples) / sum(samples)
    p99 = sorted(samples)[int(len(samples) * 0.99)]
    return rate, f"  {name:<14} {rate:7.0f} ops/s  p50 {p50(samples) * 1e6:6.0f} us  p99 {p99 * 1e6:6.0f} us"


def cleanup(client: redis.Redis, keys: Keys) -> None:
    batch: list[str] = []
    for key in client.scan_iter(match=keys.prefix + "*", count=5000):
        batch.append(key)
        if len(batch) >= 5000:
            client.unlink(*batch)
            batch = []
    if batch:
        client.unlink(*batch)


def hotline(queues: int, operators: int) -> Hotline:
    names = [f"q{i}" for i in range(queues)]
    seeds = [
        {"username": f"op{i}", "name": f"op{i}", "queues": [names[i % queues], names[(i * 7 + 1) % queues]]}
        for i in range(operators)
    ]
    config = {"wrap_up_seconds": 5, "max_missed": 1_000_000, "max_wait_seconds": 86_400}
    return Hotline.model_validate({"queues": {n: config for n in names}, "operators": seeds})


def latency(client: redis.Redis, cycles: int) -> None:
    keys = Keys(tag="bench" + uuid.uuid4().hex[:8])
    try:
        acd = Acd(client, keys, {"q": QueueConfig(wrap_up_seconds=5)}, timezone="UTC")
        acd.sync_config(T0)
        for i in range(20):
            acd.configure_operator(f"op{i}", ["q"], {}, T0, softphone="")
            acd.login(f"op{i}", T0)
        bare = client.register_script("return 1")
        ops: dict[str, list[float]] = {n: [] for n in ("enqueue", "offer", "accept", "hangup", "wrap_up_done")}
        bare_samples: list[float] = []
        now = T0
        for i in range(cycles):
            now += 1
            call = f"c{i}"
            timed(bare_samples, bare, keys=[keys.prefix], args=[repr(now), "x", "2027-01-01", 1])
            timed(ops["enqueue"], acd.enqueue, call, "q", now, caller="+3612345678", channel="twilio")
            [offer] = timed(ops["offer"], acd.offer, now, queue="q")
            timed(ops["accept"], acd.accept, call, offer.operator, now)
            timed(ops["hangup"], acd.hangup, call, now + 0.5, by="operator")
            timed(ops["wrap_up_done"], acd.wrap_up_done, offer.operator, now + 0.6)
        bare_rate, line = describe("bare EVALSHA", bare_samples)
        print(line)
        everything: list[float] = []
        for name, samples in ops.items():
            rate, line = describe(name, samples)
            print(f"{line}  ratio {rate / bare_rate:4.2f} (p50: {p50(bare_samples) / p50(samples):4.2f})")
            everything += samples
        rate, line = describe("all ACD ops", everything)
        ratio = p50(bare_samples) / p50(everything)
        print(f"{line}  ratio {rate / bare_rate:4.2f} (p50: {ratio:4.2f})  target >= 0.5")
    finally:
        cleanup(client, keys)


def server_usec(client: redis.Redis) -> tuple[int, int]:
    """(calls, microseconds) Redis spent in EVALSHA so far (0, 0 where INFO commandstats is missing)."""
    try:
        stats = client.info("commandstats").get("cmdstat_evalsha", {})
    except redis.ResponseError:
        return 0, 0
    return int(stats.get("calls", 0)), int(stats.get("usec", 0))


def offer_rate(acd: Acd, queues: int, rounds: int, now: float) -> tuple[float, float]:
    """Offers (one per call, rotating queues), each undone by a RONA so the next finds the same state."""
    single: list[float] = []
    calls_before, usec_before = server_usec(acd.redis)
    for i in range(rounds):
        [offer] = timed(single, acd.offer, now, queue=f"q{i % queues}", limit=1)
        acd.no_answer(offer.call_id, offer.operator, now)
    calls, usec = server_usec(acd.redis)
    rate, line = describe("offer(queue)", single)
    if calls > calls_before:
        line += f"   (server: {(usec - usec_before) / (calls - calls_before):.0f} us per script, offer and RONA)"
    print(line)
    every: list[float] = []
    for _ in range(max(10, rounds // 50)):
        offers = timed(every, acd.offer, now, limit=1)
        acd.no_answer(offers[0].call_id, offers[0].operator, now)
    global_rate, line = describe("offer(all 50)", every)
    print(line)
    return rate, global_rate


def fill(acd: Acd, queues: int, start: int, stop: int, now: float) -> float:
    begin = time.perf_counter()
    for i in range(start, stop):
        acd.enqueue(f"w{i}", f"q{i % queues}", now + i * 1e-3, caller="+3612345678", channel="twilio")
    return (stop - start) / (time.perf_counter() - begin)


def memory_per_call(client: redis.Redis, keys: Keys, queues: int, waiting: int) -> None:
    try:
        calls = sum(int(client.memory_usage(keys.call(f"w{i}")) or 0) for i in range(0, waiting, waiting // 100))
        sets = sum(int(client.memory_usage(keys.queue_waiting(f"q{q}"), samples=0) or 0) for q in range(queues))
        timers = int(client.memory_usage(keys.acd_timers, samples=0) or 0)
    except redis.ResponseError as exc:
        print(f"  memory per waiting call: MEMORY USAGE unavailable ({exc})")
        return
    per_call = calls / 100 + (sets + timers) / waiting
    print(
        f"  memory per waiting call: {per_call:.0f} bytes (call hash {calls / 100:.0f} + waiting set "
        f"{sets / waiting:.0f} + max-wait timer {timers / waiting:.0f}; target < 1024; journal entries not counted)"
    )


def scale(client: redis.Redis, queues: int, operators: int, waiting: int, rounds: int) -> None:
    keys = Keys(tag="bench" + uuid.uuid4().hex[:8])
    try:
        acd = Acd(client, keys, hotline(queues, operators), timezone="UTC")
        begin = time.perf_counter()
        acd.sync_config(T0)
        for i in range(operators):
            acd.login(f"op{i}", T0 + i * 1e-4)
        print(f"  {operators} operators configured and logged in: {time.perf_counter() - begin:.1f} s")
        small = min(1000, waiting)
        rate = fill(acd, queues, 0, small, T0 + 10)
        print(f"  {small} waiting (enqueue {rate:.0f}/s)")
        low, _ = offer_rate(acd, queues, rounds, T0 + 10_000)
        rate = fill(acd, queues, small, waiting, T0 + 10)
        print(f"  {waiting} waiting (enqueue {rate:.0f}/s)")
        high, _ = offer_rate(acd, queues, rounds, T0 + 20_000)
        print(f"  offer rate at {waiting} vs {small} waiting: {high / low:.2f} (1.0 = independent of queue length)")
        memory_per_call(client, keys, queues, waiting)
    finally:
        cleanup(client, keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--waiting", type=int, default=100_000)
    parser.add_argument("--operators", type=int, default=10_000)
    parser.add_argument("--no-emulated", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    real = connect(args.redis_url)
    print(f"== real Redis {real.live.info('server')['redis_version']} at {args.redis_url}")
    latency(real.live, 1500)
    print(f"== scale on real Redis: {args.operators} operators, 50 queues")
    scale(real.live, 50, args.operators, args.waiting, 1000)
    if not args.no_emulated:
        emulated = connect(None)
        print("== in-process emulation (fakeredis + Lua)")
        latency(emulated.live, 300)
        print("== scale on the emulation (reduced: 500 operators, 5,000 waiting)")
        scale(emulated.live, 50, 500, 5_000, 200)
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
