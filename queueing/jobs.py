"""RQ adapter of the job port, and the worker flavour that can run in a thread of `callcenter serve`."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any

import redis
from rq import Queue, Retry, SimpleWorker, Worker
from rq.timeouts import TimerDeathPenalty

from queueing.keys import Keys

logger = logging.getLogger(__name__)


class RqJobQueue:
    """Jobs go to the hotline's RQ queue; each is retried on failure (a crashed worker loses nothing)."""

    def __init__(self, raw_client: redis.Redis, keys: Keys, name: str = "default"):
        self.queue = Queue(keys.rq_queue_name(name), connection=raw_client)

    def enqueue(self, job: str, *args: Any, job_id: str | None = None) -> str:
        queued = self.queue.enqueue(job, *args, job_id=job_id, retry=Retry(max=3, interval=[5, 30, 120]))
        return str(queued.id)

    def enqueue_at(self, when: dt.datetime, job: str, *args: Any, job_id: str | None = None) -> str:
        queued = self.queue.enqueue_at(when, job, *args, job_id=job_id, retry=Retry(max=3, interval=[5, 30, 120]))
        return str(queued.id)


class ThreadWorker(SimpleWorker):
    """An RQ worker that runs jobs in its own thread (embedded mode): no signal handlers, no fork.

    Job timeouts use a timer thread instead of SIGALRM, which only the main thread may set.
    """

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self) -> None:
        pass

    def subscribe(self) -> None:
        """No pubsub channel for RQ's remote commands (stop a job, shut down): nothing sends them to an embedded
        worker, and a burst would subscribe and tear the listener down five times a second. Tearing it down
        also stalled: redis-py 8.2 joins the listener thread without a timeout, and RQ's listener sleeps 60 s
        between reads, so a burst's teardown could hold every job back for up to a minute."""


def run_thread_worker(queue: Queue, stop: threading.Event, poll_seconds: float = 0.2) -> None:
    """Work the queue in bursts until ``stop`` is set (embedded mode has no blocking pop to interrupt)."""
    worker = ThreadWorker([queue], connection=queue.connection)
    while not stop.is_set():
        try:
            worker.work(burst=True, with_scheduler=True, logging_level="WARNING")
        except Exception:
            logger.exception("embedded job worker failed; continuing")
        stop.wait(poll_seconds)


def forking_worker(queue: Queue) -> Worker:
    """The production worker: a work horse process per job, so a crash kills only that job.

    A killed work horse is seen at once and its job retried (``Retry``). A killed worker leaves its job
    "started" until the heartbeat expires (monitoring interval + RQ's fixed 60 s); any worker's maintenance
    then retries it, so these two intervals bound how long such a job waits (RQ's defaults: up to 11 minutes).
    """
    return ProductionWorker([queue], connection=queue.connection, job_monitoring_interval=10, maintenance_interval=60)


class ProductionWorker(Worker):
    """RQ's forking worker, with its remote-command listener polling every second instead of every 60 s: redis-py
    8.2 joins that thread without a timeout when the worker stops, so a shutdown waited up to a minute."""

    def subscribe(self) -> None:
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(  # type: ignore[assignment]
            sleep_time=1, daemon=True, exception_handler=self._pubsub_exception_handler
        )
