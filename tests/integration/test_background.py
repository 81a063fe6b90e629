"""The embedded mode's background threads and the production `callcenter worker` both drain the journal."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from callcenter.storage.models import CallEventRecord
from tests.conftest import REDIS_URL
from tests.support.events import answered_call

T0 = 1_800_000_000.0


def stored_events(container) -> int:
    with container.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(CallEventRecord)) or 0)


def test_background_threads_write_the_journal_and_run_jobs(container):
    container.start_background()
    try:
        container.journal.append_many(answered_call("c1", T0))
        key = container.keys.prefix + "bg-job"
        container.jobs.enqueue("tests.support.jobs.remember", key, "ran")
        deadline = time.monotonic() + 15
        while (stored_events(container) < 7 or container.redis.live.get(key) is None) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        container.close()
    assert stored_events(container) == 7
    assert container.redis.live.get(key) == "ran"


@pytest.mark.real
@pytest.mark.parametrize("backend", ["real"], indirect=True)
def test_worker_command_drains_the_journal_into_postgresql(container, settings):
    container.journal.append_many(answered_call("c1", T0) + answered_call("c2", T0 + 1))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLCENTER_")}
    env.update(
        CALLCENTER_DATABASE_URL=settings.database_url,
        CALLCENTER_REDIS_URL=REDIS_URL,
        CALLCENTER_HOTLINE_TAG=settings.hotline_tag,
    )
    cli = str(Path(sys.executable).with_name("callcenter"))
    result = subprocess.run([cli, "worker", "--burst"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "journal: 14 events written" in result.stdout
    assert stored_events(container) == 14
