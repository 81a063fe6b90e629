"""A concurrency hammer on the real Redis: threads and processes drive one ACD at once; the invariants hold."""

from __future__ import annotations

import multiprocessing
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from callcenter.domain.events import CallEvent
from queueing.keys import Keys
from tests.conftest import REDIS_URL, require
from tests.support import acd_hammer
from tests.support.acd_setup import counts_by_queue

THREADS, PROCESSES, ITERATIONS = 4, 2, 300


@pytest.fixture
def hammered():
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        client.ping()
    except redis.RedisError:
        require(False, f"no Redis at {REDIS_URL}")
    keys = Keys(tag="hammer" + uuid.uuid4().hex[:10])
    yield client, keys
    batch = list(client.scan_iter(match=keys.prefix + "*", count=1000))
    if batch:
        client.delete(*batch)


@pytest.mark.real
def test_threads_and_processes_at_once_keep_every_invariant(hammered):
    client, keys = hammered
    acd = acd_hammer.acd_for(REDIS_URL, keys.tag, 0)
    acd.sync_config(0.0)
    for name in acd_hammer.OPERATORS:
        acd.login(name, 1.0)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(PROCESSES) as pool, ThreadPoolExecutor(THREADS) as threads:
        procs = [pool.apply_async(acd_hammer.hammer, (REDIS_URL, keys.tag, w, ITERATIONS)) for w in range(PROCESSES)]
        futures = [
            threads.submit(acd_hammer.hammer, REDIS_URL, keys.tag, PROCESSES + w, ITERATIONS) for w in range(THREADS)
        ]
        refused = sum(p.get(timeout=120) for p in procs) + sum(f.result() for f in futures)
    call_ids = [f"w{w}-{i}" for w in range(THREADS + PROCESSES) for i in range(ITERATIONS)]
    acd_hammer.drain(acd, call_ids)
    events = [CallEvent.from_fields(f) for _, f in client.xrange(keys.journal)]
    assert acd_hammer.violations(events, call_ids) == []
    snapshot = acd.snapshot(time.time())
    for queue, counts in counts_by_queue(events).items():
        assert snapshot["queues"][queue]["counters"] == dict(counts)
    assert {op["state"] for op in snapshot["operators"].values()} <= {"available", "break"}
    assert sum(1 for e in events if e.type == "CONNECTED") > 20  # about 80 when idle, 70 with the cores loaded
    assert refused > 0  # the clients really raced each other
