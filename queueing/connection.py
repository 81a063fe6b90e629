"""Redis clients: the real server when a URL is configured, otherwise one in-process emulation.

Two clients share one server: ``live`` decodes replies to str (ACD state, journal), ``raw`` does not
(RQ pickles its jobs and needs bytes).
"""

from __future__ import annotations

from dataclasses import dataclass

import fakeredis
import redis


@dataclass(frozen=True)
class RedisClients:
    live: redis.Redis
    raw: redis.Redis
    embedded: bool

    def close(self) -> None:
        self.live.close()
        self.raw.close()


def connect(url: str | None) -> RedisClients:
    """Clients for ``url``, or for a fresh in-process server (fakeredis with Lua) when ``url`` is None."""
    if url is None:
        server = fakeredis.FakeServer()
        return RedisClients(
            live=fakeredis.FakeRedis(server=server, decode_responses=True),
            raw=fakeredis.FakeRedis(server=server),
            embedded=True,
        )
    options = {"socket_timeout": 5, "socket_connect_timeout": 2, "health_check_interval": 15}
    return RedisClients(
        live=redis.Redis.from_url(url, decode_responses=True, **options),
        raw=redis.Redis.from_url(url, **options),
        embedded=False,
    )
