"""The composition root: the one place that picks concrete adapters. Every entry point starts here."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from callcenter.config import Settings
from callcenter.hotline import Hotline
from callcenter.journal import JournalWriter
from callcenter.kpi.live import LiveKpiProjection
from callcenter.kpi.rollup import KpiRollupProjection
from callcenter.storage import db
from callcenter.storage.event_store import SqlEventStore
from callcenter.surveys import SurveyProjection
from callcenter.ticket_projection import TicketProjection
from queueing.acd import Acd
from queueing.connection import RedisClients, connect
from queueing.jobs import RqJobQueue, run_thread_worker
from queueing.journal import RedisJournal
from queueing.keys import Keys

logger = logging.getLogger(__name__)

Clock = Callable[[], float]


@dataclass
class Container:
    """Everything a process needs, wired once."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    redis: RedisClients
    keys: Keys
    journal: RedisJournal
    journal_writer: JournalWriter
    jobs: RqJobQueue
    acd: Acd
    clock: Clock = time.time
    _threads: list[threading.Thread] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    @property
    def hotline(self) -> Hotline:
        return self.settings.hotline

    def start_background(self) -> None:
        """Embedded mode: run the job worker and the journal consumer as threads of this process."""
        block_ms = None if self.redis.embedded else 500
        self._spawn("journal", lambda: self.journal_writer.run(self._stop.is_set, idle_block_ms=block_ms))
        self._spawn("jobs", lambda: run_thread_worker(self.jobs.queue, self._stop))

    def _spawn(self, name: str, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, name=f"callcenter-{name}", daemon=True)
        thread.start()
        self._threads.append(thread)

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        self.redis.close()
        self.engine.dispose()


def consumer_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{threading.get_ident()}"


def build_container(settings: Settings, redis_clients: RedisClients | None = None) -> Container:
    """Wire the adapters the settings ask for (SQLite/PostgreSQL; real or in-process Redis)."""
    engine = db.make_engine(settings.database_url)
    sessions = db.make_sessionmaker(engine)
    clients = redis_clients or connect(settings.redis_url)
    keys = Keys(tag=settings.hotline_tag)
    journal = RedisJournal(clients.live, keys, consumer=consumer_name())
    writer = JournalWriter(journal, SqlEventStore(sessions), sessions, batch_size=settings.journal_batch_size)
    writer.add_projection(TicketProjection(settings.hotline, time.time))
    writer.add_projection(LiveKpiProjection.for_hotline(clients.live, keys, settings.hotline))
    writer.add_projection(SurveyProjection())
    writer.add_projection(KpiRollupProjection.for_hotline(settings.hotline))
    return Container(
        settings=settings,
        engine=engine,
        sessions=sessions,
        redis=clients,
        keys=keys,
        journal=journal,
        journal_writer=writer,
        jobs=RqJobQueue(clients.raw, keys),
        acd=Acd(clients.live, keys, settings.hotline),
    )
