"""The ACD's Lua scripts: loaded from ``queueing/lua``, assembled with a shared library, run by EVALSHA.

Every script is ``header + core.lua + operators.lua + calls.lua + <operation>.lua``. The header is generated
here from the two single sources of truth: the key templates of :mod:`queueing.keys` (as Lua functions of
the hotline prefix, passed as ``KEYS[1]`` so Redis Cluster routes the call to the hotline's slot) and the
operator transition table of :mod:`callcenter.domain.operator`.

Argument convention: ``ARGV[1..4] = now, event id base, today, random seed``; operation arguments follow.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

import redis
from redis.commands.core import Script

from callcenter.domain.operator import MANUAL_SOURCES, MANUAL_TARGETS, TRANSITIONS
from queueing.keys import Keys

LIBRARY = ("core", "operators", "calls")
OPERATIONS = (
    "set_state",
    "enqueue",
    "offer",
    "accept",
    "no_answer",
    "hangup",
    "wrap_up_done",
    "abandon",
    "transfer",
    "request_callback",
    "callback_dialled",
    "tick",
    "position",
    "snapshot",
)
_KEY_FUNCTIONS = (
    "queue_waiting",
    "queue_operators",
    "queue_stats",
    "queue_config",
    "queue_available",
    "queue_staffed",
    "operator",
    "operator_skills",
    "call",
)
_KEY_CONSTANTS = ("journal", "acd_timers", "acd_meta", "queues", "operators")
_TAG = "\x00tag\x00"
_MARK = "\x01"


def _lua_str(text: str) -> str:
    return json.dumps(text)


def _key_header() -> list[str]:
    keys = Keys(tag=_TAG)
    lines = ["local P = KEYS[1]"]
    for name in _KEY_FUNCTIONS:
        head, tail = getattr(keys, name)(_MARK).removeprefix(keys.prefix).split(_MARK)
        lines.append(f"local function k_{name}(x) return P .. {_lua_str(head)} .. x .. {_lua_str(tail)} end")
    for name in _KEY_CONSTANTS:
        lines.append(f"local K_{name} = P .. {_lua_str(getattr(keys, name).removeprefix(keys.prefix))}")
    return lines


def _state_header() -> list[str]:
    rows = []
    for state, targets in sorted(TRANSITIONS.items()):
        inner = ", ".join(f"[{_lua_str(t.value)}] = true" for t in sorted(targets))
        rows.append(f"  [{_lua_str(state.value)}] = {{ {inner} }},")
    manual = ", ".join(f"[{_lua_str(t.value)}] = true" for t in sorted(MANUAL_TARGETS))
    sources = ", ".join(f"[{_lua_str(t.value)}] = true" for t in sorted(MANUAL_SOURCES))
    return [
        "local TRANSITIONS = {",
        *rows,
        "}",
        f"local MANUAL = {{ {manual} }}",
        f"local MANUAL_FROM = {{ {sources} }}",
    ]


def _read(name: str) -> str:
    return resources.files("queueing").joinpath("lua", f"{name}.lua").read_text(encoding="utf-8")


@cache
def source(operation: str) -> str:
    """The complete Lua text of one operation (generated header, shared library, operation body)."""
    parts = ["\n".join(_key_header()), "\n".join(_state_header())]
    parts += [_read(name) for name in LIBRARY]
    parts.append(_read(operation))
    return "\n".join(parts)


class Scripts:
    """The registered scripts of one Redis client: ``scripts.run("offer", keys, args)`` is one EVALSHA."""

    def __init__(self, client: redis.Redis) -> None:
        self._scripts: dict[str, Script] = {op: client.register_script(source(op)) for op in OPERATIONS}

    def run(self, operation: str, keys: Keys, args: Sequence[Any]) -> Any:
        """Run one operation for the hotline of ``keys`` (EVALSHA, falling back to EVAL once if unloaded)."""
        return self._scripts[operation](keys=[keys.prefix], args=list(args))
