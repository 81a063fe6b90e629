"""The simulation's port onto the real ACD (``queueing.acd.Acd``: the production Lua scripts on Redis)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import cast

import redis

from callcenter.domain.events import CallEvent
from callcenter.domain.operator import IllegalTransitionError, OperatorState
from callcenter.hotline import Hotline
from queueing.acd import Acd
from queueing.keys import Keys

BREAK_REASON = "simulated_break"
_READ_CHUNK = 5000


class RedisAcd:
    """Implements :class:`callcenter.simulation.engine.SimulatedAcd` with the production ACD."""

    def __init__(self, client: redis.Redis, keys: Keys, hotline: Hotline, seed: int | None = None):
        self._redis = client
        self._keys = keys
        self.acd = Acd(client, keys, hotline, timezone="UTC", seed=seed)

    def start(self, operators: Iterable[str], now: float) -> None:
        self.acd.sync_config(now)
        for operator in operators:
            self.acd.login(operator, now)

    def enqueue(self, call_id: str, queue: str, now: float) -> None:
        self.acd.enqueue(call_id, queue, now, channel="sim")

    def offers(self, now: float) -> list[tuple[str, str]]:
        """One operator per call: with ``ring_all`` the first of the ringing operators answers."""
        chosen: dict[str, str] = {}
        for offer in self.acd.offer(now):
            chosen.setdefault(offer.call_id, offer.operator)
        return list(chosen.items())

    def connect(self, call_id: str, operator: str, now: float) -> None:
        self.acd.accept(call_id, operator, now)

    def hang_up(self, call_id: str, now: float) -> None:
        self.acd.hangup(call_id, now, by="caller")

    def finish_wrap_up(self, operator: str, now: float) -> None:
        """Wrap-up ends when its time is up; the ACD's own timer may have closed it at the same instant."""
        try:
            self.acd.wrap_up_done(operator, now)
        except IllegalTransitionError:
            pass

    def abandon(self, call_id: str, now: float) -> None:
        self.acd.abandon(call_id, now)

    def pause(self, operator: str, now: float) -> None:
        self.acd.set_state(operator, OperatorState.BREAK, now, BREAK_REASON)

    def resume(self, operator: str, now: float) -> None:
        self.acd.set_state(operator, OperatorState.AVAILABLE, now)

    def expire(self, now: float) -> None:
        self.acd.tick(now)

    def events(self) -> Iterator[CallEvent]:
        """The journal stream from its start, read in chunks."""
        start = "-"
        while True:
            reply = self._redis.xrange(self._keys.journal, min=start, count=_READ_CHUNK)
            entries = cast(list[tuple[str, dict[str, str]]], reply)  # a decoding client
            for _, fields in entries:
                yield CallEvent.from_fields(fields)
            if len(entries) < _READ_CHUNK:
                return
            start = "(" + entries[-1][0]

    @staticmethod
    def delete_keys(client: redis.Redis, keys: Keys) -> None:
        """Remove every key of the simulation's own hotline tag, and nothing else."""
        batch = list(client.scan_iter(match=keys.prefix + "*", count=1000))
        for i in range(0, len(batch), 500):
            client.delete(*batch[i : i + 500])
