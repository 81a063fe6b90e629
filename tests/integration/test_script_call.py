"""``queueing.script_call.run_script`` on the real Redis: one EVALSHA on the thread's own connection, and
redis-py's own path for everything unusual (a script not loaded, a lost connection, the emulation)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import fakeredis
import pytest
import redis
from redis.commands.core import Script

from queueing import script_call
from queueing.script_call import run_script
from tests.conftest import REDIS_URL, redis_up, require
from tests.support.tcpproxy import TcpProxy

pytestmark = pytest.mark.real


@pytest.fixture
def key() -> Iterator[str]:
    require(redis_up(), f"no Redis at {REDIS_URL}")
    name = "script-call:" + uuid.uuid4().hex
    yield name
    redis.Redis.from_url(REDIS_URL).delete(name)


def counting(client: redis.Redis) -> Script:
    # a comment unique to this test: Redis has never seen this script, so its first EVALSHA meets NOSCRIPT
    return client.register_script(f"-- {uuid.uuid4().hex}\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])")


def test_calls_keep_one_connection_per_thread_and_the_pool_untouched(key: str) -> None:
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    script = counting(client)
    assert run_script(script, [key], [2]) == 2  # NOSCRIPT first: redis-py's path loaded it
    pool = client.connection_pool
    created = pool._created_connections
    assert [run_script(script, [key], [1]) for _ in range(5)] == [3, 4, 5, 6, 7]
    assert pool._created_connections == created  # no new connection, no checkout
    mine = script_call._pinned.connections[pool][1]
    other: list[object] = []
    thread = threading.Thread(
        target=lambda: other.append((run_script(script, [key], [1]), script_call._connection(client)))
    )
    thread.start()
    thread.join()
    assert other[0][0] == 8 and other[0][1] is not mine  # another thread, another connection
    client.close()


def test_a_lost_connection_is_retried_on_redis_pys_path_and_the_thread_reconnects(key: str) -> None:
    url = urlsplit(REDIS_URL)
    proxy = TcpProxy(url.hostname or "127.0.0.1", url.port or 6379)
    try:
        client = redis.Redis(host="127.0.0.1", port=proxy.port, decode_responses=True, socket_timeout=2)
        script = counting(client)
        assert run_script(script, [key], [1]) == 1
        pinned = script_call._connection(client)
        proxy.cut()
        proxy.restore()
        assert run_script(script, [key], [1]) == 2  # the pinned socket was reset: redis-py's path answered
        assert run_script(script, [key], [1]) == 3  # and the pinned connection is back
        assert script_call._connection(client) is pinned
        proxy.cut()
        with pytest.raises(redis.ConnectionError):  # down for good: the error reaches the caller
            run_script(script, [key], [1])
        client.close()
    finally:
        proxy.close()


def test_script_errors_are_raised_as_they_are(key: str) -> None:
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    script = client.register_script("return redis.error_reply('ACD:NO_SUCH_CALL|x|')")
    run_script(client.register_script("return 1"), [key], [])
    with pytest.raises(redis.ResponseError, match="ACD:NO_SUCH_CALL"):
        run_script(script, [key], [])
    assert run_script(counting(client), [key], [4]) == 4  # the connection is still in a sound state
    client.close()


def test_the_emulation_goes_through_redis_pys_path() -> None:
    client = fakeredis.FakeRedis(decode_responses=True)
    assert script_call._connection(client) is None
    assert run_script(counting(client), ["k"], [5]) == 5
