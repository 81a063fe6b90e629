"""Building an ACD on a test Redis: a small hotline, a clock, and the journal read back as events."""

from __future__ import annotations

from collections import Counter
from typing import Any

import redis

from callcenter.domain.events import CallEvent
from callcenter.hotline import Hotline
from queueing.acd import Acd
from queueing.keys import Keys

T0 = 1_800_000_000.0

SKILLS = ("billing", "internet", "tv", "english", "level2")


def hotline(queues: dict[str, dict[str, Any]], operators: dict[str, dict[str, Any]]) -> Hotline:
    """A validated hotline from compact dicts: operators map username -> {queues, skills}."""
    seeds = [{"username": name, "name": name, **spec} for name, spec in operators.items()]
    return Hotline.model_validate({"skills": list(SKILLS), "queues": queues, "operators": seeds})


def make_acd(
    client: redis.Redis,
    keys: Keys,
    queues: dict[str, dict[str, Any]],
    operators: dict[str, dict[str, Any]],
    *,
    login: bool = True,
    seed: int = 7,
) -> Acd:
    """An Acd with its configuration synced and (by default) every operator logged in at T0, in dict order."""
    acd = Acd(client, keys, hotline(queues, operators), timezone="UTC", seed=seed)
    acd.sync_config(T0)
    if login:
        for i, name in enumerate(operators):
            acd.login(name, T0 + i * 0.001)
    return acd


def journal(client: redis.Redis, keys: Keys) -> list[CallEvent]:
    """Every event the ACD appended to the hotline's journal stream, in order."""
    entries: list[tuple[str, dict[str, str]]] = client.xrange(keys.journal)  # type: ignore[assignment]
    return [CallEvent.from_fields(fields) for _, fields in entries]


def types_of(events: list[CallEvent], call_id: str) -> list[str]:
    """The event types of one call, in order."""
    return [e.type.value for e in events if e.call_id == call_id]


def counts_by_queue(events: list[CallEvent]) -> dict[str, Counter[str]]:
    """Events per queue and type, lower-cased as the queue counters name them."""
    out: dict[str, Counter[str]] = {}
    for e in events:
        if e.queue:
            out.setdefault(e.queue, Counter())[e.type.value.lower()] += 1
    return out
