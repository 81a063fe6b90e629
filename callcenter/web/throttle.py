"""Redis adapter of the login throttle: a fixed window of failed attempts per (username, address)."""

from __future__ import annotations

import redis

from queueing.keys import Keys

MAX_FAILURES = 5
WINDOW_SECONDS = 900


class RedisLoginThrottle:
    """After MAX_FAILURES failed logins within WINDOW_SECONDS the pair waits until the window ends."""

    def __init__(
        self, client: redis.Redis, keys: Keys, max_failures: int = MAX_FAILURES, window_seconds: int = WINDOW_SECONDS
    ):
        self._redis, self._keys = client, keys
        self._max, self._window = max_failures, window_seconds

    def retry_after(self, username: str, address: str) -> int:
        key = self._keys.login_attempts(username, address)
        failures = int(self._redis.get(key) or 0)
        if failures < self._max:
            return 0
        return max(1, int(self._redis.ttl(key)))

    def failed(self, username: str, address: str) -> None:
        key = self._keys.login_attempts(username, address)
        pipe = self._redis.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, self._window, nx=True)
        pipe.execute()

    def succeeded(self, username: str, address: str) -> None:
        self._redis.delete(self._keys.login_attempts(username, address))
