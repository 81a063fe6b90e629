"""The journal through a real PostgreSQL outage: a TCP proxy in front of the server is cut, not the server."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from callcenter.bootstrap import build_container
from callcenter.storage.models import Call, CallEventRecord
from tests.support.events import answered_call
from tests.support.tcpproxy import TcpProxy

pytestmark = [pytest.mark.real, pytest.mark.parametrize("backend", ["real"], indirect=True)]
T0 = 1_800_000_000.0


@pytest.fixture
def proxied(settings, redis_clients):
    """A container whose database connection goes through a TCP proxy the test can cut."""
    url = urlsplit(settings.database_url)
    proxy = TcpProxy(url.hostname or "127.0.0.1", url.port or 5432)
    proxied_url = settings.database_url.replace(f"{url.hostname}:{url.port}", f"127.0.0.1:{proxy.port}")
    container = build_container(replace(settings, database_url=proxied_url), redis_clients=redis_clients[0])
    yield container, proxy
    container._stop.set()
    proxy.close()
    container.engine.dispose()


def stored(container) -> tuple[int, int]:
    with container.sessions() as session:
        events = session.scalar(select(func.count()).select_from(CallEventRecord))
        calls = session.scalar(select(func.count()).select_from(Call))
    return int(events or 0), int(calls or 0)


def test_while_sql_is_unreachable_events_stay_in_the_stream_and_calls_keep_flowing(proxied):
    container, proxy = proxied
    container.journal.append_many(answered_call("before", T0))
    container.journal_writer.drain_all()
    proxy.cut()
    for i in range(20):  # the live side (Redis) keeps taking calls
        container.journal.append_many(answered_call(f"during-{i}", T0 + i))
    with pytest.raises(OperationalError):
        container.journal_writer.drain_once()
    assert container.journal.backlog() == 140
    proxy.restore()
    assert container.journal_writer.drain_all() == 140
    assert stored(container) == (147, 21)
    assert container.journal.backlog() == 0


def test_backlog_drains_by_itself_when_the_database_returns(proxied):
    container, proxy = proxied
    stop = threading.Event()
    runner = threading.Thread(target=container.journal_writer.run, args=(stop.is_set,), kwargs={"idle_block_ms": 50})
    proxy.cut()
    runner.start()
    try:
        for i in range(50):
            container.journal.append_many(answered_call(f"c{i}", T0 + i))
        time.sleep(1.0)
        assert container.journal.backlog() == 350  # nothing written, nothing lost
        proxy.restore()
        deadline = time.monotonic() + 30
        while container.journal.backlog() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        runner.join(timeout=15)
    assert container.journal.backlog() == 0
    assert stored(container) == (350, 50)


def test_replay_after_the_outage_writes_no_duplicate(proxied):
    container, proxy = proxied
    events = [e for i in range(10) for e in answered_call(f"c{i}", T0 + i)]
    container.journal.append_many(events)
    proxy.cut()
    with pytest.raises(OperationalError):
        container.journal_writer.drain_once()
    proxy.restore()
    container.journal_writer.drain_all()
    container.journal.append_many(events)  # the whole batch delivered again
    assert container.journal_writer.drain_all() == 0
    assert stored(container) == (70, 10)
