"""Shared fixtures: every SQL/Redis test runs on the embedded defaults and on real PostgreSQL + Redis.

Real servers: PostgreSQL at CALLCENTER_TEST_PG (default postgresql://postgres@127.0.0.1:5432/test) and Redis at
CALLCENTER_TEST_REDIS (default redis://127.0.0.1:6379/0). Each test session creates its own PostgreSQL database
and uses its own Redis hash tag, and removes only what it created. When a server is missing the `real`
variants skip with the reason, except in CI (CI=true), where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import redis

from queueing.connection import RedisClients, connect
from queueing.keys import Keys

PG_ADMIN_URL = os.environ.get("CALLCENTER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("CALLCENTER_TEST_REDIS", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() == "true"

BACKENDS = ["embedded", pytest.param("real", marks=pytest.mark.real)]


def require(condition: bool, reason: str) -> None:
    """Skip when a real part is missing on a laptop; fail in CI, where everything must be there."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI must provide this: {reason}")
    pytest.skip(reason)


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def delete_tag(client: redis.Redis, keys: Keys) -> None:
    """Remove every key of one hotline tag (and its RQ keys), nothing else."""
    for pattern in (keys.prefix + "*", f"rq:*{keys.rq_queue_name('')}*"):
        batch = list(client.scan_iter(match=pattern, count=1000))
        if batch:
            client.delete(*batch)


@pytest.fixture(params=BACKENDS)
def redis_clients(request: pytest.FixtureRequest) -> Iterator[tuple[RedisClients, Keys]]:
    """(clients, keys) on the in-process emulation or the real server, under a tag unique to this test."""
    keys = Keys(tag="t" + uuid.uuid4().hex[:12])
    if request.param == "real":
        require(_redis_up(), f"no Redis at {REDIS_URL}")
        clients = connect(REDIS_URL)
    else:
        clients = connect(None)
    yield clients, keys
    delete_tag(clients.live, keys)
    clients.close()


@pytest.fixture
def redis_client(redis_clients: tuple[RedisClients, Keys]) -> redis.Redis:
    """A decoding Redis client (emulated or real)."""
    return redis_clients[0].live


@pytest.fixture
def keys(redis_clients: tuple[RedisClients, Keys]) -> Keys:
    """Key templates under a hash tag no other test uses."""
    return redis_clients[1]
