"""Jobs and a consumer process for the reliability tests: a real project job that stalls once, on request.

RQ imports these by dotted path inside a real ``callcenter worker`` (PYTHONPATH must hold the repository).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import redis

from webhooks import jobs as twilio_jobs

STALL_SECONDS = 120


def record_leg_stalling_once(tag: str, leg: dict[str, Any], flag_key: str, stall: str) -> bool:
    """``webhooks.jobs.record_leg``; the first attempt publishes its pid and hangs ``before`` or ``after`` it."""
    client = redis.Redis.from_url(os.environ["CALLCENTER_REDIS_URL"], decode_responses=True)
    first = bool(client.set(flag_key, os.getpid(), nx=True, ex=600))
    if first and stall == "before":
        _hang(client, flag_key)
    written = twilio_jobs.record_leg(tag, leg)
    if first and stall == "after":
        _hang(client, flag_key)
    client.incr(flag_key + ":done")
    return written


def _hang(client: redis.Redis, flag_key: str) -> None:
    client.set(flag_key + ":stalled", os.getpid(), ex=600)
    time.sleep(STALL_SECONDS)


def consume_and_hang(where: str) -> None:
    """A journal consumer (``python -m tests.support.reliability_jobs <where>``) that hangs in its first batch.

    ``before_commit``: inside the SQL transaction (nothing committed); ``before_ack``: after the commit, before
    the acknowledgement. The test SIGKILLs it there.
    """
    from callcenter.bootstrap import build_container
    from callcenter.config import load_settings

    container = build_container(load_settings())
    journal, writer = container.journal, container.journal_writer
    client = container.redis.live
    marker = container.keys.prefix + "test:consumer"

    class Hang:
        def apply(self, events: Any, session: Any) -> None:
            client.set(marker, journal.consumer)
            time.sleep(STALL_SECONDS)

    if where == "before_commit":
        writer.add_projection(Hang())
    else:

        def ack_never(entry_ids: list[str]) -> None:
            client.set(marker, journal.consumer)
            time.sleep(STALL_SECONDS)

        journal.ack = ack_never  # type: ignore[method-assign]
    writer.drain_once()


if __name__ == "__main__":
    consume_and_hang(sys.argv[1])
