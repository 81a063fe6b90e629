"""A Lua script call on a connection the calling thread keeps, instead of a pool checkout per command.

For every command redis-py takes a connection from its pool (a lock, a pid check, observability hooks) and runs
the call inside its retry loop: about 45 us of CPU here, as much as the rest of a webhook's own Python. The hot
paths (every ACD operation, every incoming Twilio call) are one EVALSHA each, so each thread keeps one
connection per client and sends the EVALSHA on it directly. Anything unusual is handed to redis-py's own path,
which reconnects, retries and loads the script as it always does: a lost connection or a timeout (the pinned
connection is dropped and reconnects on its next use), a script Redis has not loaded (NOSCRIPT). Script errors
(the ACD's refusals) are raised as they are.

The in-process emulation (fakeredis) has no sockets to save; its calls go through redis-py's path.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Sequence
from typing import Any

import redis
from redis.commands.core import Script
from redis.connection import ConnectionPool
from redis.exceptions import NoScriptError

_pinned = threading.local()


def run_script(script: Script, keys: Sequence[Any], args: Sequence[Any]) -> Any:
    """``script(keys=keys, args=args)``: one EVALSHA, on this thread's own connection where there is one."""
    connection = _connection(script.registered_client)
    if connection is not None:
        try:
            connection.send_command("EVALSHA", script.sha, len(keys), *keys, *args)
            return connection.read_response()
        except NoScriptError:
            pass  # redis-py's path loads it
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            connection.disconnect()  # reconnects on its next use
    return script(keys=keys, args=args)


Pinned = weakref.WeakKeyDictionary[ConnectionPool, tuple[int, Any]]


def _connection(client: Any) -> Any:
    """This thread's connection of ``client``'s pool (made on first use), or None where there is none to keep."""
    pool = client.connection_pool
    if type(pool) is not ConnectionPool or pool.connection_class.__module__.startswith("fakeredis"):
        return None  # the emulation, a blocking pool: redis-py's own path
    mine: Pinned | None = getattr(_pinned, "connections", None)
    if mine is None:
        mine = _pinned.connections = weakref.WeakKeyDictionary()
    held = mine.get(pool)
    if held is None or held[0] != os.getpid():  # none yet, or inherited through a fork
        held = mine[pool] = (os.getpid(), pool.make_connection())
    return held[1]
