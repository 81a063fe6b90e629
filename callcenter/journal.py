"""The journal consumer: drains call events from the live journal into SQL, exactly once in effect.

At-least-once delivery (entries are acked only after the SQL commit) plus idempotent writes (unique event id)
give exactly-once records: a crash between commit and ack replays the batch, and the replay inserts nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
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
    refused: int = 0  # parsed, but refused by the database as data: moved to the dead letters


@dataclass
class _Pending:
    """One event of a batch and the stream entries carrying it (more than one after a replay)."""

    event: CallEvent
    entries: list[tuple[str, dict[str, str]]] = field(default_factory=list)


def _is_data_error(exc: BaseException) -> bool:
    """A value the database cannot take (PEP 249 DataError/IntegrityError, wrapped by SQLAlchemy or raised by
    the driver's COPY), as opposed to an unreachable database, which is worth a retry."""
    return any(cls.__name__ in ("DataError", "IntegrityError") for cls in type(exc).__mro__)


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
        """Write one batch; raises the database error (entries stay pending) if SQL is unreachable.

        A batch the database refuses as data (a value no column can hold) is written again event by event, and
        the events it still refuses go to the dead letters: one bad event never stalls the journal."""
        entries = self._source.read(self._batch_size, block_ms)
        result = DrainResult(read=len(entries))
        batch = self._parse(entries, result)
        try:
            result.written = self._write(batch)
        except Exception as exc:
            if not _is_data_error(exc):
                raise
            logger.warning("journal: a batch of %d events was refused as data (%s); writing them one by one",
                           len(batch), type(exc).__name__)  # fmt: skip
            result.written = self._write_one_by_one(batch, result)
        return result

    def _write(self, batch: list[_Pending]) -> int:
        with self._sessions.begin() as session:
            new_events = self._store.store([item.event for item in batch], session)
            for projection in self._projections:
                projection.apply(new_events, session)
        self._source.ack([entry_id for item in batch for entry_id, _fields in item.entries])
        return len(new_events)

    def _write_one_by_one(self, batch: list[_Pending], result: DrainResult) -> int:
        written = 0
        for item in batch:
            try:
                written += self._write([item])
            except Exception as exc:
                if not _is_data_error(exc):
                    raise
                event = item.event
                logger.error("journal: event %s (%s) of call %s refused by the database, moved to dead letters: %s",
                             event.id, event.type.value, event.call_id, exc)  # fmt: skip
                for entry_id, fields in item.entries:
                    self._source.dead_letter(entry_id, fields, f"refused by the database: {exc}")
                result.refused += 1
        return written

    def drain_all(self) -> int:
        """Write until the journal is empty (tests, shutdown); returns how many new events were written."""
        written = 0
        while True:
            result = self.drain_once()
            written += result.written
            if result.read == 0:
                return written

    def _parse(self, entries: list[tuple[str, dict[str, str]]], result: DrainResult) -> list[_Pending]:
        batch: dict[str, _Pending] = {}
        for entry_id, fields in entries:
            try:
                event = CallEvent.from_fields(fields)
            except MalformedEventError as exc:
                logger.error("journal entry %s is malformed, moved to dead letters: %s", entry_id, exc)
                self._source.dead_letter(entry_id, fields, str(exc))
                result.malformed += 1
                continue
            # The same event twice in one batch (a replay) is written once; both entries are acked.
            batch.setdefault(event.id, _Pending(event)).entries.append((entry_id, fields))
        return list(batch.values())

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
