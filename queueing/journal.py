"""The event journal on Redis: a stream appended by the ACD scripts and the channels, read by a consumer group.

Entries are acknowledged (and deleted) only after SQL has committed them, so a crash or an unreachable database
leaves them pending; the consumer re-reads its own pending entries first and claims those of dead consumers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import redis

from callcenter.domain.events import CallEvent
from queueing.keys import JOURNAL_GROUP, Keys

logger = logging.getLogger(__name__)

Entry = tuple[str, dict[str, str]]


class RedisJournal:
    """Append to and consume from the hotline's journal stream."""

    def __init__(self, client: redis.Redis, keys: Keys, consumer: str, claim_idle_ms: int = 60_000):
        self._redis = client
        self._keys = keys
        self.consumer = consumer
        self._claim_idle_ms = claim_idle_ms

    def append(self, event: CallEvent) -> str:
        """Append one event (events from Python code; the ACD scripts append their own in Lua)."""
        return str(self._redis.xadd(self._keys.journal, event.to_fields()))  # type: ignore[arg-type]

    def append_many(self, events: Iterable[CallEvent]) -> None:
        pipe = self._redis.pipeline(transaction=True)
        for event in events:
            pipe.xadd(self._keys.journal, event.to_fields())  # type: ignore[arg-type]
        pipe.execute()

    def ensure_group(self) -> None:
        try:
            self._redis.xgroup_create(self._keys.journal, JOURNAL_GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def read(self, count: int, block_ms: int | None = None) -> list[Entry]:
        """Own pending entries first (a previous write failed), then those of dead consumers, then new ones.

        ``block_ms`` waits for new entries at most that long; None or 0 does not wait (BLOCK 0 would be forever).
        """
        block_ms = block_ms or None
        try:
            entries = self._read_group("0", count, None)
        except redis.ResponseError as exc:
            # Redis says NOGROUP; the emulation, when the stream itself is missing, "requires the key to exist".
            if "NOGROUP" not in str(exc) and "requires the key to exist" not in str(exc):
                raise
            self.ensure_group()  # first start, or a Redis that lost its data: the stream starts afresh
            entries = self._read_group("0", count, None)
        if entries:
            return entries
        entries = self._claim_stale(count)
        if entries:
            return entries
        return self._read_group(">", count, block_ms)

    def _read_group(self, start: str, count: int, block_ms: int | None) -> list[Entry]:
        reply = self._redis.xreadgroup(
            JOURNAL_GROUP, self.consumer, {self._keys.journal: start}, count=count, block=block_ms
        )
        if not reply:
            return []
        entries: list[Entry] = reply[0][1]  # type: ignore[index,assignment]
        # A pending entry deleted meanwhile comes back with no fields: it was already written and acked.
        return [(entry_id, fields) for entry_id, fields in entries if fields]

    def _claim_stale(self, count: int) -> list[Entry]:
        reply = self._redis.xautoclaim(
            self._keys.journal, JOURNAL_GROUP, self.consumer, self._claim_idle_ms, "0-0", count=count
        )
        entries: list[Entry] = reply[1]
        if entries:
            logger.info("journal consumer %s claimed %d stale entries", self.consumer, len(entries))
        return [(entry_id, fields) for entry_id, fields in entries if fields]

    def ack(self, entry_ids: list[str]) -> None:
        """Acknowledge and delete written entries (one round trip)."""
        if not entry_ids:
            return
        pipe = self._redis.pipeline(transaction=True)
        pipe.xack(self._keys.journal, JOURNAL_GROUP, *entry_ids)
        pipe.xdel(self._keys.journal, *entry_ids)
        pipe.execute()

    def dead_letter(self, entry_id: str, fields: dict[str, str], reason: str) -> None:
        """Keep an unreadable entry for a human, then ack it so it cannot block the journal."""
        pipe = self._redis.pipeline(transaction=True)
        dead: dict[str, str] = {**fields, "_entry": entry_id, "_reason": reason[:500]}
        pipe.xadd(self._keys.journal_dead, dead)  # type: ignore[arg-type]
        pipe.xack(self._keys.journal, JOURNAL_GROUP, entry_id)
        pipe.xdel(self._keys.journal, entry_id)
        pipe.execute()

    def backlog(self) -> int:
        """Entries not yet written to SQL (the stream only holds unacked entries)."""
        return int(self._redis.xlen(self._keys.journal))
