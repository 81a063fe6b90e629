"""Many clients at once on one ACD (threads and processes), then the invariants checked from the journal."""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from typing import Any

import redis

from callcenter.domain.events import CallEvent
from callcenter.domain.operator import AcdError
from queueing.acd import Acd
from queueing.keys import Keys
from tests.support.acd_setup import hotline

QUEUES: dict[str, dict[str, Any]] = {
    "h": {"wrap_up_seconds": 1, "ring_timeout_seconds": 5, "max_missed": 3},
    "r": {"strategy": "ring_all", "wrap_up_seconds": 0, "ring_timeout_seconds": 5},
}
OPERATORS = {f"op{i}": {"queues": ["h", "r"] if i % 2 else ["h"]} for i in range(8)}
TERMINAL = {"COMPLETED_BY_CALLER", "COMPLETED_BY_OPERATOR", "ABANDONED"}


def acd_for(url: str, tag: str, seed: int) -> Acd:
    client = redis.Redis.from_url(url, decode_responses=True)
    return Acd(client, Keys(tag=tag), hotline(QUEUES, OPERATORS), timezone="UTC", seed=seed)


def hammer(url: str, tag: str, worker: int, iterations: int) -> int:
    """Random operations from one client; refusals (AcdError) are the expected outcome of races."""
    rng, acd = random.Random(worker), acd_for(url, tag, worker)
    offers: list[tuple[str, str]] = []
    calls: list[str] = []
    talking: list[str] = []  # calls this client connected: hanging these up frees operators for the next offers
    refused = 0
    for i in range(iterations):
        now, r = time.time(), rng.random()
        try:
            if r < 0.25:
                calls.append(f"w{worker}-{i}")
                acd.enqueue(calls[-1], rng.choice("hr"), now)
            elif r < 0.45:
                offers += [(o.call_id, o.operator) for o in acd.offer(now)]
            elif r < 0.65 and offers:
                call_id, operator = offers.pop(rng.randrange(len(offers)))
                acd.accept(call_id, operator, now)
                talking.append(call_id)
            elif r < 0.7 and offers:
                acd.no_answer(*offers.pop(rng.randrange(len(offers))), now)
            elif r < 0.82 and calls:
                talked = talking and rng.random() < 0.5
                ending = talking.pop(rng.randrange(len(talking))) if talked else rng.choice(calls)
                acd.hangup(ending, now, by=rng.choice(["caller", "operator"]))
            elif r < 0.9:
                acd.wrap_up_done(rng.choice(list(OPERATORS)), now)
            elif r < 0.95:
                acd.set_state(rng.choice(list(OPERATORS)), rng.choice(["break", "available"]), now, reason="x")
            else:
                acd.tick(now + rng.choice([0, 6]))
        except AcdError:
            refused += 1
    return refused


def drain(acd: Acd, call_ids: list[str]) -> None:
    """End every call still live and close every wrap-up, so every call must have reached its end."""
    now = time.time()
    for call_id in call_ids:
        try:
            acd.hangup(call_id, now, by="caller")
        except AcdError:
            pass
    for name in OPERATORS:
        try:
            acd.wrap_up_done(name, now)
        except AcdError:
            pass


def violations(events: list[CallEvent], call_ids: list[str]) -> list[str]:
    """Every breach of the ACD invariants the journal shows (empty when all hold)."""
    problems: list[str] = []
    holding: dict[str, str] = {}
    ringing: dict[str, set[str]] = defaultdict(set)
    queue_of: dict[str, str] = {}
    for e in events:
        kind = e.type.value
        if kind == "ENTER_QUEUE":
            queue_of[e.call_id] = e.queue
        elif kind == "OFFERED":
            if e.operator in holding:
                problems.append(f"{e.operator} offered {e.call_id} while holding {holding[e.operator]}")
            holding[e.operator] = e.call_id
            ringing[e.call_id].add(e.operator)
            if len(ringing[e.call_id]) > 1 and queue_of[e.call_id] != "r":
                problems.append(f"{e.call_id} ringing at {sorted(ringing[e.call_id])}")
        elif kind in ("RING_NO_ANSWER", "WRAPUP_DONE") or (kind == "OPERATOR_STATE" and e.data["to"] == "available"):
            released = holding.pop(e.operator, None)
            if released:
                ringing[released].discard(e.operator)
        if kind in ("CONNECTED", "ABANDONED"):
            ringing[e.call_id] = set()
    ends = Counter(e.call_id for e in events if e.type.value in TERMINAL)
    connects = Counter(e.call_id for e in events if e.type.value == "CONNECTED")
    problems += [f"{c} ended {ends[c]} times" for c in call_ids if c in queue_of and ends[c] != 1]
    problems += [f"{c} connected {n} times" for c, n in connects.items() if n > 1]
    return problems
