"""A worker or a journal consumer killed with SIGKILL mid-job: the work is redone once, nothing is lost.

Real processes on the real PostgreSQL and Redis: a ``callcenter worker`` (RQ forking worker: parent + work
horse) runs the Twilio channel's real ``record_leg`` job; a journal consumer process hangs inside its batch.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry
from sqlalchemy import func, select

from callcenter.bootstrap import Container
from callcenter.config import Settings
from callcenter.storage.models import Call, CallEventRecord, CallLeg
from queueing.journal import RedisJournal
from queueing.keys import JOURNAL_GROUP
from tests.conftest import REDIS_URL
from tests.support.events import answered_call

pytestmark = [pytest.mark.real, pytest.mark.parametrize("backend", ["real"], indirect=True)]
REPO = Path(__file__).resolve().parents[2]
T0 = 1_800_000_000.0


def env_of(settings: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "CALLCENTER_DATABASE_URL": settings.database_url,
        "CALLCENTER_REDIS_URL": REDIS_URL,
        "CALLCENTER_HOTLINE_TAG": settings.hotline_tag,
        "CALLCENTER_JOURNAL_BATCH": "50",
    }


def wait_for(condition: Callable[[], Any], seconds: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def spawn(settings: Settings) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start processes in their own session (so the test can kill a worker with its work horse)."""
    started: list[subprocess.Popen[bytes]] = []

    def start(*argv: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(argv, env=env_of(settings), cwd=REPO, start_new_session=True)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def worker_cmd() -> list[str]:
    return [str(Path(sys.executable).with_name("callcenter")), "worker"]


def leg(sid: str) -> dict[str, object]:
    return {"call_id": sid, "leg_sid": sid, "kind": "caller", "operator": "", "status": "completed", "seq": 3,
            "from_addr": "+3630111", "to_addr": "+3612", "ts": T0, "duration": "42"}  # fmt: skip


def legs(container: Container, sid: str) -> list[tuple[str, float | None]]:
    with container.sessions() as session:
        rows = session.execute(select(CallLeg.status, CallLeg.duration_seconds).where(CallLeg.leg_sid == sid))
        return [(status, duration) for status, duration in rows]


def enqueue_stalling(container: Container, sid: str, stall: str) -> tuple[str, str]:
    flag = container.keys.prefix + "test:stall:" + sid
    job_id = container.jobs.enqueue(
        "tests.support.reliability_jobs.record_leg_stalling_once", container.keys.tag, leg(sid), flag, stall
    )
    return job_id, flag


def finished(container: Container, job_id: str) -> bool:
    return Job.fetch(job_id, connection=container.redis.raw).get_status() == JobStatus.FINISHED


@pytest.mark.parametrize("stall", ["before", "after"])
def test_work_horse_killed_mid_job_is_retried_and_the_leg_is_written_once(
    container: Any, spawn: Any, stall: Any
) -> None:
    sid = f"CAhorse{stall}"
    job_id, flag = enqueue_stalling(container, sid, stall)
    spawn(*worker_cmd())
    horse = int(wait_for(lambda: container.redis.live.get(flag + ":stalled"), 60, "the job to stall"))
    os.kill(horse, signal.SIGKILL)
    wait_for(lambda: finished(container, job_id), 60, "the retried job to finish")
    assert container.redis.live.get(flag + ":done") == "1"  # only the retry ran to its end
    assert legs(container, sid) == [("completed", 42.0)]
    assert Job.fetch(job_id, connection=container.redis.raw).retries_left == 2  # one of three retries used


def test_worker_killed_with_its_work_horse_has_its_job_retried_by_another_worker(container: Any, spawn: Any) -> None:
    sid = "CAworkerdied"
    job_id, flag = enqueue_stalling(container, sid, "after")
    first = spawn(*worker_cmd())
    wait_for(lambda: container.redis.live.get(flag + ":stalled"), 60, "the job to stall")
    os.killpg(first.pid, signal.SIGKILL)  # the machine dies: worker and work horse together
    first.wait(timeout=10)
    registry = StartedJobRegistry(container.jobs.queue.name, connection=container.redis.raw)
    assert job_id in registry.get_job_ids(cleanup=False)
    # The job stays "started" until its heartbeat expires (job_monitoring_interval + 60 s); a worker's
    # maintenance then retries it. The test moves the clock to that expiry instead of waiting for it.
    expiry = container.redis.raw.zscore(registry.key, f"{job_id}:{_execution(registry, job_id)}")
    registry.cleanup(timestamp=float(expiry) + 1)
    assert job_id in container.jobs.queue.scheduled_job_registry.get_job_ids()  # retried after its interval
    # Likewise the dead worker's scheduler lock (61 s TTL) would expire; retries are due only once it has.
    container.redis.raw.delete(f"rq:scheduler-lock:{container.jobs.queue.name}")
    spawn(*worker_cmd())
    wait_for(lambda: finished(container, job_id), 60, "the job to run on the second worker")
    assert container.redis.live.get(flag + ":done") == "1"
    assert legs(container, sid) == [("completed", 42.0)]


def _execution(registry: StartedJobRegistry, job_id: str) -> str:
    for member in registry.connection.zrange(registry.key, 0, -1):
        text = member.decode() if isinstance(member, bytes) else str(member)
        if text.startswith(job_id + ":"):
            return text.split(":", 1)[1]
    raise AssertionError(f"{job_id} not in {registry.key}")


def stored(container: Container) -> tuple[int, int]:
    with container.sessions() as session:
        events = session.scalar(select(func.count()).select_from(CallEventRecord))
        calls = session.scalar(select(func.count()).select_from(Call))
    return int(events or 0), int(calls or 0)


@pytest.mark.parametrize("where", ["before_commit", "before_ack"])
def test_journal_consumer_killed_mid_batch_has_its_entries_claimed_once(container: Any, spawn: Any, where: Any) -> None:
    events = [e for i in range(10) for e in answered_call(f"k{i}", T0 + i)]
    container.journal.append_many(events)
    dead = spawn(sys.executable, "-m", "tests.support.reliability_jobs", where)
    marker = container.keys.prefix + "test:consumer"
    dead_name = str(wait_for(lambda: container.redis.live.get(marker), 60, "the consumer to hang mid-batch"))
    os.kill(dead.pid, signal.SIGKILL)
    dead.wait(timeout=10)
    pending = container.redis.live.xpending(container.keys.journal, JOURNAL_GROUP)
    assert pending["pending"] == 50 and pending["consumers"] == [{"name": dead_name, "pending": 50}]
    assert stored(container) == ((0, 0) if where == "before_commit" else (50, 8))  # 7 calls and part of an 8th
    survivor = RedisJournal(container.redis.live, container.keys, consumer="survivor", claim_idle_ms=300)
    container.journal_writer._source = survivor  # the container's writer, reading as another consumer
    time.sleep(0.4)  # the dead consumer's entries become idle past the claim threshold
    container.journal_writer.drain_all()
    assert stored(container) == (70, 10)
    assert container.journal.backlog() == 0
    assert container.redis.live.xpending(container.keys.journal, JOURNAL_GROUP)["pending"] == 0
