"""RQ jobs of the tickets: thin, primitive arguments, services from bootstrap.

Auto-close runs every ``AUTO_CLOSE_EVERY`` seconds as a chain of scheduled jobs: each run closes the due
tickets and schedules the next run with ``enqueue_at`` (the worker runs with RQ's scheduler; `callcenter
serve` embedded and `callcenter worker` both do). The job id names the time slot, so every process that
schedules the chain (``schedule_auto_close`` at start, ``callcenter tickets schedule-auto-close``) schedules the
same job, never a second chain.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any

from callcenter.tickets import TicketService

logger = logging.getLogger(__name__)

AUTO_CLOSE_EVERY = 3600
JOB = "callcenter.ticket_jobs.auto_close_tickets"

_containers: dict[str, Any] = {}
_lock = threading.Lock()


def register(container: Any) -> None:
    """Make ``container`` the one this process's ticket jobs use for its hotline tag (embedded mode, tests)."""
    with _lock:
        _containers[container.keys.tag] = container


def container_for(tag: str) -> Any:
    with _lock:
        if tag not in _containers:
            from callcenter.bootstrap import build_container
            from callcenter.config import load_settings

            settings = load_settings()
            if settings.hotline_tag != tag:
                raise LookupError(f"job for hotline {tag!r} on a worker configured for {settings.hotline_tag!r}")
            _containers[tag] = build_container(settings)
        return _containers[tag]


def schedule_in_next_slot(container: Any, job: str, name: str, every: int) -> str:
    """Schedule ``job(tag, every)`` at the start of the next ``every``-second slot; idempotent: the job id is
    ``name``, the hotline tag and the slot, so a chain scheduled twice (start-up and CLI) runs once per slot."""
    slot = (int(container.clock()) // every + 1) * every
    when = dt.datetime.fromtimestamp(slot, dt.UTC)
    job_id = f"{name}-{container.keys.tag}-{slot}"
    return str(container.jobs.enqueue_at(when, job, container.keys.tag, every, job_id=job_id))


def schedule_auto_close(container: Any, every: int = AUTO_CLOSE_EVERY) -> str:
    """Schedule the next auto-close run."""
    return schedule_in_next_slot(container, JOB, "ticket-auto-close", every)


def auto_close_tickets(tag: str, every: int = AUTO_CLOSE_EVERY) -> int:
    """Close resolved tickets past ``tickets.auto_close_resolved_after_days``, then schedule the next run."""
    container = container_for(tag)
    closed = TicketService(container.sessions, container.hotline, container.clock).auto_close_resolved()
    if every > 0:
        schedule_auto_close(container, every)
    return closed
