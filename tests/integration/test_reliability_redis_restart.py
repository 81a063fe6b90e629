"""Redis restarted under traffic, on a throwaway redis-server of the test (never the shared one).

With the AOF (``appendonly yes``, ``appendfsync always`` here; ``everysec`` in production loses at most the last
second) nothing acknowledged is lost. Without persistence the recovery service rebuilds from SQL what it can,
and every call still ends with a record.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import select

from callcenter.bootstrap import Container, build_container
from callcenter.config import Settings
from callcenter.domain.events import EventType
from callcenter.domain.operator import CallAlreadyQueuedError
from callcenter.recovery import recovery_for
from callcenter.storage.models import Call, CallLeg
from queueing.connection import connect
from tests.support.events import event
from tests.support.redis_server import RedisServer

pytestmark = [pytest.mark.real, pytest.mark.parametrize("backend", ["real"], indirect=True)]
T0 = 1_800_000_000.0


@pytest.fixture
def c(server: RedisServer, settings: Settings) -> Iterator[Container]:
    """The application core on the throwaway Redis (and the test's PostgreSQL database)."""
    built = build_container(replace(settings, redis_url=server.url), redis_clients=connect(server.url))
    built.acd.sync_config(T0)
    yield built
    built.redis.close()
    built.engine.dispose()


@pytest.fixture(params=["aof", "none"], ids=["aof", "no-persistence"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RedisServer]:
    started = RedisServer(tmp_path, appendonly=request.param == "aof").start()
    yield started
    started.stop()


def journal_entries(c: Container) -> list[tuple[str, dict[str, str]]]:
    return c.redis.live.xrange(c.keys.journal)  # type: ignore[return-value]


def retried(action: Any, *args: Any, **kwargs: Any) -> Any:
    """Run one ACD call, retrying while Redis is down (its first reply after the restart is the answer)."""
    deadline = time.monotonic() + 20
    while True:
        try:
            return action(*args, **kwargs)
        except (redis.ConnectionError, redis.TimeoutError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.mark.parametrize("server", ["aof"], indirect=True)
def test_with_aof_a_crash_keeps_callers_operators_and_journal_exactly(server: RedisServer, c: Container) -> None:
    c.acd.login("anna", T0)
    for i in range(5):
        c.acd.enqueue(f"w{i}", "general", T0 + i, channel="twilio", caller=f"+3630{i}")
    [offer] = c.acd.offer(T0 + 10)
    c.acd.accept(offer.call_id, offer.operator, T0 + 11)
    c.acd.login("bela", T0 + 12)
    c.acd.set_state("bela", "break", T0 + 12, "lunch")
    before, entries = c.acd.snapshot(T0 + 20), journal_entries(c)
    server.crash()
    with pytest.raises(redis.ConnectionError):
        c.acd.snapshot(T0 + 20)
    server.start()
    assert retried(c.acd.snapshot, T0 + 20) == before
    assert journal_entries(c) == entries
    c.acd.hangup(offer.call_id, T0 + 30, by="operator")  # the scripts reload themselves; routing goes on
    assert c.acd.snapshot(T0 + 30)["operators"][offer.operator]["state"] == "wrap_up"


@pytest.mark.parametrize("server", ["aof"], indirect=True)
def test_with_aof_every_acknowledged_enqueue_survives_a_crash_under_traffic(server: RedisServer, c: Container) -> None:
    c.acd.login("anna", T0)
    c.redis.live.hset(c.keys.queue_config("general"), "max_waiting", 10**6)  # the traffic queues thousands
    acknowledged: list[str] = []
    stop = threading.Event()

    def traffic() -> None:
        i = 0
        while not stop.is_set():
            call = f"t{i}"
            try:
                retried(c.acd.enqueue, call, "general", T0 + i, channel="twilio", caller="+36301")
            except CallAlreadyQueuedError:
                pass  # applied and persisted just before the crash; only the reply was lost
            acknowledged.append(call)
            i += 1

    runner = threading.Thread(target=traffic)
    runner.start()
    time.sleep(0.5)
    server.crash()
    time.sleep(0.3)
    server.start()
    time.sleep(0.5)
    stop.set()
    runner.join(timeout=30)
    waiting = set(c.redis.live.zrange(c.keys.queue_waiting("general"), 0, -1))
    entered = {f["call_id"] for _id, f in journal_entries(c) if f["type"] == "ENTER_QUEUE"}
    assert len(acknowledged) > 20
    assert set(acknowledged) == waiting == entered


def sql_calls(c: Container) -> dict[str, tuple[str, bool]]:
    with c.sessions() as session:
        return {r.id: (r.outcome, r.ended_at is not None) for r in session.scalars(select(Call))}


def started(c: Container, call: str, ts: float) -> None:
    c.journal.append(event(EventType.CALL_STARTED, call, ts, channel="twilio", data={"from": "+36301234567"}))


def leg_ended(c: Container, call: str, ts: float) -> None:
    import datetime as dt

    with c.sessions.begin() as session:
        session.add(CallLeg(call_id=call, leg_sid=call, kind="caller", channel="twilio", status="completed",
                            status_seq=5, ended_at=dt.datetime.fromtimestamp(ts, dt.UTC)))  # fmt: skip


@pytest.mark.parametrize("server", ["none"], indirect=True)
def test_without_persistence_recovery_rebuilds_from_sql_and_every_call_ends_with_a_record(
    server: RedisServer, c: Container
) -> None:
    now = time.time()
    for call in ("A", "B", "C", "D", "E"):
        started(c, call, now - 100)
    c.acd.login("anna", now - 90)
    c.acd.login("bela", now - 90)
    c.acd.set_state("bela", "break", now - 89, "lunch")
    c.acd.enqueue("A", "general", now - 80, channel="twilio", caller="+361")
    c.acd.offer(now - 79)
    c.acd.accept("A", "anna", now - 78)
    for i, call in enumerate(("B", "C", "E")):
        c.acd.enqueue(call, "general", now - 70 + i, channel="twilio", caller="+362")
    c.journal_writer.drain_all()
    leg_ended(c, "D", now - 50)  # hung up in the IVR; the hang-up never reached us
    leg_ended(c, "E", now - 40)  # hung up while waiting; the ACD did not hear of it
    service = recovery_for(c)
    service.redis.set(service.mark_key, "1")
    assert not service.needed()

    server.restart()  # no AOF, no RDB: an empty Redis
    assert retried(service.needed)
    report = service.rebuild(now)

    assert report.connected == ["A"] and report.requeued == ["B", "C"] and sorted(report.ended) == ["D", "E"]
    assert report.operators == {"anna": "on_call", "bela": "break"}
    snap = c.acd.snapshot(now)
    assert (snap["operators"]["anna"]["state"], snap["operators"]["anna"]["call"]) == ("on_call", "A")
    assert (snap["operators"]["bela"]["state"], snap["operators"]["bela"]["reason"]) == ("break", "lunch")
    assert c.redis.live.zrange(c.keys.queue_waiting("general"), 0, -1) == ["B", "C"]  # their original order
    assert c.acd.position("B", now).position == 1
    assert not service.needed()

    # Life goes on: the restored conversation ends, the re-queued callers are answered and hang up.
    c.acd.hangup("A", now + 1, by="operator")
    c.acd.wrap_up_done("anna", now + 2)
    c.acd.set_state("bela", "available", now + 3)  # bela comes back from lunch and re-announces herself
    for offer in c.acd.offer(now + 4):
        c.acd.accept(offer.call_id, offer.operator, now + 5)
        c.acd.hangup(offer.call_id, now + 60, by="caller")
    c.journal_writer.drain_all()
    calls = sql_calls(c)
    assert set(calls) == {"A", "B", "C", "D", "E"}
    assert all(ended for _outcome, ended in calls.values()), calls
    assert calls["A"][0] == calls["B"][0] == calls["C"][0] == "answered"
    assert calls["D"][0] == "ended"
