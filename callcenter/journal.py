"""The journal consumer: drains call events from the live journal into SQL, exactly once in effect.

At-least-once delivery (entries are acked only after the SQL commit) plus idempotent writes (unique event id)
give exactly-once records: a crash between commit and ack replays the batch, and the replay inserts nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from callcenter.domain.events import CallEvent, MalformedEventError

logger = logging.getLogger(__name__)


class JournalSource(Protocol):
    """Where events wait (the Redis stream in production)."""

    def read(self, count: int, block_ms: int | None = None) -> list[tuple[str, dict[str, str]]]: ...
    def ack(self, entry_ids: list[str]) -> None: ...
    def dead_letter(self, entry_id: str, fields: dict[str, str], reason: str) -> None: ...
    def backlog(self) -> int: ...


class EventStore(Protocol):
    def store(self, events: Sequence[CallEvent], session: Session) -> list[CallEvent]: ...


class Projection(Protocol):
    """Something else derived from new events in the same transaction (tickets, survey answers...)."""

    def apply(self, events: Sequence[CallEvent], session: Session) -> None: ...


@dataclass
class DrainResult:
    read: int = 0
    written: int = 0
    malformed: int = 0


class JournalWriter:
    """Moves batches from the journal to SQL; on a database error the batch stays pending for a retry."""

    def __init__(
        self,
        source: JournalSource,
        store: EventStore,
        sessions: sessionmaker[Session],
        projections: Sequence[Projection] = (),
        batch_size: int = 1000,
    ):
        self._source = source
        self._store = store
        self._sessions = sessions
        self._projections = list(projections)
        self._batch_size = batch_size

    def add_projection(self, projection: Projection) -> None:
        self._projections.append(projection)

    @property
    def projections(self) -> tuple[Projection, ...]:
        return tuple(self._projections)

    def drain_once(self, block_ms: int | None = None) -> DrainResult:
        """Write one batch; raises the database error (entries stay pending) if SQL is unreachable."""
        entries = self._source.read(self._batch_size, block_ms)
        result = DrainResult(read=len(entries))
        events, entry_ids = self._parse(entries, result)
        with self._sessions.begin() as session:
            new_events = self._store.store(events, session)
            for projection in self._projections:
                projection.apply(new_events, session)
        self._source.ack(entry_ids)
        result.written = len(new_events)
        return result

    def drain_all(self) -> int:
        """Write until the journal is empty (tests, shutdown); returns how many new events were written."""
        written = 0
        while True:
            result = self.drain_once()
            written += result.written
            if result.read == 0:
                return written

    def _parse(
        self, entries: list[tuple[str, dict[str, str]]], result: DrainResult
    ) -> tuple[list[CallEvent], list[str]]:
        events: list[CallEvent] = []
        entry_ids: list[str] = []
        seen: set[str] = set()
        for entry_id, fields in entries:
            try:
                event = CallEvent.from_fields(fields)
                entry_ids.append(entry_id)
                if event.id not in seen:  # the same event twice in one batch (a replay) counts once
                    seen.add(event.id)
                    events.append(event)
            except MalformedEventError as exc:
                logger.error("journal entry %s is malformed, moved to dead letters: %s", entry_id, exc)
                self._source.dead_letter(entry_id, fields, str(exc))
                result.malformed += 1
        return events, entry_ids

    def run(self, should_stop: Callable[[], bool], idle_block_ms: int | None = 500, max_backoff: float = 10.0) -> None:
        """Drain until told to stop, backing off while the database is unreachable.

        ``idle_block_ms`` None: poll every 0.1 s instead of blocking on the stream (the in-process emulation).
        """
        backoff = 0.5
        while not should_stop():
            try:
                result = self.drain_once(block_ms=idle_block_ms)
                backoff = 0.5
                if result.read == 0 and idle_block_ms is None:
                    _sleep_unless(should_stop, 0.1)
                continue
            except (OperationalError, DBAPIError) as exc:
                logger.warning("journal: database unavailable (%s); retry in %.1fs", type(exc).__name__, backoff)
            except Exception:  # Redis down or a bug: keep the consumer alive, the entries stay pending
                logger.exception("journal: drain failed; retry in %.1fs", backoff)
            _sleep_unless(should_stop, backoff)
            backoff = min(max_backoff, backoff * 2)


def _sleep_unless(should_stop: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not should_stop():
        time.sleep(0.05)
